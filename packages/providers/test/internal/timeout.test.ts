/**
 * The time limit every provider call runs under: the same outcomes as `Effect.timeoutOrElse`, on Effect's own clock
 * (a timer) and under a test clock (which it leaves in charge).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as Timeout from "../../src/internal/timeout.ts"

const timedOut = () => Effect.fail("timed out" as const)

describe("timeoutOrElse", () => {
  it.live("a call that ends in time gives its own value or error, and orElse is never asked", () =>
    Effect.gen(function* () {
      let asked = 0
      const orElse = () => {
        asked++
        return timedOut()
      }
      assert.strictEqual(yield* Timeout.timeoutOrElse(Effect.succeed(1), { duration: 50, orElse }), 1)
      const later = Effect.as(Effect.sleep(5), 2)
      assert.strictEqual(yield* Timeout.timeoutOrElse(later, { duration: 1_000, orElse }), 2)
      const failed = yield* Effect.exit(Timeout.timeoutOrElse(Effect.fail("boom" as const), { duration: 50, orElse }))
      assert.deepStrictEqual(failed, Exit.fail("boom"))
      yield* Effect.sleep(80)
      assert.strictEqual(asked, 0)
    })
  )

  it.live("past the limit the call is interrupted, its finalizer has run, and then orElse answers", () =>
    Effect.gen(function* () {
      const events: Array<string> = []
      const hung = Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => events.push("call interrupted"))))
      const exit = yield* Effect.exit(
        Timeout.timeoutOrElse(hung, {
          duration: 20,
          orElse: () => Effect.suspend(() => Effect.fail(`timed out after: ${events.join(", ")}`))
        })
      )
      assert.deepStrictEqual(exit, Exit.fail("timed out after: call interrupted"))
    })
  )

  it.live("interrupted from outside, the call is interrupted with it and its timer no longer fires", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const stopped = yield* Deferred.make<void>()
      let asked = 0
      const call = Effect.andThen(Deferred.succeed(started, undefined), Effect.never).pipe(
        Effect.onInterrupt(() => Deferred.succeed(stopped, undefined))
      )
      const fiber = yield* Effect.forkChild(
        Timeout.timeoutOrElse(call, {
          duration: 30,
          orElse: () => {
            asked++
            return timedOut()
          }
        })
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Deferred.isDone(stopped))
      yield* Effect.sleep(60)
      assert.strictEqual(asked, 0)
    })
  )

  it.effect("under a test clock the limit passes when the clock says so, not before", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(
        Timeout.timeoutOrElse(Effect.as(Effect.sleep("10 seconds"), "answer"), {
          duration: "5 seconds",
          orElse: () => Effect.succeed("timed out")
        })
      )
      yield* TestClock.adjust("4 seconds")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "timed out")
    })
  )
})
