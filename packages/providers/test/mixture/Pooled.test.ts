import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Answer from "../../src/mixture/internal/answer.ts"
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

  it("an annotated answer's decision reads as its schema admits it, whether or not it was made here", () => {
    const charge = { provider: "openai", model: "gpt-5-mini", inputTokens: 10, outputTokens: 2, estimated: false }
    const summary = { provider: "openai", model: "gpt-5-mini", strategy: "single", scores: [], charges: [charge] }
    const read = (s: typeof summary) => Mixture.decisionOf({ content: Answer.annotate([{ type: "text" }], s) })
    assert.deepStrictEqual(read(summary), summary)
    // Not an integer count of tokens: the schema rejects it, so no decision is read.
    assert.isUndefined(read({ ...summary, charges: [{ ...charge, inputTokens: 10.5 }] }))
    assert.isUndefined(read({ ...summary, scores: [{ provider: "openai", score: Number.NaN }] as never }))
    // The same summary copied (as a decode of the answer's metadata copies it) reads alike.
    const copied = JSON.parse(JSON.stringify(summary))
    assert.deepStrictEqual(
      Mixture.decisionOf({ content: [{ type: "response-metadata", metadata: { mixture: copied } }] as never }),
      summary
    )
  })

  it.effect("an object is read as the adapter's own LanguageModel reads it: the value, the parts, the failures", () =>
    Effect.gen(function* () {
      const Person = Schema.Struct({ name: Schema.String, age: Schema.Int })
      const answers = [
        JSON.stringify({ name: "Ada", age: 36 }),
        "not json {",
        JSON.stringify({ name: "Ada", age: 3.5 })
      ]
      // Each answer twice: once for the adapter, once for the pooled model over it.
      const server = yield* FakeOpenAi.make({ turns: answers.flatMap((text) => [{ text }, { text }]) })
      const adapter = yield* OpenAiLanguageModel.make({
        baseUrl: server.url,
        apiKey: Redacted.make("sk-test"),
        model: "gpt-5-mini",
        retry: Retry.none
      })
      const model = yield* Pooled.make({ provider: "openai", model: "gpt-5-mini", languageModel: adapter })
      const object = (languageModel: LanguageModel.LanguageModel) =>
        Effect.result(
          LanguageModel.generateObject({ prompt: "Who?", schema: Person, objectName: "person" }).pipe(
            Effect.provideService(LanguageModel.LanguageModel, languageModel)
          )
        )
      // The parts without the pooled answer's decision summary (the adapter's has none) and the answer's id.
      const withoutDecision = (parts: ReadonlyArray<{ readonly type: string }>) =>
        parts.map((part) =>
          part.type === "response-metadata"
            ? {
                ...part,
                id: undefined,
                metadata: { ...(part as unknown as { readonly metadata: object }).metadata, mixture: undefined }
              }
            : part
        )
      const outcomes: Array<string> = []
      for (const _ of answers) {
        const direct = yield* object(adapter)
        const pooled = yield* object(model)
        assert.strictEqual(pooled._tag, direct._tag)
        if (direct._tag === "Success" && pooled._tag === "Success") {
          assert.deepStrictEqual(pooled.success.value, direct.success.value)
          assert.deepStrictEqual(withoutDecision(pooled.success.content), withoutDecision(direct.success.content))
          assert.strictEqual(Mixture.decisionOf(pooled.success)!.strategy, "single")
          outcomes.push(`value ${JSON.stringify(pooled.success.value)}`)
        }
        if (direct._tag === "Failure" && pooled._tag === "Failure") {
          assert.strictEqual(pooled.failure.reason._tag, direct.failure.reason._tag)
          assert.strictEqual(pooled.failure.message, direct.failure.message)
          outcomes.push(pooled.failure.reason._tag)
        }
      }
      assert.deepStrictEqual(outcomes, [
        `value {"name":"Ada","age":36}`,
        "StructuredOutputError",
        "StructuredOutputError"
      ])
      assert.strictEqual(server.requests.length, 6)
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )
})
