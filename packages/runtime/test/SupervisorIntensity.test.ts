/**
 * Supervision over time: the restart intensity window, backoff schedules and the order in which children are
 * restarted. Time is a `TestClock`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Actor, ActorSystem, Supervisor } from "../src/index.ts"
import { counter, get, is, settle, untilEvent, withSystem } from "./support.ts"

const A = Supervisor.actor("a", counter({ start: 100 }))

/** Tolerant enough for the tests that are not about intensity. */
const tolerant = { maxRestarts: 10, within: "1 minute" } as const

describe("Supervisor intensity, backoff and restart order", () => {
  it.effect("restarts older than the intensity period do not count", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ intensity: { maxRestarts: 1, within: "1 second" }, children: [A] })
          )
        )
        const a = yield* sup.ref(A)
        for (let i = 0; i < 4; i++) {
          yield* a.tell({ _tag: "Crash", message: `crash ${i}` })
          yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
          yield* TestClock.adjust("1001 millis")
        }
        assert.strictEqual(yield* get(a), 100)
      })
    )
  )

  it.effect("a restart exactly one period ago still counts, as in OTP", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ intensity: { maxRestarts: 1, within: "1 second" }, children: [A] }),
            { restart: "temporary" }
          )
        )
        const a = yield* sup.ref(A)
        yield* a.tell({ _tag: "Crash", message: "first" })
        yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
        yield* TestClock.adjust("1 second")
        yield* a.tell({ _tag: "Crash", message: "a period later" })
        yield* untilEvent(events, is("SupervisorGaveUp", "/sup"))
      })
    )
  )

  it.effect("intensity counts restarts within the period exactly: maxRestarts pass, one more gives up", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ intensity: { maxRestarts: 3, within: "1 second" }, children: [A] })
          )
        )
        const a = yield* sup.ref(A)
        for (let i = 0; i < 3; i++) {
          yield* a.tell({ _tag: "Crash", message: `crash ${i}` })
          yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
          yield* TestClock.adjust("300 millis")
        }
        // 900 ms after the first restart, three are in the period: the fourth is over.
        yield* a.tell({ _tag: "Crash", message: "fourth" })
        const next = yield* untilEvent(
          events,
          (e) => is("ActorRestarted", "/sup/a")(e) || is("SupervisorGaveUp", "/sup")(e)
        )
        assert.strictEqual(next._tag, "SupervisorGaveUp")
      })
    )
  )

  it.effect("backoff delays each restart by the schedule, and messages wait in the mailbox meanwhile", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ intensity: tolerant, backoff: Schedule.exponential("100 millis"), children: [A] })
          )
        )
        const a = yield* sup.ref(A)
        const delays: Array<number> = []
        for (let i = 0; i < 3; i++) {
          yield* a.tell({ _tag: "Crash", message: `crash ${i}` })
          const restarted = yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
          delays.push(restarted.delayMillis)
          const asking = yield* Effect.forkChild(get(a))
          yield* settle
          yield* TestClock.adjust(restarted.delayMillis - 1)
          yield* settle
          assert.isUndefined(asking.pollUnsafe(), "not restarted before its backoff")
          assert.isFalse((yield* sup.children)[0]!.running)
          yield* TestClock.adjust(1)
          assert.strictEqual(yield* Fiber.join(asking), 100)
        }
        assert.deepStrictEqual(delays, [100, 200, 400])
      })
    )
  )

  it.effect("a backoff of one millisecond still waits for the clock", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ intensity: tolerant, backoff: Schedule.spaced("1 millis"), children: [A] })
          )
        )
        const a = yield* sup.ref(A)
        yield* a.tell({ _tag: "Crash", message: "crash" })
        const restarted = yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
        assert.strictEqual(restarted.delayMillis, 1)
        const asking = yield* Effect.forkChild(get(a))
        yield* settle
        assert.isUndefined(asking.pollUnsafe(), "not restarted before its backoff")
        assert.isFalse((yield* sup.children)[0]!.running)
        yield* TestClock.adjust(1)
        assert.strictEqual(yield* Fiber.join(asking), 100)
      })
    )
  )

  it.effect("the restart count and the backoff start over once the period has passed without restarts", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({
              intensity: { maxRestarts: 2, within: "10 seconds" },
              backoff: Schedule.exponential("100 millis"),
              children: [A]
            })
          )
        )
        const a = yield* sup.ref(A)
        const crash = Effect.gen(function* () {
          yield* a.tell({ _tag: "Crash", message: "x" })
          const restarted = yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
          yield* TestClock.adjust(restarted.delayMillis)
          assert.strictEqual(yield* get(a), 100)
          return restarted.delayMillis
        })
        const first = [yield* crash, yield* crash]
        yield* TestClock.adjust("10 seconds")
        const second = [yield* crash, yield* crash]
        assert.deepStrictEqual(
          [first, second],
          [
            [100, 200],
            [100, 200]
          ]
        )
      })
    )
  )

  it.effect("restarts children in start order, each after the previous one's init, after halting them in reverse", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const log: Array<string> = []
        const slowInit = (id: string) =>
          Actor.make({
            protocol: Schema.Literal("crash"),
            init: (context) =>
              Effect.gen(function* () {
                log.push(`begin ${id} #${context.incarnation}`)
                yield* Effect.sleep("10 millis")
                log.push(`end ${id} #${context.incarnation}`)
              }),
            receive: () => Effect.fail("crash")
          })
        const children = ["a", "b", "c"].map((id) => Supervisor.actor(id, slowInit(id)))
        const starting = yield* Effect.forkChild(
          system.startChild(
            Supervisor.supervisor("sup", Supervisor.make({ strategy: "one-for-all", intensity: tolerant, children }))
          )
        )
        for (let i = 0; i < 3; i++) yield* TestClock.adjust("10 millis")
        const sup = yield* Fiber.join(starting)
        const events = yield* system.subscribe
        yield* (yield* sup.ref(children[1]!)).tell("crash")
        const halted: Array<string> = []
        while (halted.length < 2) {
          const event = yield* untilEvent(events, is("ActorRestarted"))
          if (event.trigger !== event.path) halted.push(event.path)
        }
        for (let i = 0; i < 3; i++) {
          yield* settle
          yield* TestClock.adjust("10 millis")
        }
        yield* untilEvent(events, is("ActorStarted", "/sup/c"))
        assert.deepStrictEqual(halted, ["/sup/a", "/sup/c"])
        assert.deepStrictEqual(log, [
          "begin a #1",
          "end a #1",
          "begin b #1",
          "end b #1",
          "begin c #1",
          "end c #1",
          "begin a #2",
          "end a #2",
          "begin b #2",
          "end b #2",
          "begin c #2",
          "end c #2"
        ])
      })
    )
  )

  it.effect("a later failure reschedules pending restarts, so dependencies still start first", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const log: Array<string> = []
        const children = ["a", "b", "c"].map((id) => Supervisor.actor(id, counter({ log, start: 7 })))
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({
              strategy: "rest-for-one",
              intensity: tolerant,
              backoff: Schedule.exponential("100 millis"),
              children
            })
          )
        )
        const [a, b] = yield* Effect.forEach(children, (child) => sup.ref(child))
        const events = yield* system.subscribe
        log.length = 0
        yield* b!.tell({ _tag: "Crash", message: "first" }) // b and c wait 100 ms
        assert.strictEqual((yield* untilEvent(events, is("ActorRestarted", "/sup/b"))).delayMillis, 100)
        yield* TestClock.adjust("10 millis")
        yield* a!.tell({ _tag: "Crash", message: "second" }) // now a, b and c wait 200 ms, a first
        assert.strictEqual((yield* untilEvent(events, is("ActorRestarted", "/sup/a"))).delayMillis, 200)
        yield* TestClock.adjust("150 millis")
        yield* settle
        assert.deepStrictEqual(log, [], "the first restart was superseded")
        yield* TestClock.adjust("60 millis")
        assert.strictEqual(yield* get(a!), 7)
        assert.deepStrictEqual(log, ["init /sup/a #2", "init /sup/b #2", "init /sup/c #2"])
      })
    )
  )
})
