/**
 * A pooled single model streams as the provider sends (over the real OpenAI adapter and a fake server that holds
 * the rest of its answer until the test has seen the first delta), and the pool accounts the stream when it ends,
 * fails midway, or is given up by its reader.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Response from "effect/ai/Response"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Mixture from "../../src/mixture/Mixture.ts"
import * as Pooled from "../../src/mixture/Pooled.ts"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"
import * as OpenAiLanguageModel from "../../src/OpenAiLanguageModel.ts"
import * as Retry from "../../src/Retry.ts"
import * as FakeOpenAi from "../../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../../src/testing/FakeServer.ts"
import * as Scripted from "../../src/testing/ScriptedLanguageModel.ts"

const answer = "Hello there, streaming world"

const pooledOver = (server: FakeServer.FakeServer) =>
  Effect.gen(function* () {
    const adapter = yield* OpenAiLanguageModel.make({
      baseUrl: server.url,
      apiKey: Redacted.make("sk-test"),
      model: "gpt-5-mini",
      retry: Retry.none
    })
    return yield* Pooled.make({ provider: "openai", model: "gpt-5-mini", languageModel: adapter })
  })

const stream = (model: LanguageModel.LanguageModel) =>
  LanguageModel.streamText({ prompt: "Say hi" }).pipe(Stream.provideService(LanguageModel.LanguageModel, model))

const textOf = (parts: ReadonlyArray<Response.AnyPart>) =>
  parts.map((p) => (p.type === "text-delta" ? p.delta : "")).join("")

describe("Pooled streamText", () => {
  it.live("streams the first delta while the server holds the rest; accounted once the stream ends", () =>
    Effect.gen(function* () {
      const gate = FakeServer.gate()
      // Event 0 is the role chunk, event 1 the first four characters: the server holds everything after them.
      const server = yield* FakeOpenAi.make({
        turns: [{ text: answer, usage: { input: 1000, output: 500 } }],
        faults: [FakeServer.hold(2, gate)]
      })
      const pool = yield* ProviderPool.ProviderPool
      const model = yield* pooledOver(server)
      const first = yield* Deferred.make<string>()
      const reading = yield* stream(model).pipe(
        Stream.tap((part) => (part.type === "text-delta" ? Deferred.succeed(first, part.delta) : Effect.void)),
        Stream.runCollect,
        Effect.forkChild
      )
      assert.strictEqual(yield* Deferred.await(first), "Hell")
      // Seen while the server still holds the answer: the request is open, and nothing is accounted yet.
      assert.strictEqual(server.requests[0]!.state, "open")
      assert.isFalse(gate.isOpen())
      assert.deepStrictEqual(yield* pool.usage, [])
      yield* gate.open
      const parts = Array.from(yield* Fiber.join(reading)) as Array<Response.AnyPart>
      assert.strictEqual(textOf(parts), answer)
      // The decision comes last, just before the finish, and reads back as a generateText answer's does.
      assert.deepStrictEqual(
        parts.slice(-2).map((p) => p.type),
        ["response-metadata", "finish"]
      )
      const decision = Mixture.decisionOf({ content: parts })!
      assert.strictEqual(decision.strategy, "single")
      // gpt-5-mini: 1000 * 0.25e-6 + 500 * 2e-6 = 0.00125
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
      const [usage] = yield* pool.usage
      assert.deepStrictEqual(
        [usage!.requests, usage!.successes, usage!.failures, usage!.inputTokens, usage!.outputTokens],
        [1, 1, 0, 1000, 500]
      )
      assert.closeTo(usage!.costUsd, 0.00125, 1e-12)
      assert.strictEqual((yield* pool.breaker("openai").state)._tag, "Closed")
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )

  it.live("a stream failing midway fails, counts against the breaker and is charged an estimate", () =>
    Effect.gen(function* () {
      // The text is sent (paced, so that it reaches the client), then the connection is cut before the finish.
      const server = yield* FakeOpenAi.make({
        turns: [{ text: answer }],
        faults: [FakeServer.destroy],
        chunkDelayMs: 2
      })
      const pool = yield* ProviderPool.ProviderPool
      const model = yield* pooledOver(server)
      const seen: Array<string> = []
      const error = yield* stream(model).pipe(
        Stream.runForEach((part) => Effect.sync(() => part.type === "text-delta" && seen.push(part.delta))),
        Effect.flip
      )
      assert.strictEqual(seen.join(""), answer)
      assert.strictEqual(error._tag, "AiError")
      const [usage] = yield* pool.usage
      // "Say hi" is about 2 tokens in; 28 characters are about 7 tokens out.
      assert.deepStrictEqual(
        [usage!.requests, usage!.successes, usage!.failures, usage!.inputTokens, usage!.outputTokens],
        [1, 0, 1, 2, 7]
      )
      assert.strictEqual((yield* pool.breaker("openai").state)._tag, "Open")
      const refused = yield* stream(model).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(Mixture.failureOf(refused)?.failures[0]?.reason, "CircuitOpen")
      assert.strictEqual(server.requests.length, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide([
        ProviderPool.layer({ breaker: { failureThreshold: 1, cooldown: "1 minute" } }),
        NodeHttpClient.layerUndici
      ])
    )
  )

  it.effect("a stream that reports no usage is charged an estimate, and its charge says so", () =>
    Effect.gen(function* () {
      const scripted = yield* Scripted.make([
        // Stream parts, which the scripted model's streamText sends as they are: no finish, so no usage.
        Scripted.parts([
          { type: "text-start", id: "t" },
          { type: "text-delta", id: "t", delta: "hello world!" },
          { type: "text-end", id: "t" }
        ] as never)
      ])
      const model = yield* Pooled.make({
        provider: "openai",
        model: "gpt-5-mini",
        languageModel: scripted.languageModel
      })
      const parts = Array.from(yield* Stream.runCollect(stream(model))) as Array<Response.AnyPart>
      assert.strictEqual(textOf(parts), "hello world!")
      // "Say hi" is about 2 tokens in, 12 characters about 3 out: 2 * 0.25e-6 + 3 * 2e-6.
      const [charge] = Mixture.decisionOf({ content: parts })!.charges!
      assert.deepStrictEqual([charge!.inputTokens, charge!.outputTokens, charge!.estimated], [2, 3, true])
      assert.closeTo(charge!.costUsd!, 6.5e-6, 1e-12)
      const [usage] = yield* (yield* ProviderPool.ProviderPool).usage
      assert.deepStrictEqual([usage!.successes, usage!.inputTokens, usage!.outputTokens], [1, 2, 3])
    }).pipe(Effect.provide(ProviderPool.layer()))
  )

  it.live("a reader that stops early cancels the stream: charged an estimate, the breaker untouched", () =>
    Effect.gen(function* () {
      const gate = FakeServer.gate()
      const server = yield* FakeOpenAi.make({ turns: [{ text: answer }], faults: [FakeServer.hold(2, gate)] })
      const pool = yield* ProviderPool.ProviderPool
      const model = yield* pooledOver(server)
      const parts = yield* stream(model).pipe(
        Stream.filter((part) => part.type === "text-delta"),
        Stream.take(1),
        Stream.runCollect
      )
      assert.strictEqual(parts.length, 1)
      assert.strictEqual(yield* server.settled(0), "aborted")
      const [usage] = yield* pool.usage
      assert.deepStrictEqual(
        [usage!.requests, usage!.successes, usage!.failures, usage!.cancelled, usage!.inputTokens, usage!.outputTokens],
        [1, 0, 0, 1, 2, 1]
      )
      assert.strictEqual((yield* pool.breaker("openai").state)._tag, "Closed")
    }).pipe(
      Effect.scoped,
      Effect.provide([
        ProviderPool.layer({ breaker: { failureThreshold: 1, cooldown: "1 minute" } }),
        NodeHttpClient.layerUndici
      ])
    )
  )
})
