/**
 * Every tag the runtime puts in a stream, an exit or an error channel is unique: runtime, provider pool and
 * agent events all land in one audit trail, where a shared tag would be ambiguous.
 */
import { assert, describe, it } from "@effect/vitest"
import { ActorError, ExitReason, LifecycleEvent, Next, Supervisor } from "../src/index.ts"
import { counter } from "./support.ts"

interface Tagged {
  readonly fields: { readonly _tag: { readonly schema: { readonly literal: string } } }
}

const tagOf = (schema: Tagged): string => schema.fields._tag.schema.literal

const isTagged = (u: unknown): u is Tagged =>
  (typeof u === "function" || typeof u === "object") &&
  u !== null &&
  "fields" in u &&
  typeof (u as { fields?: { _tag?: unknown } }).fields?._tag === "function"

describe("tags", () => {
  it("every event, exit reason, error and runtime-made value has a tag of its own", () => {
    const events = LifecycleEvent.LifecycleEvent.members.map(tagOf)
    const reasons = ExitReason.ExitReason.members.map(tagOf)
    const errors = Object.values(ActorError).filter(isTagged).map(tagOf)
    const values = [
      Next.continueWith(0)._tag,
      Next.stop._tag,
      Supervisor.actor("a", counter())._tag,
      Supervisor.supervisor("s", Supervisor.make({}))._tag
    ]
    assert.deepStrictEqual(events, [
      "ActorStarted",
      "ActorRestarted",
      "ActorTerminated",
      "SupervisorGaveUp",
      "MessageDropped"
    ])
    assert.deepStrictEqual(reasons, ["Normal", "Shutdown", "Failed", "Died"])
    assert.strictEqual(errors.length, 12, errors.join(", "))
    const all = [...events, ...reasons, ...errors, ...values]
    const repeated = all.filter((tag, i) => all.indexOf(tag) !== i)
    assert.deepStrictEqual(repeated, [], `tags used twice: ${repeated.join(", ")}`)
  })
})
