/**
 * A job's event stream carries the agents' and the orchestrator's events and ends with `JobEnded`; the server's errors
 * travel beside them in answers. No two of them may share a tag with the runtime's, the pool's, an agent's or the
 * orchestrator's events, errors and exit reasons.
 */
import { assert, describe, it } from "@effect/vitest"
import { AgentError, AgentEvent } from "@troupe/agent"
import { OrchestratorError, OrchestratorEvent } from "@troupe/orchestrator"
import { MixtureError, MixtureEvent } from "@troupe/providers"
import { ActorError, ExitReason, LifecycleEvent } from "@troupe/runtime"
import { AgentTools, Server, ServerApi, Tokens } from "../src/index.ts"

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

describe("the server's tags", () => {
  it("JobEnded and the server's errors share no tag with any event, error or exit reason of the other packages", () => {
    const ours = ["JobEnded", ...[ServerApi, Tokens, AgentTools, Server].flatMap(taggedIn).map(tagOf)]
    assert.includeMembers(ours, ["Unauthorized", "NotFound", "InvalidRequest", "Conflict", "ServerFailure"])
    const others = [
      ...OrchestratorEvent.OrchestratorEvent.members.map(tagOf),
      ...taggedIn(OrchestratorError).map(tagOf),
      ...AgentEvent.AgentEvent.members.map(tagOf),
      ...LifecycleEvent.LifecycleEvent.members.map(tagOf),
      tagOf(MixtureEvent.FanOut),
      ...ExitReason.ExitReason.members.map(tagOf),
      ...taggedIn(ActorError).map(tagOf),
      ...taggedIn(AgentError).map(tagOf),
      ...taggedIn(MixtureError).map(tagOf)
    ]
    assert.deepStrictEqual(
      ours.filter((tag) => others.includes(tag)),
      []
    )
    assert.strictEqual(new Set(ours).size, ours.length)
  })
})
