import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Mixture from "../../src/mixture/Mixture.ts"
import * as Pooled from "../../src/mixture/Pooled.ts"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"
import * as OpenAiLanguageModel from "../../src/OpenAiLanguageModel.ts"
import * as Retry from "../../src/Retry.ts"
import * as FakeOpenAi from "../../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../../src/testing/FakeServer.ts"
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

  it.effect("over one of our adapters: the adapter's own answer, accounted, and its errors scrubbed of the key", () =>
    Effect.gen(function* () {
      const key = "sk-pooled-secret-0123456789"
      const server = yield* FakeOpenAi.make({
        turns: [{ text: "over the wire", usage: { input: 2000, output: 100 } }],
        faults: [undefined, FakeServer.status(401, { message: `bad key ${key}` })]
      })
      const adapter = yield* OpenAiLanguageModel.make({
        baseUrl: server.url,
        apiKey: Redacted.make(key),
        model: "gpt-5-mini",
        retry: Retry.none
      })
      const model = yield* Pooled.make({ provider: "openai", model: "gpt-5-mini", languageModel: adapter })
      const response = yield* ask(model)
      assert.strictEqual(response.text, "over the wire")
      // 2000 * 0.25e-6 + 100 * 2e-6 = 0.0007
      assert.closeTo(Mixture.decisionOf(response)!.charges![0]!.costUsd!, 0.0007, 1e-12)
      const [usage] = yield* (yield* ProviderPool.ProviderPool).usage
      assert.strictEqual(usage!.inputTokens, 2000)
      const error = yield* Effect.flip(ask(model))
      assert.strictEqual(error.reason._tag, "AuthenticationError")
      assert.notInclude(JSON.stringify(error), key)
      assert.notInclude(error.message, key)
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )
})
