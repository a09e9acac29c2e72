import { assert, describe, it } from "@effect/vitest"
import { Mixture, ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import * as Run from "../src/Run.ts"
import * as Spend from "../src/Spend.ts"
import { harness } from "./support.ts"

// 1,000 tokens in and 1,000 out on every call of both members.
const usage = { usage: { inputTokens: 1000, outputTokens: 1000 } }

describe("spending", () => {
  it.effect("under a mixture, every member asked is charged: the winner and the loser, per provider", () =>
    Effect.gen(function* () {
      const plan = JSON.stringify({ goals: [] })
      const done = JSON.stringify({ outcome: "done", reasoning: "ok", progress: [], answer: "42" })
      const openai = yield* Scripted.make([
        Scripted.text(plan, usage),
        Scripted.text("42", usage),
        Scripted.text(done, usage)
      ])
      const anthropic = yield* Scripted.make([
        Scripted.text(plan, usage),
        Scripted.text("42", usage),
        Scripted.text(done, usage)
      ])
      const model = yield* Mixture.make({
        members: [
          { provider: "openai", model: "gpt-5-mini", languageModel: openai.languageModel },
          { provider: "anthropic", model: "claude-sonnet-4-5", languageModel: anthropic.languageModel }
        ],
        strategy: Mixture.weightedScore()
      })
      const h = yield* harness([], { tools: false })
      const result = yield* Run.execute({ ...h.context, model }, h.control)
      assert.strictEqual(result.answer, "42")
      // Three calls (plan, act, reflect), each billed by both providers:
      // gpt-5-mini 1000 * 0.25e-6 + 1000 * 2e-6 = 0.00225; claude-sonnet-4-5 1000 * 3e-6 + 1000 * 15e-6 = 0.018.
      const byProvider = Object.fromEntries(result.spend.byProvider.map((p) => [p.provider, p]))
      assert.strictEqual(byProvider.openai!.calls, 3)
      assert.strictEqual(byProvider.anthropic!.calls, 3)
      assert.closeTo(byProvider.openai!.costUsd, 3 * 0.00225, 1e-12)
      assert.closeTo(byProvider.anthropic!.costUsd, 3 * 0.018, 1e-12)
      assert.closeTo(result.spend.costUsd, 3 * (0.00225 + 0.018), 1e-12)
      assert.strictEqual(result.spend.inputTokens, 6000)
      assert.strictEqual(result.spend.modelCalls, 3)
      assert.isFalse(result.spend.costEstimated)
    }).pipe(Effect.provide(ProviderPool.layer()))
  )

  it.effect("a mixture's judge is billed beside its members, under its own provider", () =>
    Effect.gen(function* () {
      const plan = JSON.stringify({ goals: [] })
      const done = JSON.stringify({ outcome: "done", reasoning: "ok", progress: [], answer: "42" })
      const member = () =>
        Scripted.make([Scripted.text(plan, usage), Scripted.text("42", usage), Scripted.text(done, usage)])
      const openai = yield* member()
      const anthropic = yield* member()
      const verdict = Scripted.text(JSON.stringify({ scores: [8, 6] }), usage)
      const judge = yield* Scripted.make([verdict, verdict, verdict])
      const model = yield* Mixture.make({
        members: [
          { provider: "openai", model: "gpt-5-mini", languageModel: openai.languageModel },
          { provider: "anthropic", model: "claude-sonnet-4-5", languageModel: anthropic.languageModel }
        ],
        strategy: Mixture.weightedScore({
          judge: { provider: "referee", model: "gpt-5-mini", languageModel: judge.languageModel }
        })
      })
      const h = yield* harness([], { tools: false })
      const result = yield* Run.execute({ ...h.context, model }, h.control)
      assert.strictEqual(result.answer, "42")
      // Plan, act and reflect were each judged once: 3 judge calls of gpt-5-mini at 0.00225 each.
      const byProvider = Object.fromEntries(result.spend.byProvider.map((p) => [p.provider, p]))
      assert.strictEqual(byProvider.referee!.calls, 3)
      assert.closeTo(byProvider.referee!.costUsd, 3 * 0.00225, 1e-12)
      assert.closeTo(result.spend.costUsd, 3 * (0.00225 + 0.018 + 0.00225), 1e-12)
      assert.strictEqual(result.spend.inputTokens, 9000)
    }).pipe(Effect.provide(ProviderPool.layer()))
  )

  it.effect("a loser cancelled before it answered is still counted, as an estimate", () =>
    Effect.gen(function* () {
      const done = JSON.stringify({ outcome: "done", reasoning: "ok", progress: [], answer: "hi" })
      const fast = yield* Scripted.make([
        Scripted.text(JSON.stringify({ goals: [] }), usage),
        Scripted.text("hi", usage),
        Scripted.text(done, usage)
      ])
      const slow = yield* Scripted.make([Scripted.hang, Scripted.hang, Scripted.hang])
      const model = yield* Mixture.make({
        members: [
          { provider: "openai", model: "gpt-5-mini", languageModel: fast.languageModel },
          { provider: "gemini", model: "gemini-2.5-flash", languageModel: slow.languageModel }
        ],
        strategy: Mixture.firstValid
      })
      const h = yield* harness([], { tools: false })
      const result = yield* Run.execute({ ...h.context, model }, h.control)
      assert.strictEqual(result.answer, "hi")
      const byProvider = Object.fromEntries(result.spend.byProvider.map((p) => [p.provider, p]))
      assert.strictEqual(byProvider.gemini!.calls, 3)
      assert.strictEqual(byProvider.openai!.calls, 3)
      assert.isTrue(result.spend.costEstimated)
    }).pipe(Effect.provide(ProviderPool.layer()))
  )

  it("spends add up across runs and providers", () => {
    const a = Spend.charge(Spend.zero, [{ provider: "openai", inputTokens: 10, outputTokens: 5, costUsd: 0.5 }])
    const b = Spend.charge(Spend.step(Spend.zero), [
      { provider: "openai", inputTokens: 1, outputTokens: 1, costUsd: 0.25 },
      { provider: "gemini", inputTokens: 2, outputTokens: 2, costUsd: undefined }
    ])
    const total = Spend.combine(a, b)
    assert.deepStrictEqual(total, {
      steps: 1,
      modelCalls: 2,
      inputTokens: 13,
      outputTokens: 8,
      costUsd: 0.75,
      costEstimated: true,
      byProvider: [
        { provider: "openai", calls: 2, inputTokens: 11, outputTokens: 6, costUsd: 0.75 },
        { provider: "gemini", calls: 1, inputTokens: 2, outputTokens: 2, costUsd: 0 }
      ]
    })
  })
})
