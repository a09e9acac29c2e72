/**
 * The mixture over our own HTTP adapters, whose plain text answers it takes directly from the adapter (one decoder
 * compiled once, the winner's parts not encoded again): the answer, its decision and its accounting are those of
 * the general path, and an answer the request cannot hold still fails its provider only.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Mixture from "../../src/mixture/Mixture.ts"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"
import * as OpenAiLanguageModel from "../../src/OpenAiLanguageModel.ts"
import * as Retry from "../../src/Retry.ts"
import * as FakeOpenAi from "../../src/testing/FakeOpenAi.ts"
import type * as FakeServer from "../../src/testing/FakeServer.ts"

const adapterMember = (provider: string, turns: ReadonlyArray<FakeServer.Turn>) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAi.make({ turns })
    const languageModel = yield* OpenAiLanguageModel.make({
      baseUrl: server.url,
      model: "gpt-5-mini",
      retry: Retry.none
    })
    return { member: { provider, model: "gpt-5-mini", languageModel }, server }
  })

const withModel = (model: LanguageModel.LanguageModel) => Effect.provideService(LanguageModel.LanguageModel, model)

describe("Mixture over HTTP adapters", () => {
  it.effect("a plain text turn: the winner's own answer, its decision and every member's charge", () =>
    Effect.gen(function* () {
      const a = yield* adapterMember("alpha", [
        { text: "Paris is the capital of France.", usage: { input: 40, output: 8 } }
      ])
      const b = yield* adapterMember("beta", [{ text: "paris", usage: { input: 40, output: 2 } }])
      const mixture = yield* Mixture.make({ members: [a.member, b.member], strategy: Mixture.weightedScore() })
      const response = yield* LanguageModel.generateText({ prompt: "What is the capital of France?" }).pipe(
        withModel(mixture)
      )
      assert.strictEqual(response.text, "Paris is the capital of France.")
      const finish = response.content.find((p) => p.type === "finish")
      assert.strictEqual(finish?.usage.inputTokens.total, 40)
      const decision = Mixture.decisionOf(response)!
      assert.strictEqual(decision.provider, "alpha")
      assert.strictEqual(decision.strategy, "weighted-score")
      assert.deepStrictEqual(
        decision.charges!.map((c) => [c.provider, c.inputTokens, c.outputTokens, c.estimated]),
        [
          ["alpha", 40, 8, false],
          ["beta", 40, 2, false]
        ]
      )
      assert.strictEqual(a.server.requests.length + b.server.requests.length, 2)
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )

  it.effect("a member that calls a tool nobody declared fails alone; the other answers", () =>
    Effect.gen(function* () {
      const rogue = yield* adapterMember("rogue", [{ toolCalls: [{ name: "rm_rf", arguments: { path: "/" } }] }])
      const sane = yield* adapterMember("sane", [{ text: "Nothing to do." }])
      const mixture = yield* Mixture.make({ members: [rogue.member, sane.member], strategy: Mixture.weightedScore() })
      const response = yield* LanguageModel.generateText({ prompt: "Tidy up" }).pipe(withModel(mixture))
      assert.strictEqual(response.text, "Nothing to do.")
      assert.lengthOf(response.toolCalls, 0)
      const decision = Mixture.decisionOf(response)!
      assert.strictEqual(decision.provider, "sane")
      // The rogue answer failed to decode: it was never scored, and its call is billed as an estimate.
      assert.deepStrictEqual(
        decision.scores.map((s) => s.provider),
        ["sane"]
      )
      assert.deepStrictEqual(
        decision.charges!.map((c) => [c.provider, c.estimated]),
        [
          ["rogue", true],
          ["sane", false]
        ]
      )
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )

  it.live("the losers' HTTP requests are aborted once the first valid answer and a quorum have won", () =>
    Effect.gen(function* () {
      const member = (provider: string, text: string, fixedMs: number) =>
        Effect.gen(function* () {
          const server = yield* FakeOpenAi.make({ turns: [{ text }], latency: { fixedMs } })
          const languageModel = yield* OpenAiLanguageModel.make({
            baseUrl: server.url,
            model: "gpt-5-mini",
            retry: Retry.none
          })
          return { member: { provider, model: "gpt-5-mini", languageModel }, server }
        })
      const fast = yield* member("fast", "The answer is 42.", 0)
      const also = yield* member("also", "The answer is 42.", 0)
      const slow = yield* member("slow", "The answer is 42.", 30_000)
      const first = yield* Mixture.make({ members: [slow.member, fast.member], strategy: Mixture.firstValid })
      assert.strictEqual(Mixture.decisionOf(yield* first.generateText({ prompt: "q" }))!.provider, "fast")
      assert.strictEqual(yield* slow.server.settled(0), "aborted")
      assert.strictEqual(yield* fast.server.settled(0), "completed")
      const quorum = yield* Mixture.make({
        members: [slow.member, fast.member, also.member],
        strategy: Mixture.quorum(2)
      })
      yield* quorum.generateText({ prompt: "q" })
      assert.strictEqual(yield* slow.server.settled(1), "aborted")
      assert.deepStrictEqual([yield* fast.server.settled(1), yield* also.server.settled(0)], ["completed", "completed"])
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )

  it.effect("structured output goes the general way and still decodes", () =>
    Effect.gen(function* () {
      const a = yield* adapterMember("alpha", [{ text: '{"city":"Paris"}' }])
      const b = yield* adapterMember("beta", [{ text: "not json" }])
      const mixture = yield* Mixture.make({ members: [a.member, b.member], strategy: Mixture.weightedScore() })
      const response = yield* LanguageModel.generateObject({
        prompt: "Which city?",
        schema: Schema.Struct({ city: Schema.String })
      }).pipe(withModel(mixture))
      assert.deepStrictEqual(response.value, { city: "Paris" })
      assert.strictEqual(Mixture.decisionOf(response)!.provider, "alpha")
    }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )
})
