import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import * as SensorWaits from "../src/SensorWaits.ts"

// Work is time on the clock outside any wait; a wait is time inside `tracker.waiting.around`.
const work = (seconds: number) => Effect.sleep(Duration.seconds(seconds))

describe("SensorWaits", () => {
  it.effect("the default Waiting just runs the wait", () =>
    Effect.gen(function* () {
      const waiting = yield* SensorWaits.Waiting
      assert.strictEqual(yield* waiting.around(Effect.succeed(7)), 7)
    })
  )

  it.effect("timeoutOrElse counts working time only: waits do not bring the deadline closer", () =>
    Effect.gen(function* () {
      const tracker = yield* SensorWaits.make
      const step = Effect.gen(function* () {
        yield* work(30)
        yield* tracker.waiting.around(work(300))
        yield* work(20)
        return "finished" as const
      })
      const fiber = yield* Effect.forkChild(
        tracker.timeoutOrElse(step, { duration: "1 minute", orElse: () => Effect.succeed("timed out" as const) })
      )
      yield* TestClock.adjust("350 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "finished")
      assert.strictEqual(yield* tracker.waited, 300_000)
    })
  )

  it.effect("timeoutOrElse still stops work past the limit, before and after a wait", () =>
    Effect.gen(function* () {
      const tracker = yield* SensorWaits.make
      const plain = yield* Effect.forkChild(
        tracker.timeoutOrElse(Effect.as(work(70), "finished" as const), {
          duration: "1 minute",
          orElse: () => Effect.as(Clock.currentTimeMillis, "timed out" as const)
        })
      )
      yield* TestClock.adjust("70 seconds")
      assert.strictEqual(yield* Fiber.join(plain), "timed out")

      // 50 s of work, a 10-minute wait that spans the nominal deadline, then the last 10 s of the minute.
      const at: Array<number> = []
      const step = Effect.gen(function* () {
        yield* work(50)
        yield* tracker.waiting.around(work(600))
        yield* work(30)
        return "finished" as const
      })
      const started = yield* Clock.currentTimeMillis
      const waited = yield* Effect.forkChild(
        tracker.timeoutOrElse(step, {
          duration: "1 minute",
          orElse: () =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              at.push(now - started)
              return "timed out" as const
            })
        })
      )
      yield* TestClock.adjust("700 seconds")
      assert.strictEqual(yield* Fiber.join(waited), "timed out")
      assert.deepStrictEqual(at, [660_000])
    })
  )

  it.effect("waited counts overlapping waits once", () =>
    Effect.gen(function* () {
      const tracker = yield* SensorWaits.make
      const first = yield* Effect.forkChild(tracker.waiting.around(work(60)))
      yield* TestClock.adjust("30 seconds")
      const second = yield* Effect.forkChild(tracker.waiting.around(work(60)))
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(first)
      assert.strictEqual(yield* tracker.waited, 60_000)
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(second)
      yield* TestClock.adjust("100 seconds")
      assert.strictEqual(yield* tracker.waited, 90_000)
    })
  )

  it.effect("trackers nest: a wait reaches the Waiting around the tracker too", () =>
    Effect.gen(function* () {
      const outer = yield* SensorWaits.make
      const inner = yield* SensorWaits.make.pipe(Effect.provideService(SensorWaits.Waiting, outer.waiting))
      const fiber = yield* Effect.forkChild(inner.waiting.around(work(20)))
      yield* TestClock.adjust("20 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual([yield* inner.waited, yield* outer.waited], [20_000, 20_000])
    })
  )

  it.effect("an interrupted wait ends", () =>
    Effect.gen(function* () {
      const tracker = yield* SensorWaits.make
      const fiber = yield* Effect.forkChild(tracker.waiting.around(Effect.never))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* tracker.waited, 10_000)
    })
  )
})
