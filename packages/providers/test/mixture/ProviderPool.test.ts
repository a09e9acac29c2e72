import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import * as ProviderPool from "../../src/mixture/ProviderPool.ts"

const aiFail = (reason: AiError.AiErrorReason) => Effect.fail(AiError.make({ module: "T", method: "t", reason }))
const target = { provider: "openai", model: "gpt-4o-mini" }
const noUsage = { usageOf: () => undefined }

describe("ProviderPool", () => {
  it.effect("opens a provider's breaker after consecutive failures, for every caller", () =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      let calls = 0
      const failing = Effect.suspend(() => {
        calls++
        return aiFail(new AiError.InternalProviderError({ description: "500" }))
      })
      yield* Effect.flip(pool.call(target, failing, noUsage))
      yield* Effect.flip(pool.call(target, failing, noUsage))
      const open = yield* Effect.flip(pool.call(target, Effect.succeed("ok"), noUsage))
      assert.strictEqual(open._tag, "CircuitOpen")
      assert.strictEqual(calls, 2)
      yield* TestClock.adjust("1 second")
      const probe = yield* pool.call(target, Effect.succeed("ok"), noUsage)
      assert.strictEqual(probe.value, "ok")
      assert.strictEqual((yield* pool.breaker("openai").state)._tag, "Closed")
    }).pipe(Effect.provide(ProviderPool.layer({ breaker: { failureThreshold: 2, cooldown: "1 second" } })))
  )

  it.effect("a 429 teaches the limiter its retry-after and does not open the breaker", () =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      const limited = aiFail(new AiError.RateLimitError({ retryAfter: Duration.seconds(3) }))
      yield* Effect.flip(pool.call(target, limited, noUsage))
      assert.deepStrictEqual((yield* pool.breaker("openai").state)._tag, "Closed")
      assert.strictEqual((yield* pool.limiter("openai").snapshot).heldBackMillis, 3000)
      let ran = false
      const next = yield* Effect.forkChild(
        pool.call(
          target,
          Effect.sync(() => (ran = true)),
          noUsage
        )
      )
      yield* TestClock.adjust("2999 millis")
      assert.isFalse(ran)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(next)
      assert.isTrue(ran)
    }).pipe(Effect.provide(ProviderPool.layer({ breaker: { failureThreshold: 1 } })))
  )

  it.effect("a timeout is a failure of the provider; the rate-limit wait counts towards it", () =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      const fiber = yield* Effect.forkChild(
        Effect.flip(pool.call({ ...target, timeout: "2 seconds" }, Effect.never, noUsage))
      )
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "ProviderTimeout")
      yield* pool.call(target, Effect.void, noUsage)
      const refused = yield* Effect.flip(pool.call({ ...target, timeout: "1 second" }, Effect.void, noUsage))
      assert.strictEqual(refused._tag, "RateLimited")
      const [usage] = yield* pool.usage
      assert.strictEqual(usage?.failures, 2)
      assert.strictEqual(usage?.successes, 1)
    }).pipe(Effect.provide(ProviderPool.layer({ limits: { openai: { requestsPerMinute: 2 } } })))
  )

  it.effect("an invalid answer counts as the provider being up; a server error, a timeout or a defect against it", () =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      const state = Effect.map(pool.breaker("openai").state, (s) => s._tag)
      yield* Effect.flip(
        pool.call(target, aiFail(new AiError.InvalidOutputError({ description: "bad json" })), noUsage)
      )
      assert.strictEqual(yield* state, "Closed")
      yield* Effect.flip(pool.call(target, aiFail(new AiError.InternalProviderError({ description: "503" })), noUsage))
      assert.strictEqual(yield* state, "Open")
      for (const other of ["timeout", "defect"]) {
        const provider = `p-${other}`
        const failing = other === "timeout" ? Effect.never : Effect.die("adapter bug")
        const fiber = yield* Effect.forkChild(
          Effect.exit(pool.call({ ...target, provider, timeout: "1 second" }, failing, noUsage))
        )
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(fiber)
        assert.strictEqual((yield* pool.breaker(provider).state)._tag, "Open", other)
      }
    }).pipe(Effect.provide(ProviderPool.layer({ breaker: { failureThreshold: 1, cooldown: "1 minute" } })))
  )

  it.effect("each provider's own breaker settings override the shared ones", () =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      const boom = aiFail(new AiError.InternalProviderError({ description: "503" }))
      yield* Effect.flip(pool.call(target, boom, noUsage))
      yield* Effect.flip(pool.call({ provider: "sturdy", model: "m" }, boom, noUsage))
      assert.strictEqual((yield* pool.breaker("openai").state)._tag, "Open")
      assert.strictEqual((yield* pool.breaker("sturdy").state)._tag, "Closed")
    }).pipe(
      Effect.provide(
        ProviderPool.layer({ breaker: { failureThreshold: 1 }, breakers: { sturdy: { failureThreshold: 2 } } })
      )
    )
  )

  it.effect("accounts tokens and cost; ollama is free", () =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      const tokens = { usageOf: (n: number) => ({ inputTokens: n, outputTokens: n }) }
      const result = yield* pool.call(target, Effect.succeed(1_000_000), tokens)
      assert.closeTo(result.costUsd ?? 0, 0.75, 1e-9)
      yield* pool.call({ provider: "ollama", model: "llama3.2" }, Effect.succeed(1000), tokens)
      const usage = yield* pool.usage
      assert.deepStrictEqual(
        usage.map((u) => [u.provider, u.inputTokens, u.unpricedCalls]),
        [
          ["openai", 1_000_000, 0],
          ["ollama", 1000, 0]
        ]
      )
      assert.strictEqual(usage[1]?.costUsd, 0)
    }).pipe(Effect.provide(ProviderPool.layerTest))
  )

  it.effect("keeps the last N fan-outs", () =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      for (let i = 0; i < 5; i++) {
        yield* pool.record({ strategy: "first-valid", startedAt: i, durationMs: 1, attempts: [] })
      }
      const recent = yield* pool.recent(10)
      assert.deepStrictEqual(
        recent.map((e) => e.id),
        [3, 4, 5]
      )
      assert.deepStrictEqual(
        (yield* pool.recent(2)).map((e) => e.startedAt),
        [3, 4]
      )
    }).pipe(Effect.provide(ProviderPool.layer({ historySize: 3 })))
  )
})
