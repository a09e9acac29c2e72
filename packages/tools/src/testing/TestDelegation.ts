/**
 * A scripted `Delegation` for tests: a team of agents, each a function from task to result, recording every
 * delegation.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Delegation from "../Delegation.ts"
import { DelegationFailed } from "../ToolError.ts"

/** A scripted team: the delegations made so far, and the service. */
export interface TestDelegation {
  readonly delegations: ReadonlyArray<{ readonly agent: string; readonly task: string }>
  readonly service: Delegation.Service
}

/** A team whose members are `agents` (name → what it returns for a task); other names fail. */
export const make = (agents: Readonly<Record<string, (task: string) => string>>): TestDelegation => {
  const delegations: Array<{ agent: string; task: string }> = []
  const service = Delegation.Delegation.of({
    delegate: (agent, task) =>
      Effect.suspend(() => {
        delegations.push({ agent, task })
        const member = Object.hasOwn(agents, agent) ? agents[agent] : undefined
        return member === undefined
          ? Effect.fail(new DelegationFailed({ agent, reason: "no such agent in the team" }))
          : Effect.succeed(member(task))
      })
  })
  return { delegations, service }
}

/** A `Delegation` over the team `agents` (see {@link make}). */
export const layer = (agents: Readonly<Record<string, (task: string) => string>>): Layer.Layer<Delegation.Delegation> =>
  Layer.succeed(Delegation.Delegation, make(agents).service)
