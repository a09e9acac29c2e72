/**
 * Events from the runtime, the provider pool and agents land in one stream and one audit trail: no two of their
 * types (nor the errors and exit reasons that travel with them) may share a tag.
 */
import { assert, describe, it } from "@effect/vitest"
import { MixtureError, MixtureEvent } from "@troupe/providers"
import { ActorError, ExitReason, LifecycleEvent } from "@troupe/runtime"
import * as AgentError from "../src/AgentError.ts"
import * as AgentEvent from "../src/AgentEvent.ts"

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
  it("no event, exit reason or error of the runtime, the pool or an agent shares its tag", () => {
    const agentEvents = AgentEvent.AgentEvent.members.map(tagOf)
    const all = [
      ...agentEvents,
      ...LifecycleEvent.LifecycleEvent.members.map(tagOf),
      tagOf(MixtureEvent.FanOut),
      ...ExitReason.ExitReason.members.map(tagOf),
      ...taggedIn(ActorError).map(tagOf),
      ...taggedIn(AgentError).map(tagOf),
      ...taggedIn(MixtureError).map(tagOf)
    ]
    assert.isAtLeast(agentEvents.length, 16)
    assert.isTrue(agentEvents.every((tag) => tag.startsWith("Agent")))
    assert.include(all, "MixtureFanOut")
    assert.include(all, "RunCrashed")
    const repeated = all.filter((tag, i) => all.indexOf(tag) !== i)
    assert.deepStrictEqual(repeated, [], `tags used twice: ${repeated.join(", ")}`)
  })
})
