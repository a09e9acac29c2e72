import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import * as RateLimiter from "../../src/mixture/RateLimiter.ts"

describe("RateLimiter", () => {
  it.effect("caps the calls in flight", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make("p", { maxConcurrent: 2 })
      let running = 0
      let peak = 0
      const work = Effect.gen(function* () {
        running++
        peak = Math.max(peak, running)
        yield* Effect.sleep("100 millis")
        running--
      })
      const fiber = yield* Effect.forkChild(
        Effect.all(
          [1, 2, 3, 4, 5].map(() => limiter.limit(work)),
          { concurrency: "unbounded" }
        )
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.strictEqual(peak, 2)
    })
  )

  it.effect("holds calls over the requests-per-minute limit until the window frees", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make("p", { requestsPerMinute: 2 })
      yield* limiter.limit(Effect.void)
      yield* TestClock.adjust("10 seconds")
      yield* limiter.limit(Effect.void)
      let third = false
      const fiber = yield* Effect.forkChild(limiter.limit(Effect.sync(() => (third = true))))
      yield* TestClock.adjust("49 seconds")
      assert.isFalse(third)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.isTrue(third)
      assert.strictEqual((yield* limiter.snapshot).startsInLastMinute, 2)
    })
  )

  it.effect("fails at once with RateLimited when the wait exceeds maxWait", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make("p", { requestsPerMinute: 1 })
      yield* limiter.limit(Effect.void)
      const error = yield* Effect.flip(limiter.limit(Effect.void, { maxWaitMillis: 1000 }))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(error.retryInMillis, 60_000)
    })
  )

  it.effect("debits tokens per minute by the real usage", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make("p", { tokensPerMinute: 1000 })
      yield* limiter.limit(Effect.succeed(900), { estimatedTokens: 100, tokensOf: (n) => n })
      assert.strictEqual((yield* limiter.snapshot).tokensAvailable, 100)
      let ran = false
      const fiber = yield* Effect.forkChild(
        limiter.limit(
          Effect.sync(() => (ran = true)),
          { estimatedTokens: 400, tokensOf: () => 400 }
        )
      )
      // 300 more tokens are needed at 1000 per minute: 18 seconds.
      yield* TestClock.adjust("17 seconds")
      assert.isFalse(ran)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.isTrue(ran)
    })
  )

  it.effect("learns from a 429: penalize holds new calls back for the retry-after", () =>
    Effect.gen(function* () {
      const limiter = RateLimiter.make("p")
      yield* limiter.penalize(2000)
      let ran = false
      const fiber = yield* Effect.forkChild(limiter.limit(Effect.sync(() => (ran = true))))
      yield* TestClock.adjust("1999 millis")
      assert.isFalse(ran)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      assert.isTrue(ran)
    })
  )
})
