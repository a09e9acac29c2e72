/**
 * The orchestrator's events share one stream and one audit trail with the runtime's, the pool's and the agents':
 * no two of their types, nor the errors and exit reasons that travel with them, may share a tag.
 */
import { assert, describe, it } from "@effect/vitest"
import { AgentError, AgentEvent } from "@troupe/agent"
import { MixtureError, MixtureEvent } from "@troupe/providers"
import { ActorError, ExitReason, LifecycleEvent } from "@troupe/runtime"
import * as OrchestratorError from "../src/OrchestratorError.ts"
import * as OrchestratorEvent from "../src/OrchestratorEvent.ts"

interface Tagged {
  readonly fields: { readonly _tag: { readonly schema: { readonly literal: string } } }
}

const tagOf = (schema: Tagged): string => schema.fields._tag.schema.literal

const isTagged = (u: unknown): u is Tagged =>
  (typeof u === "function" || typeof u === "object") &&
  u !== null &&
  "fields" in u &&
  typeof (u as { fields?: { _tag?: unknown } }).fields?._tag === "function"

const taggedIn = (module: object): Array<Tagged> => (Object.values(module) as Array<unknown>).filter(isTagged)

describe("tags across packages", () => {
  it("no event, exit reason or error of the runtime, the pool, an agent or the orchestrator shares its tag", () => {
    const ours = OrchestratorEvent.OrchestratorEvent.members.map(tagOf)
    const all = [
      ...ours,
      ...taggedIn(OrchestratorError).map(tagOf),
      ...AgentEvent.AgentEvent.members.map(tagOf),
      ...LifecycleEvent.LifecycleEvent.members.map(tagOf),
      tagOf(MixtureEvent.FanOut),
      ...ExitReason.ExitReason.members.map(tagOf),
      ...taggedIn(ActorError).map(tagOf),
      ...taggedIn(AgentError).map(tagOf),
      ...taggedIn(MixtureError).map(tagOf)
    ]
    assert.isAtLeast(ours.length, 8)
    assert.isTrue(ours.every((tag) => tag.startsWith("Orchestration")))
    assert.include(all, "SubtaskFailed")
    assert.include(all, "TeamBudgetExceeded")
    const repeated = all.filter((tag, i) => all.indexOf(tag) !== i)
    assert.deepStrictEqual(repeated, [], `tags used twice: ${repeated.join(", ")}`)
  })
})
