import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Persisted from "effect/persistence/RateLimiter"
import * as TestClock from "effect/testing/TestClock"
import * as RateLimiter from "../../src/mixture/RateLimiter.ts"

// A limiter for provider "p" on a fresh memory store.
const withLimiter = <A, E>(limits: RateLimiter.Limits, f: (limiter: RateLimiter.RateLimiter) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const store = yield* Persisted.make
    return yield* f(RateLimiter.make("p", limits, store))
  }).pipe(Effect.provide(Persisted.layerStoreMemory))

// Forks `effect` and reports whether it has run by the time `check` is asked.
const track = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    let ran = false
    const fiber = yield* Effect.forkChild(Effect.tap(effect, () => Effect.sync(() => (ran = true))))
    yield* Effect.yieldNow
    return { fiber, ran: () => ran }
  })

describe("RateLimiter", () => {
  it.effect("caps the calls in flight", () =>
    withLimiter({ maxConcurrent: 2 }, (limiter) =>
      Effect.gen(function* () {
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
  )

  it.effect("lets a minute's requests go at once, then one more per 60/N seconds", () =>
    withLimiter({ requestsPerMinute: 2 }, (limiter) =>
      Effect.gen(function* () {
        yield* limiter.limit(Effect.void)
        yield* limiter.limit(Effect.void)
        assert.strictEqual((yield* limiter.snapshot).requestsAvailable, 0)
        const third = yield* track(limiter.limit(Effect.void))
        yield* TestClock.adjust("29999 millis")
        assert.isFalse(third.ran())
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(third.fiber)
        assert.isTrue(third.ran())
      })
    )
  )

  it.effect("fails at once with RateLimited when the wait exceeds maxWait, and reserves nothing then", () =>
    withLimiter({ requestsPerMinute: 1 }, (limiter) =>
      Effect.gen(function* () {
        yield* limiter.limit(Effect.void)
        const error = yield* Effect.flip(limiter.limit(Effect.void, { maxWaitMillis: 1000 }))
        assert.deepStrictEqual(error, new RateLimiter.RateLimited({ provider: "p", retryInMillis: 60_000 }))
        yield* TestClock.adjust("60 seconds")
        // The refused call took nothing: the request refilled in the meantime is there for the next one.
        const next = yield* track(limiter.limit(Effect.void, { maxWaitMillis: 0 }))
        yield* Fiber.join(next.fiber)
        assert.isTrue(next.ran())
      })
    )
  )

  it.effect("a wait within maxWait is waited", () =>
    withLimiter({ requestsPerMinute: 1 }, (limiter) =>
      Effect.gen(function* () {
        yield* limiter.limit(Effect.void)
        const second = yield* track(limiter.limit(Effect.void, { maxWaitMillis: 60_000 }))
        yield* TestClock.adjust("60 seconds")
        yield* Fiber.join(second.fiber)
        assert.isTrue(second.ran())
      })
    )
  )

  it.effect("reserves the estimated tokens and pays the real usage beyond it", () =>
    withLimiter({ tokensPerMinute: 1000 }, (limiter) =>
      Effect.gen(function* () {
        yield* limiter.limit(Effect.succeed(900), { estimatedTokens: 100, tokensOf: (n) => n })
        assert.strictEqual((yield* limiter.snapshot).tokensAvailable, 100)
        const next = yield* track(limiter.limit(Effect.void, { estimatedTokens: 400, tokensOf: () => 400 }))
        // 300 more tokens are needed at 1000 per minute: 18 seconds.
        yield* TestClock.adjust("17999 millis")
        assert.isFalse(next.ran())
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(next.fiber)
        assert.isTrue(next.ran())
      })
    )
  )

  it.effect("a 429 holds every new call back for the provider's retry-after", () =>
    withLimiter({}, (limiter) =>
      Effect.gen(function* () {
        const limited = Effect.fail("429" as const)
        yield* Effect.flip(limiter.limit(limited, { heldBackBy: () => Duration.seconds(2) }))
        assert.strictEqual((yield* limiter.snapshot).heldBackMillis, 2000)
        const refused = yield* Effect.flip(limiter.limit(Effect.void, { maxWaitMillis: 1000 }))
        assert.strictEqual(refused._tag, "RateLimited")
        const next = yield* track(limiter.limit(Effect.void))
        yield* TestClock.adjust("1999 millis")
        assert.isFalse(next.ran())
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(next.fiber)
        assert.isTrue(next.ran())
      })
    )
  )

  it.effect("other failures hold nothing back", () =>
    withLimiter({}, (limiter) =>
      Effect.gen(function* () {
        yield* Effect.flip(limiter.limit(Effect.fail("500" as const), { heldBackBy: () => undefined }))
        assert.strictEqual((yield* limiter.snapshot).heldBackMillis, 0)
        yield* limiter.limit(Effect.void, { maxWaitMillis: 0 })
      })
    )
  )

  it.effect("limits of one provider do not hold back another", () =>
    Effect.gen(function* () {
      const store = yield* Persisted.make
      const a = RateLimiter.make("a", { requestsPerMinute: 1 }, store)
      const b = RateLimiter.make("b", { requestsPerMinute: 1 }, store)
      yield* a.limit(Effect.void)
      yield* b.limit(Effect.void, { maxWaitMillis: 0 })
      assert.strictEqual((yield* Effect.flip(a.limit(Effect.void, { maxWaitMillis: 0 })))._tag, "RateLimited")
    }).pipe(Effect.provide(Persisted.layerStoreMemory))
  )
})
