import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import * as ScriptedLanguageModel from "../../src/testing/ScriptedLanguageModel.ts"

const Lookup = Tool.make("lookup", { parameters: Schema.Struct({ city: Schema.String }), success: Schema.String })
const tools = Toolkit.make(Lookup)

describe("ScriptedLanguageModel", () => {
  it.effect("replays text turns in order and records the prompts", () =>
    Effect.gen(function* () {
      const handle = yield* ScriptedLanguageModel.make([
        ScriptedLanguageModel.text("one"),
        ScriptedLanguageModel.text("two")
      ])
      const a = yield* handle.languageModel.generateText({ prompt: "first" })
      const b = yield* handle.languageModel.generateText({ prompt: "second" })
      assert.strictEqual(a.text, "one")
      assert.strictEqual(b.text, "two")
      assert.strictEqual(a.finishReason, "stop")
      assert.isAbove(a.usage.inputTokens.total ?? 0, 0)
      const prompts = yield* handle.prompts
      assert.deepStrictEqual(
        prompts.map((p) => ScriptedLanguageModel.promptText(p).trim()),
        ["first", "second"]
      )
      const exhausted = yield* Effect.flip(handle.languageModel.generateText({ prompt: "third" }))
      assert.strictEqual(exhausted.reason._tag, "UnknownError")
    })
  )

  it.effect("scripts tool calls, refusals and failures", () =>
    Effect.gen(function* () {
      const handle = yield* ScriptedLanguageModel.make([
        ScriptedLanguageModel.toolCalls([{ name: "lookup", params: { city: "Paris" } }]),
        ScriptedLanguageModel.refusal(),
        ScriptedLanguageModel.fail(new AiError.AuthenticationError({ kind: "InvalidKey" }))
      ])
      const call = yield* handle.languageModel.generateText({
        prompt: "weather?",
        toolkit: tools,
        disableToolCallResolution: true
      })
      assert.strictEqual(call.toolCalls[0]?.name, "lookup")
      assert.deepStrictEqual(call.toolCalls[0]?.params, { city: "Paris" })
      const refusal = yield* handle.languageModel.generateText({ prompt: "bad" })
      assert.strictEqual(refusal.finishReason, "content-filter")
      const error = yield* Effect.flip(handle.languageModel.generateText({ prompt: "x" }))
      assert.strictEqual(error.reason._tag, "AuthenticationError")
      const requests = yield* handle.requests
      assert.deepStrictEqual(
        requests[0]?.tools.map((t) => t.name),
        ["lookup"]
      )
    })
  )

  it.effect("streams text in chunks and cycles when asked", () =>
    Effect.gen(function* () {
      const handle = yield* ScriptedLanguageModel.make([ScriptedLanguageModel.text("hello streaming world")], {
        chunkSize: 5,
        cycle: true
      })
      for (let round = 0; round < 2; round++) {
        const parts = yield* Stream.runCollect(handle.languageModel.streamText({ prompt: "go" }))
        const deltas = parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : []))
        assert.deepStrictEqual(deltas, ["hello", " stre", "aming", " worl", "d"])
        assert.strictEqual(parts.at(-1)?.type, "finish")
      }
    })
  )

  it.effect("delays answers on the clock and counts interruptions", () =>
    Effect.gen(function* () {
      const handle = yield* ScriptedLanguageModel.make([
        ScriptedLanguageModel.delayed("1 second", ScriptedLanguageModel.text("late")),
        ScriptedLanguageModel.hang
      ])
      const fiber = yield* Effect.forkChild(handle.languageModel.generateText({ prompt: "wait" }))
      yield* TestClock.adjust("999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const late = yield* Fiber.join(fiber)
      assert.strictEqual(late.text, "late")
      const hung = yield* Effect.forkChild(handle.languageModel.generateText({ prompt: "never" }))
      yield* TestClock.adjust("1 hour")
      yield* Fiber.interrupt(hung)
      assert.strictEqual(yield* handle.interruptions, 1)
      assert.strictEqual(yield* handle.completed, 1)
    })
  )

  it.effect("provides LanguageModel through its layer", () =>
    LanguageModel.generateText({ prompt: "hi" }).pipe(
      Effect.map((r) => assert.strictEqual(r.text, "layered")),
      Effect.provide(ScriptedLanguageModel.layer([ScriptedLanguageModel.text("layered")]))
    )
  )
})
