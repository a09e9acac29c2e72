import { assert, describe, it } from "@effect/vitest"
import { TextDeltas } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as StepText from "../src/StepText.ts"

const delta = (step: number, text: string, agent = "coder") => ({ runId: "r1", agent, step, delta: text })
const end = (step: number, agent = "coder") => ({ runId: "r1", agent, step, delta: "", end: true as const })

describe("StepText", () => {
  it.effect("prints each delta as it comes, safe even when an escape sequence is split; ends the step's line", () =>
    Effect.gen(function* () {
      const hub = yield* TextDeltas.make
      const out: Array<string> = []
      const steps: Array<string> = []
      const printer = yield* StepText.make({
        agent: "coder",
        write: (text) => void out.push(text),
        afterStep: () => void steps.push(out.join(""))
      }).pipe(Effect.provideService(TextDeltas.TextDeltas, hub))
      yield* hub.publish(delta(1, "\n  Hello \u001b]0;ti"))
      yield* hub.publish(delta(1, "tle\u0007there"))
      yield* hub.publish(delta(2, "not mine", "other"))
      yield* hub.publish(delta(1, " \u001b[31mred\u001b[0m"))
      yield* hub.publish(end(1))
      const streamed = yield* printer.ended(1)
      // What the model sent, as it sent it; what reached the screen, without a control sequence.
      assert.strictEqual(streamed, "\n  Hello \u001b]0;title\u0007there \u001b[31mred\u001b[0m")
      assert.strictEqual(out.join(""), "Hello there red\n")
      assert.deepStrictEqual(steps, ["Hello there red\n"])
      assert.notInclude(out.join(""), "\u001b")
    })
  )

  it.effect("a line printed meanwhile starts on a line of its own; an unstreamed step reads as such", () =>
    Effect.gen(function* () {
      const hub = yield* TextDeltas.make
      const out: Array<string> = []
      const printer = yield* StepText.make({ agent: "coder", write: (text) => void out.push(text) }).pipe(
        Effect.provideService(TextDeltas.TextDeltas, hub)
      )
      yield* hub.publish(delta(1, "Half a sentence"))
      while (out.length === 0) yield* Effect.yieldNow
      yield* printer.closeLine
      out.push("  fs_read notes.txt\n")
      yield* printer.closeLine
      yield* hub.publish(delta(1, " and the rest."))
      yield* hub.publish(end(1))
      assert.strictEqual(yield* printer.ended(1), "Half a sentence and the rest.")
      assert.strictEqual(out.join(""), "Half a sentence\n  fs_read notes.txt\nand the rest.\n")
      // A replayed step publishes only its end: nothing was streamed, and the caller prints the step's text itself.
      yield* hub.publish(end(2))
      assert.strictEqual(yield* printer.ended(2), "")
    })
  )
})
