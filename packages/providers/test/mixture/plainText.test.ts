/**
 * The mixture answers a request without a toolkit itself, with the winner's decoded parts, instead of encoding
 * them for `LanguageModel` to decode again: the answer must be exactly the one `LanguageModel`'s path gives (a
 * request with an empty toolkit still takes that path), and what `LanguageModel` does around a call (the span
 * transformer) still happens.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as IdGenerator from "effect/ai/IdGenerator"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Response from "effect/ai/Response"
import * as Telemetry from "effect/ai/Telemetry"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Answer from "../../src/mixture/internal/answer.ts"
import * as Mixture from "../../src/mixture/Mixture.ts"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"
import * as OpenAiLanguageModel from "../../src/OpenAiLanguageModel.ts"
import * as Retry from "../../src/Retry.ts"
import * as FakeOpenAi from "../../src/testing/FakeOpenAi.ts"
import * as Scripted from "../../src/testing/ScriptedLanguageModel.ts"
import { member } from "./support.ts"

const adapter = (provider: string, text: string, usage: { readonly input: number; readonly output: number }) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAi.make({ turns: [{ text, usage }] })
    const languageModel = yield* OpenAiLanguageModel.make({
      baseUrl: server.url,
      model: "gpt-5-mini",
      retry: Retry.none
    })
    return { provider, model: "gpt-5-mini", languageModel }
  })

// The fake server numbers its responses: the only part of two answers to the same request that differs.
const withoutResponseId = (content: ReadonlyArray<Response.AnyPart>) =>
  content.map((part) => {
    if (part.type !== "response-metadata") return part
    const { id: _, ...rest } = part
    return rest
  })

const bothWays = (mixture: LanguageModel.LanguageModel) =>
  Effect.gen(function* () {
    const direct = yield* mixture.generateText({ prompt: "What is the capital of France?" })
    const through = yield* mixture.generateText({ prompt: "What is the capital of France?", toolkit: Toolkit.empty })
    return { direct, through }
  })

const scriptedTurns = (n: number, text: string) => Array.from({ length: n }, () => Scripted.text(text))

describe("Mixture, requests without a toolkit", () => {
  it.effect("are answered with the parts LanguageModel's path gives, for every strategy", () =>
    Effect.gen(function* () {
      const alpha = yield* adapter("alpha", "Paris is the capital of France.", { input: 40, output: 8 })
      const beta = yield* adapter("beta", "paris", { input: 40, output: 2 })
      const gamma = yield* Scripted.make(scriptedTurns(8, "Paris is the capital of France."))
      const failing = yield* Scripted.make(
        Array.from({ length: 8 }, () => Scripted.fail(new AiError.InternalProviderError({ description: "down" })))
      )
      const strategies: ReadonlyArray<[Mixture.Strategy, ReadonlyArray<Mixture.Member>]> = [
        [Mixture.weightedScore(), [alpha, beta, member("gamma", gamma)]],
        [Mixture.quorum(2), [alpha, member("gamma", gamma)]],
        [Mixture.fallback({ retries: 0 }), [member("down", failing), beta]],
        [Mixture.firstValid, [member("down", failing), member("gamma", gamma)]]
      ]
      for (const [strategy, members] of strategies) {
        const mixture = yield* Mixture.make({ members, strategy })
        const { direct, through } = yield* bothWays(mixture)
        assert.deepStrictEqual(withoutResponseId(direct.content), withoutResponseId(through.content))
        assert.isDefined(Mixture.decisionOf(direct))
        assert.deepStrictEqual(Mixture.decisionOf(direct), Mixture.decisionOf(through))
      }
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )

  it.effect("a winner's parts are those its encoded answer decodes to, whatever the parts", () =>
    Effect.gen(function* () {
      const answers: ReadonlyArray<ReadonlyArray<Response.PartEncoded>> = [
        [
          { type: "response-metadata", id: "r-1", modelId: "m", timestamp: "2026-11-30T12:00:00.000Z" },
          { type: "reasoning", text: "thinking" },
          { type: "text", text: "Paris." },
          { type: "finish", reason: "stop", usage: { inputTokens: { total: 3 }, outputTokens: { total: 2 } } }
        ],
        // No metadata part: the decision's own is put first.
        [
          { type: "text", text: "Paris." },
          { type: "finish", reason: "length", usage: { inputTokens: {}, outputTokens: {} } }
        ],
        // A part that is not plain text goes through encoding and decoding.
        [
          { type: "source", sourceType: "url", id: "s-1", url: "https://example.com/", title: "Example" },
          { type: "text", text: "Paris." },
          { type: "finish", reason: "stop", usage: { inputTokens: {}, outputTokens: {} } }
        ]
      ]
      for (const encoded of answers) {
        const content = yield* Answer.decodeParts([...encoded])
        const decision: Mixture.Decision = {
          winner: {
            provider: "alpha",
            model: "m",
            weight: 1,
            response: new LanguageModel.GenerateTextResponse(content) as never
          },
          scores: [{ provider: "alpha", score: 0.75 }],
          event: {
            _tag: "MixtureFanOut",
            id: 1,
            strategy: "weighted-score",
            startedAt: 0,
            durationMs: 5,
            winner: { provider: "alpha", model: "m" },
            attempts: [{ provider: "alpha", model: "m", outcome: "won", inputTokens: 3, outputTokens: 2 }]
          }
        }
        const direct = yield* Answer.decoded(decision, "weighted-score")
        const roundTrip = yield* Answer.decodeParts(yield* Answer.encode(decision, "weighted-score"))
        assert.deepStrictEqual(direct, roundTrip)
        assert.strictEqual(direct[0]?.type, "response-metadata")
      }
    })
  )

  it.effect("an answer's parts decode as LanguageModel decodes them, and fail alike", () =>
    Effect.gen(function* () {
      const union = Schema.decodeEffect(Schema.mutable(Schema.Array(Response.Part(Toolkit.empty))))
      const answers: ReadonlyArray<Array<Response.PartEncoded>> = [
        [
          { type: "response-metadata", id: "r-1", modelId: "m", timestamp: "2026-11-30T12:00:00.000Z" },
          { type: "reasoning", text: "thinking", metadata: { openai: { id: "rs_1" } } },
          { type: "text", text: "Paris." },
          {
            type: "finish",
            reason: "stop",
            usage: { inputTokens: { total: 3, uncached: 3 }, outputTokens: { total: 2 } }
          }
        ],
        [
          { type: "source", sourceType: "url", id: "s-1", url: "https://example.com/", title: "Example" },
          { type: "text", text: "Paris." }
        ],
        // Not decodable: a finish reason no provider protocol has, a timestamp that is not one.
        [
          { type: "text", text: "Paris." },
          { type: "finish", reason: "done" as never, usage: { inputTokens: {}, outputTokens: {} } }
        ],
        [{ type: "response-metadata", timestamp: "yesterday" }],
        // The shapes read without the schemas, and their neighbours that are left to them.
        [{ type: "response-metadata" }, { type: "text", text: "Paris.", metadata: undefined }],
        [{ type: "response-metadata", id: undefined, modelId: undefined, timestamp: undefined }],
        [{ type: "response-metadata", timestamp: "2026-11-30T14:00:00+02:00", extra: 1 } as never],
        [{ type: "response-metadata", id: 7 as never }],
        [{ type: "text", text: "Paris.", metadata: {} }],
        [{ type: "text", text: 7 as never }],
        [
          {
            type: "finish",
            reason: "tool-calls",
            usage: { inputTokens: { cacheRead: 1, cacheWrite: undefined }, outputTokens: { reasoning: 4 } }
          }
        ],
        [{ type: "finish", reason: "stop", usage: { inputTokens: {}, outputTokens: {} }, response: undefined }],
        [{ type: "finish", reason: "stop", usage: { inputTokens: { total: 1.5 }, outputTokens: {} } }],
        [{ type: "finish", reason: "stop", usage: { inputTokens: { other: 1 } as never, outputTokens: {} } }],
        [{ type: "finish", reason: "stop", usage: { inputTokens: {} } as never }],
        [{ type: "finish", reason: "stop", usage: { inputTokens: null, outputTokens: {} } as never }],
        [{ type: "finish", reason: "stop", usage: { inputTokens: {}, outputTokens: {} }, metadata: { a: { b: 1 } } }]
      ]
      for (const parts of answers) {
        const expected = yield* Effect.result(union(parts))
        const actual = yield* Effect.result(Answer.decodeParts(parts))
        if (expected._tag === "Success") {
          assert.deepStrictEqual(actual, expected)
          // Down to the classes of the values (the usage, the timestamp).
          assert.isTrue(Equal.equals(actual, expected))
        } else assert.strictEqual(actual._tag === "Failure" && actual.failure.message, expected.failure.message)
      }
    })
  )

  it.effect(
    "a member's call runs under the mixture's span and stack frame, with its id generator, as through LanguageModel",
    () =>
      Effect.gen(function* () {
        const seen: Array<{ parent: string | undefined; frame: string | undefined; ids: boolean }> = []
        const recording = yield* LanguageModel.make({
          generateText: (options) =>
            Effect.gen(function* () {
              const parent = options.span.parent
              const frame = yield* References.CurrentStackFrame
              const ids = yield* Effect.serviceOption(IdGenerator.IdGenerator)
              seen.push({
                parent: parent._tag === "Some" && parent.value._tag === "Span" ? parent.value.name : undefined,
                frame: frame?.parent?.name,
                ids: ids._tag === "Some"
              })
              return [
                { type: "text", text: "Paris." },
                { type: "finish", reason: "stop", usage: { inputTokens: {}, outputTokens: {} } }
              ]
            }),
          streamText: () => Stream.empty
        })
        const mixture = yield* Mixture.make({
          members: [{ provider: "a", model: "m", languageModel: recording }],
          strategy: Mixture.firstValid
        })
        yield* bothWays(mixture)
        assert.lengthOf(seen, 2)
        assert.deepStrictEqual(seen[0], seen[1])
        assert.deepStrictEqual(seen[0], {
          parent: "LanguageModel.generateText",
          frame: "LanguageModel.generateText",
          ids: true
        })
      }).pipe(Effect.provide(ProviderPool.layerTest))
  )

  it.effect("the span transformer in the context sees the request and the answer, as through LanguageModel", () =>
    Effect.gen(function* () {
      const a = yield* Scripted.make(scriptedTurns(2, "Paris."))
      const mixture = yield* Mixture.make({ members: [member("a", a)], strategy: Mixture.firstValid })
      const seen: Array<{ readonly prompt: unknown; readonly response: ReadonlyArray<unknown> }> = []
      const observed = Effect.provideService(Telemetry.CurrentSpanTransformer, (options) => {
        seen.push({ prompt: options.prompt, response: options.response })
      })
      const { direct, through } = yield* bothWays(mixture).pipe(observed)
      // The member's own `LanguageModel` and the mixture's, each way.
      assert.lengthOf(seen, 4)
      assert.strictEqual(seen[1]?.response, direct.content)
      assert.strictEqual(seen[3]?.response, through.content)
      assert.deepStrictEqual(seen[1]?.prompt, seen[3]?.prompt)
    }).pipe(Effect.provide(ProviderPool.layerTest))
  )
})
