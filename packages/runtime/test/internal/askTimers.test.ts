import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect } from "effect"
import { TestClock } from "effect/testing"
import * as AskTimers from "../../src/internal/askTimers.ts"

const setup = Effect.gen(function* () {
  const clock = yield* Clock.clockWith(Effect.succeed)
  const context = yield* Effect.context<never>()
  const timers = new AskTimers.AskTimers(clock, context)
  const ask = (path: string, timeoutMillis: number): AskTimers.Pending => {
    const pending = {
      path,
      deferred: Deferred.makeUnsafe<unknown, unknown>(),
      timeoutMillis,
      deadline: timers.deadline(timeoutMillis)
    }
    timers.add(pending)
    return pending
  }
  const timedOut = (pending: AskTimers.Pending) => Effect.sync(() => Deferred.isDoneUnsafe(pending.deferred))
  return { timers, ask, timedOut }
})

describe("AskTimers", () => {
  it.effect("fails each ask with AskTimeout at its own deadline, whatever the order of their timeouts", () =>
    Effect.gen(function* () {
      const { ask, timedOut } = yield* setup
      const long = ask("/long", 300)
      const short = ask("/short", 100)
      yield* TestClock.adjust(50)
      const middle = ask("/middle", 100) // due at 150
      yield* TestClock.adjust(49)
      assert.deepStrictEqual(
        [yield* timedOut(short), yield* timedOut(middle), yield* timedOut(long)],
        [false, false, false]
      )
      yield* TestClock.adjust(1)
      assert.deepStrictEqual([yield* timedOut(short), yield* timedOut(middle)], [true, false])
      const error = yield* Effect.flip(Deferred.await(short.deferred))
      assert.deepInclude(error, { _tag: "AskTimeout", path: "/short", timeoutMillis: 100 })
      yield* TestClock.adjust(49)
      assert.isFalse(yield* timedOut(middle))
      yield* TestClock.adjust(1)
      assert.isTrue(yield* timedOut(middle))
      assert.isFalse(yield* timedOut(long))
      yield* TestClock.adjust(150)
      assert.isTrue(yield* timedOut(long))
    })
  )

  it.effect("a cancelled ask is not timed out; one without a finite timeout never is", () =>
    Effect.gen(function* () {
      const { timers, ask, timedOut } = yield* setup
      const answered = ask("/answered", 100)
      const forever = ask("/forever", Number.POSITIVE_INFINITY)
      const other = ask("/other", 100)
      timers.cancel(answered)
      timers.cancel(forever)
      yield* TestClock.adjust("1 hour")
      assert.deepStrictEqual(
        [yield* timedOut(answered), yield* timedOut(forever), yield* timedOut(other)],
        [false, false, true]
      )
    })
  )

  it.effect("stopping drops the pending deadlines' timer", () =>
    Effect.gen(function* () {
      const { timers, ask, timedOut } = yield* setup
      const pending = ask("/a", 100)
      timers.stop()
      yield* TestClock.adjust(200)
      assert.isFalse(yield* timedOut(pending))
      const later = ask("/b", 100)
      yield* TestClock.adjust(100)
      assert.isTrue(yield* timedOut(later), "a new ask starts the timer again")
    })
  )
})
