/**
 * The rules each strategy gives the fan-out (`internal/strategy.ts` and one file per strategy), the hedge timer and
 * the fan-out's own bookkeeping, checked through `Mixture.make` so each rule is seen doing what it is for.
 */
import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import * as Mixture from "../../src/mixture/Mixture.ts"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"
import * as Scorer from "../../src/mixture/Scorer.ts"
import * as Scorers from "../../src/mixture/Scorers.ts"
import * as Scripted from "../../src/testing/ScriptedLanguageModel.ts"
import { interrupted, member, settle, withClock } from "./support.ts"

const good = "Paris is the capital of France. It has been the seat of government for centuries."

const lastEvent = Effect.gen(function* () {
  const [event] = yield* (yield* ProviderPool.ProviderPool).recent(1)
  return event!
})

describe("strategy rules", () => {
  describe("weighted-score", () => {
    it.effect("with refusals only, the best-scored refusal is the answer: a refusal is scored, not dropped", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.refusal()])
        const b = yield* Scripted.make([Scripted.text("I'm sorry, but I cannot help with that request today.")])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore()
        })
        const response = yield* model.generateText({ prompt: "q" })
        assert.isTrue(Scorers.isRefusal(response))
        assert.deepStrictEqual((yield* lastEvent).attempts.map((x) => x.outcome).sort(), ["answered", "won"])
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("equal scores go to the first member in the configured order", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good)], { cycle: true })
        const b = yield* Scripted.make([Scripted.text(good)], { cycle: true })
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore()
        })
        assert.strictEqual(Mixture.decisionOf(yield* model.generateText({ prompt: "q" }))?.provider, "a")
        const reversed = yield* Mixture.make({
          members: [member("b", b), member("a", a)],
          strategy: Mixture.weightedScore()
        })
        assert.strictEqual(Mixture.decisionOf(yield* reversed.generateText({ prompt: "q" }))?.provider, "b")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("an answer a custom gate scorer rejects cannot win, and is reported with that scorer's name", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.text(good)])
        const b = yield* Scripted.make([Scripted.text("Paris.")])
        const notA = Scorer.make("not-a", (c) => (c.provider === "a" ? 0 : 1), { gate: true, weight: 0 })
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore({ scorers: [...Scorers.defaults, notA] })
        })
        assert.strictEqual(Mixture.decisionOf(yield* model.generateText({ prompt: "q" }))?.provider, "b")
        const attempt = (yield* lastEvent).attempts[0]!
        assert.deepStrictEqual([attempt.outcome, attempt.reason], ["rejected", "Rejected:not-a"])
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("ignores hedging: every provider starts at once", () =>
      Effect.gen(function* () {
        const a = yield* Scripted.make([Scripted.delayed("10 millis", Scripted.text(good))])
        const b = yield* Scripted.make([Scripted.delayed("20 millis", Scripted.text("Paris."))])
        const model = yield* Mixture.make({
          members: [member("a", a), member("b", b)],
          strategy: Mixture.weightedScore(),
          hedge: { after: "1 second" }
        })
        const fiber = yield* Effect.forkChild(model.generateText({ prompt: "q" }))
        yield* settle
        assert.strictEqual((yield* b.requests).length, 1)
        yield* TestClock.adjust(20)
        yield* Fiber.join(fiber)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("hedging", () => {
    it.effect("a hedge timer armed before a later launch is stale and starts nobody", () =>
      Effect.gen(function* () {
        const slow = yield* Scripted.make([Scripted.delayed("1 second", Scripted.text("slow."))])
        const failing = yield* Scripted.make([
          Scripted.delayed("50 millis", Scripted.fail(new AiError.InternalProviderError({ description: "503" })))
        ])
        const slower = yield* Scripted.make([Scripted.delayed("1 second", Scripted.text("slower."))])
        const spare = yield* Scripted.make([Scripted.text("spare.")])
        const model = yield* Mixture.make({
          members: [member("slow", slow), member("failing", failing), member("slower", slower), member("spare", spare)],
          strategy: Mixture.firstValid,
          hedge: { after: "100 millis" }
        })
        const fiber = yield* Effect.forkChild(model.generateText({ prompt: "q" }))
        // 100 ms: the timer starts `failing`; at 150 ms it fails, which starts `slower` at once and re-arms the timer
        // for 250 ms. The timer armed at 100 ms still fires at 200 ms, but it is stale: `spare` waits until 250 ms.
        yield* TestClock.adjust(150)
        yield* settle
        assert.strictEqual((yield* slower.requests).length, 1)
        yield* TestClock.adjust(50)
        yield* settle
        assert.strictEqual((yield* spare.requests).length, 0)
        yield* TestClock.adjust(50)
        const response = yield* Fiber.join(fiber)
        assert.strictEqual(response.text, "spare.")
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("names", () => {
    it.effect("each strategy reports its name in the answer and the fan-out", () =>
      Effect.gen(function* () {
        for (const [strategy, name] of [
          [Mixture.weightedScore(), "weighted-score"],
          [Mixture.firstValid, "first-valid"],
          [Mixture.quorum(2), "quorum(2)"],
          [Mixture.fallback(), "fallback"]
        ] as const) {
          const a = yield* Scripted.make([Scripted.text(good)])
          const b = yield* Scripted.make([Scripted.text(good)])
          const model = yield* Mixture.make({ members: [member("a", a), member("b", b)], strategy })
          const response = yield* model.generateText({ prompt: "q" })
          assert.strictEqual(Mixture.strategyName(strategy), name)
          assert.strictEqual(Mixture.decisionOf(response)?.strategy, name)
          assert.strictEqual((yield* lastEvent).strategy, name)
        }
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )
  })

  describe("the fan-out", () => {
    it.effect("interrupts the losers right after deciding, while the caller goes on", () =>
      Effect.gen(function* () {
        const fast = yield* Scripted.make([Scripted.text("fast answer.")])
        const hangs = yield* Scripted.make([Scripted.hang])
        const model = yield* Mixture.make({
          members: [member("fast", fast), member("hangs", hangs)],
          strategy: Mixture.firstValid
        })
        // Called on the test's own fiber: the losers must not live on until it ends.
        const response = yield* model.generateText({ prompt: "q" })
        assert.strictEqual(response.text, "fast answer.")
        assert.strictEqual(yield* interrupted(hangs), 1)
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("reports a cancelled loser with the time it ran", () =>
      Effect.gen(function* () {
        const fast = yield* Scripted.make([Scripted.delayed("20 millis", Scripted.text("fast answer."))])
        const slow = yield* Scripted.make([Scripted.delayed("500 millis", Scripted.text("slow answer."))])
        const model = yield* Mixture.make({
          members: [member("slow", slow), member("fast", fast)],
          strategy: Mixture.firstValid
        })
        yield* withClock(model.generateText({ prompt: "q" }), 20)
        assert.deepStrictEqual(
          (yield* lastEvent).attempts.map((x) => [x.provider, x.outcome, x.latencyMs]),
          [
            ["slow", "cancelled", 20],
            ["fast", "won", 20]
          ]
        )
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a provider the pool has no latency for starts first, whichever order the strategy wants", () =>
      Effect.gen(function* () {
        const starts: Array<string> = []
        const scripted = (name: string, millis: number) =>
          Scripted.make(
            [
              Scripted.dynamic(() => {
                starts.push(name)
                return Scripted.delayed(millis, Scripted.text(`${name} answered.`))
              })
            ],
            { cycle: true }
          )
        const fast = member("fast", yield* scripted("fast", 10))
        const slow = member("slow", yield* scripted("slow", 30))
        const fresh = member("fresh", yield* scripted("fresh", 20))
        // Teaches the pool the latencies of fast and slow only.
        yield* withClock(
          (yield* Mixture.make({ members: [fast, slow], strategy: Mixture.weightedScore() })).generateText({
            prompt: "q"
          }),
          30
        )
        starts.length = 0
        const weighted = yield* Mixture.make({ members: [fast, slow, fresh], strategy: Mixture.weightedScore() })
        yield* withClock(weighted.generateText({ prompt: "q" }), 30)
        assert.deepStrictEqual(starts, ["fresh", "slow", "fast"])
        starts.length = 0
        // `fresh` has a latency now; `new` has none.
        const unknown = member("new", yield* scripted("new", 20))
        const first = yield* Mixture.make({ members: [slow, fast, unknown], strategy: Mixture.firstValid })
        yield* withClock(first.generateText({ prompt: "q" }), 30)
        assert.deepStrictEqual(starts, ["new", "fast", "slow"])
      }).pipe(Effect.provide(ProviderPool.layerTest))
    )

    it.effect("a provider whose breaker is open is reported as skipped", () =>
      Effect.gen(function* () {
        const down = yield* Scripted.make([Scripted.fail(new AiError.InternalProviderError({ description: "503" }))])
        const up = yield* Scripted.make([Scripted.text("up."), Scripted.text("still up.")])
        const model = yield* Mixture.make({
          members: [member("down", down), member("up", up)],
          strategy: Mixture.firstValid
        })
        yield* model.generateText({ prompt: "q" })
        yield* model.generateText({ prompt: "q" })
        const attempt = (yield* lastEvent).attempts[0]!
        assert.deepStrictEqual([attempt.outcome, attempt.reason], ["skipped", "CircuitOpen"])
        assert.strictEqual((yield* down.requests).length, 1)
      }).pipe(Effect.provide(ProviderPool.layer({ breaker: { failureThreshold: 1, cooldown: "1 minute" } })))
    )
  })
})
