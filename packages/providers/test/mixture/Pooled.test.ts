import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Mixture from "../../src/mixture/Mixture.ts"
import * as Pooled from "../../src/mixture/Pooled.ts"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"
import * as Scripted from "../../src/testing/ScriptedLanguageModel.ts"

const ask = (model: LanguageModel.LanguageModel) =>
  LanguageModel.generateText({ prompt: "Say hi" }).pipe(Effect.provideService(LanguageModel.LanguageModel, model))

const member = (turns: ReadonlyArray<Scripted.Turn>) =>
  Effect.map(Scripted.make(turns), (handle) => ({
    provider: "openai",
    model: "gpt-5-mini",
    languageModel: handle.languageModel
  }))

describe("Pooled", () => {
  it.effect("answers through the pool, which accounts the call; the answer reports its one charge", () =>
    Effect.gen(function* () {
      const model = yield* Pooled.make(
        yield* member([Scripted.text("hi", { usage: { inputTokens: 1000, outputTokens: 500 } })])
      )
      const response = yield* ask(model)
      assert.strictEqual(response.text, "hi")
      // gpt-5-mini lists at $0.25 in and $2 out per million tokens: 1000 * 0.25e-6 + 500 * 2e-6 = 0.00125.
      const decision = Mixture.decisionOf(response)!
      assert.strictEqual(decision.strategy, "single")
      assert.deepStrictEqual(decision.charges, [
        {
          provider: "openai",
          model: "gpt-5-mini",
          inputTokens: 1000,
          outputTokens: 500,
          costUsd: 0.00125,
          estimated: false
        }
      ])
      const [usage] = yield* (yield* ProviderPool.ProviderPool).usage
      assert.strictEqual(usage!.requests, 1)
      assert.strictEqual(usage!.inputTokens, 1000)
      assert.strictEqual((yield* (yield* ProviderPool.ProviderPool).recent(10)).length, 0)
    }).pipe(Effect.provide(ProviderPool.layer()))
  )

  it.effect("the provider's own failure passes through; an open breaker becomes an AiError naming it", () =>
    Effect.gen(function* () {
      const outage = new AiError.InternalProviderError({ description: "503 from upstream" })
      const model = yield* Pooled.make(yield* member([Scripted.fail(outage), Scripted.text("never")]))
      const first = yield* Effect.flip(ask(model))
      assert.strictEqual(first.reason._tag, "InternalProviderError")
      assert.isUndefined(Mixture.failureOf(first))
      const second = yield* Effect.flip(ask(model))
      const failed = Mixture.failureOf(second)!
      assert.strictEqual(failed.strategy, "single")
      assert.deepStrictEqual(
        failed.failures.map((f) => [f.provider, f.reason]),
        [["openai", "CircuitOpen"]]
      )
    }).pipe(Effect.provide(ProviderPool.layer({ breaker: { failureThreshold: 1, cooldown: "1 minute" } })))
  )
})
