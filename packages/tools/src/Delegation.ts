/**
 * Handing a task to another agent of the team: the `delegate` tool's service. The orchestrator implements it
 * (spawning or reaching the named agent and waiting for its result); a test uses `TestDelegation` from
 * `@troupe/tools/testing`. The tool checks the spec's `agents` list before the service is asked; the service
 * fails with `DelegationFailed` for an agent the team does not have.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Delegation } from "@troupe/tools"
 *
 * const echo = Delegation.layer((agent, task) => Effect.succeed(`${agent} did: ${task}`))
 * ```
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { DelegationFailed } from "./ToolError.ts"

/** Hands tasks to the agents of a team. */
export interface Service {
  /** Runs `task` on the agent named `agent` and returns its result. */
  readonly delegate: (agent: string, task: string) => Effect.Effect<string, DelegationFailed>
}

/** Hands tasks to the agents of a team. */
export class Delegation extends Context.Service<Delegation, Service>()("@troupe/tools/Delegation") {}

/** A {@link Delegation} that runs `delegate`. */
export const layer = (delegate: Service["delegate"]): Layer.Layer<Delegation> =>
  Layer.succeed(Delegation, Delegation.of({ delegate }))
