import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import * as CircuitBreaker from "../../src/mixture/CircuitBreaker.ts"

const boom = Effect.fail("boom" as const)

describe("CircuitBreaker", () => {
  it.effect("opens after N consecutive failures and fails fast while open", () =>
    Effect.gen(function* () {
      const breaker = CircuitBreaker.make("p", { failureThreshold: 3, cooldown: "10 seconds" })
      let calls = 0
      const call = Effect.suspend(() => {
        calls++
        return boom
      })
      for (let i = 0; i < 3; i++) yield* Effect.flip(breaker.protect(call))
      assert.deepStrictEqual(yield* breaker.state, { _tag: "Open", until: 10_000 })
      const error = yield* Effect.flip(breaker.protect(call))
      assert.strictEqual((error as CircuitBreaker.CircuitOpen)._tag, "CircuitOpen")
      assert.strictEqual((error as CircuitBreaker.CircuitOpen).retryInMillis, 10_000)
      assert.strictEqual(calls, 3)
    })
  )

  it.effect("a success resets the count of consecutive failures", () =>
    Effect.gen(function* () {
      const breaker = CircuitBreaker.make("p", { failureThreshold: 2 })
      yield* Effect.flip(breaker.protect(boom))
      yield* breaker.protect(Effect.succeed(1))
      yield* Effect.flip(breaker.protect(boom))
      assert.deepStrictEqual(yield* breaker.state, { _tag: "Closed", failures: 1 })
    })
  )

  it.effect("half-opens after the cool-down: a successful probe closes it", () =>
    Effect.gen(function* () {
      const breaker = CircuitBreaker.make("p", { failureThreshold: 1, cooldown: "5 seconds" })
      yield* Effect.flip(breaker.protect(boom))
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* breaker.state, { _tag: "HalfOpen", probing: false })
      // While the probe is in flight, other calls are refused.
      const probe = yield* Effect.forkChild(breaker.protect(Effect.sleep("1 second").pipe(Effect.as("ok"))))
      yield* Effect.yieldNow
      const refused = yield* Effect.flip(breaker.protect(Effect.succeed("other")))
      assert.strictEqual(refused._tag, "CircuitOpen")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(probe), "ok")
      assert.deepStrictEqual(yield* breaker.state, { _tag: "Closed", failures: 0 })
    })
  )

  it.effect("a failed probe opens it again for another cool-down", () =>
    Effect.gen(function* () {
      const breaker = CircuitBreaker.make("p", { failureThreshold: 1, cooldown: "5 seconds" })
      yield* Effect.flip(breaker.protect(boom))
      yield* TestClock.adjust("5 seconds")
      yield* Effect.flip(breaker.protect(boom))
      assert.deepStrictEqual(yield* breaker.state, { _tag: "Open", until: 10_000 })
    })
  )

  it.effect("interruptions and ignored failures do not count; an interrupted probe frees the slot", () =>
    Effect.gen(function* () {
      const breaker = CircuitBreaker.make("p", { failureThreshold: 1, cooldown: "1 second" })
      const fiber = yield* Effect.forkChild(breaker.protect(Effect.never))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      yield* Effect.flip(breaker.protect(boom, () => false))
      assert.deepStrictEqual(yield* breaker.state, { _tag: "Closed", failures: 0 })
      yield* Effect.flip(breaker.protect(boom))
      yield* TestClock.adjust("1 second")
      const probe = yield* Effect.forkChild(breaker.protect(Effect.never))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(probe)
      assert.deepStrictEqual(yield* breaker.state, { _tag: "HalfOpen", probing: false })
    })
  )
})
