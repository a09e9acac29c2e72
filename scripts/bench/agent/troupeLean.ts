/**
 * Troupe lean: the `troupe` runner's agents with the plan and the reflections left out by their spec
 * (`planning.enabled: false`, `reflection: { everySteps: 0, beforeAnswer: false }`), so that a run makes the same 11
 * model calls as the peers: what the runtime costs for the peers' own work. A failing step would still be reflected
 * on; this task has none.
 */
import { makeWith } from "./troupe.ts"

export const make = makeWith({ planning: { enabled: false }, reflection: { everySteps: 0, beforeAnswer: false } })
