import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Actor, ActorSystem, ExitReason, Supervisor } from "../src/index.ts"
import { counter, get, is, settle, untilEvent, withSystem } from "./support.ts"

const A = Supervisor.actor("a", counter({ start: 100 }))
const B = Supervisor.actor("b", counter({ start: 200 }))
const C = Supervisor.actor("c", counter({ start: 300 }))

/** Tolerant enough for the tests that are not about intensity. */
const tolerant = { maxRestarts: 10, within: "1 minute" } as const

/** Starts a supervisor of a, b, c and adds 1 to each so that a restart (which resets state) shows. */
const threeChildren = (options: Supervisor.FlagsOptions) =>
  Effect.gen(function* () {
    const system = yield* ActorSystem.ActorSystem
    const sup = yield* system.startChild(
      Supervisor.supervisor("sup", Supervisor.make({ intensity: tolerant, ...options, children: [A, B, C] }))
    )
    const a = yield* sup.ref(A)
    const b = yield* sup.ref(B)
    const c = yield* sup.ref(C)
    for (const ref of [a, b, c]) yield* ref.tell({ _tag: "Add", n: 1 })
    return { system, sup, a, b, c }
  })

describe("Supervisor", () => {
  it.effect("one-for-one restarts only the failed child, with fresh state and its mailbox kept", () =>
    withSystem(
      Effect.gen(function* () {
        const { system, a, b, c } = yield* threeChildren({ strategy: "one-for-one" })
        const events = yield* system.subscribe
        yield* a.tell({ _tag: "Crash", message: "boom" })
        yield* a.tell({ _tag: "Add", n: 5 }) // queued behind the crash: handled by the new incarnation
        const restarted = yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
        assert.strictEqual(restarted.reason._tag, "Failed")
        assert.strictEqual(restarted.trigger, "/sup/a")
        assert.strictEqual(yield* get(a), 105)
        assert.strictEqual(yield* get(b), 201)
        assert.strictEqual(yield* get(c), 301)
      })
    )
  )

  it.effect("one-for-all restarts every child", () =>
    withSystem(
      Effect.gen(function* () {
        const { a, b, c } = yield* threeChildren({ strategy: "one-for-all" })
        yield* b.tell({ _tag: "Die" })
        assert.strictEqual(yield* get(b), 200)
        assert.strictEqual(yield* get(a), 100)
        assert.strictEqual(yield* get(c), 300)
      })
    )
  )

  it.effect("rest-for-one restarts the failed child and those started after it", () =>
    withSystem(
      Effect.gen(function* () {
        const { system, a, b, c } = yield* threeChildren({ strategy: "rest-for-one" })
        const events = yield* system.subscribe
        yield* b.tell({ _tag: "Crash", message: "boom" })
        const first = yield* untilEvent(events, is("ActorRestarted"))
        const second = yield* untilEvent(events, is("ActorRestarted"))
        assert.deepStrictEqual(
          [first, second].map((e) => [e.path, e.trigger, e.reason._tag]),
          [
            ["/sup/b", "/sup/b", "Failed"],
            ["/sup/c", "/sup/b", "Shutdown"]
          ]
        )
        assert.strictEqual(yield* get(b), 200)
        assert.strictEqual(yield* get(c), 300)
        assert.strictEqual(yield* get(a), 101)
      })
    )
  )

  it.effect("permanent children restart after any exit; transient ones only after abnormal exits, and stay", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const P = Supervisor.actor("p", counter(), { restart: "permanent" })
        const T = Supervisor.actor("t", counter(), { restart: "transient" })
        const sup = yield* system.startChild(
          Supervisor.supervisor("sup", Supervisor.make({ intensity: tolerant, children: [P, T] }))
        )
        const p = yield* sup.ref(P)
        const t = yield* sup.ref(T)

        yield* p.tell({ _tag: "Halt" }) // normal exit: a permanent child comes back anyway
        yield* untilEvent(events, is("ActorRestarted", "/sup/p"))
        yield* t.tell({ _tag: "Crash", message: "x" }) // abnormal: a transient child comes back
        yield* untilEvent(events, is("ActorRestarted", "/sup/t"))
        yield* t.tell({ _tag: "Halt" }) // normal: a transient child is done, but kept
        const stopped = yield* untilEvent(events, is("ActorTerminated", "/sup/t"))
        assert.strictEqual(stopped.reason._tag, "Normal")

        assert.deepStrictEqual(
          (yield* sup.children).map((child) => [child.id, child.running]),
          [
            ["p", true],
            ["t", false]
          ]
        )
        assert.strictEqual(yield* get(p), 0)
        assert.strictEqual((yield* Effect.flip(sup.ref(T)))._tag, "ActorNotFound")
        assert.deepStrictEqual(yield* system.paths, ["/", "/sup", "/sup/p"])
        const taken = yield* Effect.flip(sup.startChild(T))
        assert.strictEqual(taken._tag, "ActorNameTaken", "a kept child's id is taken")
        // restartChild brings it back, as a new actor with a new ref.
        yield* sup.restartChild("t")
        const again = yield* sup.ref(T)
        assert.notStrictEqual(again, t)
        assert.strictEqual(yield* get(again), 0)
        yield* sup.restartChild("t") // running: left as it is
        assert.strictEqual(yield* get(again), 0)
        assert.strictEqual((yield* Effect.flip(sup.restartChild("nobody")))._tag, "ActorNotFound")
      })
    )
  )

  it.effect("a transient child that ended is started again by a sibling's one-for-all restart", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const T = Supervisor.actor("t", counter({ start: 1 }), { restart: "transient" })
        const P = Supervisor.actor("p", counter())
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ strategy: "one-for-all", intensity: tolerant, children: [T, P] })
          )
        )
        yield* (yield* sup.ref(T)).tell({ _tag: "Halt" })
        yield* untilEvent(events, is("ActorTerminated", "/sup/t"))
        yield* (yield* sup.ref(P)).tell({ _tag: "Crash", message: "sibling" })
        const restarted = yield* untilEvent(events, is("ActorRestarted", "/sup/t"))
        assert.deepStrictEqual([restarted.trigger, restarted.reason], ["/sup/p", ExitReason.shutdown])
        yield* untilEvent(events, is("ActorStarted", "/sup/t"))
        assert.strictEqual(yield* get(yield* sup.ref(T)), 1)
        assert.isTrue((yield* sup.children).every((child) => child.running))
      })
    )
  )

  it.effect("temporary children are never restarted, and are removed even when a sibling's failure stops them", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const Tmp = Supervisor.actor("tmp", counter(), { restart: "temporary" })
        const Perm = Supervisor.actor("perm", counter())
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ strategy: "one-for-all", intensity: tolerant, children: [Tmp, Perm] })
          )
        )
        const perm = yield* sup.ref(Perm)
        yield* perm.tell({ _tag: "Crash", message: "x" })
        const stopped = yield* untilEvent(events, is("ActorTerminated", "/sup/tmp"))
        assert.strictEqual(stopped.reason._tag, "Shutdown")
        yield* untilEvent(events, is("ActorRestarted", "/sup/perm"))
        assert.deepStrictEqual(
          (yield* sup.children).map((child) => child.id),
          ["perm"]
        )

        const tmp2 = yield* sup.startChild(Supervisor.actor("tmp2", counter(), { restart: "temporary" }))
        yield* tmp2.tell({ _tag: "Crash", message: "y" })
        const gone = yield* untilEvent(events, is("ActorTerminated", "/sup/tmp2"))
        assert.strictEqual(gone.reason._tag, "Failed")
        assert.deepStrictEqual(
          (yield* sup.children).map((child) => child.id),
          ["perm"]
        )
      })
    )
  )

  it.effect("over its intensity a supervisor stops its children and exits with Shutdown, saying why", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ intensity: { maxRestarts: 2, within: "1 second" }, children: [A, B] }),
            { restart: "temporary" }
          )
        )
        const a = yield* sup.ref(A)
        const b = yield* sup.ref(B)
        for (let i = 0; i < 2; i++) {
          yield* a.tell({ _tag: "Crash", message: `crash ${i}` })
          yield* untilEvent(events, is("ActorRestarted", "/sup/a"))
        }
        yield* a.tell({ _tag: "Crash", message: "one too many" })
        const gaveUp = yield* untilEvent(events, is("SupervisorGaveUp", "/sup"))
        assert.deepInclude(gaveUp, { child: "/sup/a", restarts: 2, withinMillis: 1000 })
        const order: Array<string> = []
        let reason: ExitReason.ExitReason | undefined
        while (order.length < 3) {
          const stopped = yield* untilEvent(events, is("ActorTerminated"))
          order.push(stopped.path)
          reason = stopped.reason
        }
        assert.deepStrictEqual(order, ["/sup/b", "/sup/a", "/sup"])
        assert.deepStrictEqual(reason, ExitReason.shutdownWith("gave up: /sup/a exited after 2 restarts within 1000ms"))
        assert.deepStrictEqual(yield* system.paths, ["/"])
        assert.strictEqual((yield* Effect.flip(get(b)))._tag, "ActorStopped")
      })
    )
  )

  it.effect("a supervisor that gave up is not restarted by a transient parent, and is by a permanent one", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const inner = Supervisor.make({ intensity: { maxRestarts: 0, within: "1 second" }, children: [A] })
        const outer = yield* system.startChild(
          Supervisor.supervisor(
            "outer",
            Supervisor.make({
              intensity: tolerant,
              children: [
                Supervisor.supervisor("transient", inner, { restart: "transient" }),
                Supervisor.supervisor("permanent", inner)
              ]
            })
          )
        )
        const transientA = yield* (yield* outer.supervisor("transient")).ref(A)
        yield* transientA.tell({ _tag: "Crash", message: "x" })
        yield* untilEvent(events, is("SupervisorGaveUp", "/outer/transient"))
        const ended = yield* untilEvent(events, is("ActorTerminated", "/outer/transient"))
        assert.strictEqual(ended.reason._tag, "Shutdown")
        assert.deepStrictEqual(
          (yield* outer.children).map((c) => [c.id, c.running]),
          [
            ["transient", false],
            ["permanent", true]
          ]
        )

        const permanentA = yield* (yield* outer.supervisor("permanent")).ref(A)
        yield* permanentA.tell({ _tag: "Add", n: 1 })
        yield* permanentA.tell({ _tag: "Crash", message: "y" })
        yield* untilEvent(events, is("SupervisorGaveUp", "/outer/permanent"))
        const restarted = yield* untilEvent(events, is("ActorRestarted", "/outer/permanent"))
        assert.deepStrictEqual([restarted.trigger, restarted.reason._tag], ["/outer/permanent", "Shutdown"])
        // Restarted from its spec, in place: the declared child's ref stays valid, with fresh state.
        assert.strictEqual(yield* get(permanentA), 100)
      })
    )
  )

  it.effect(
    "a restarted supervisor restarts from its spec: children added on demand are gone, ended ones come back",
    () =>
      withSystem(
        Effect.gen(function* () {
          const system = yield* ActorSystem.ActorSystem
          const events = yield* system.subscribe
          const T = Supervisor.actor("t", counter({ start: 7 }), { restart: "transient" })
          const Trigger = Supervisor.actor("trigger", counter())
          const inner = Supervisor.make({ intensity: { maxRestarts: 0, within: "1 second" }, children: [T, Trigger] })
          const outer = yield* system.startChild(
            Supervisor.supervisor(
              "outer",
              Supervisor.make({ intensity: tolerant, children: [Supervisor.supervisor("inner", inner)] })
            )
          )
          const innerRef = yield* outer.supervisor("inner")
          const extra = yield* innerRef.startChild(Supervisor.actor("extra", counter()))
          yield* (yield* innerRef.ref(T)).tell({ _tag: "Halt" })
          yield* untilEvent(events, is("ActorTerminated", "/outer/inner/t"))
          assert.deepStrictEqual(
            (yield* innerRef.children).map((c) => [c.id, c.running]),
            [
              ["t", false],
              ["trigger", true],
              ["extra", true]
            ]
          )
          yield* (yield* innerRef.ref(Trigger)).tell({ _tag: "Crash", message: "over the limit" })
          yield* untilEvent(events, is("ActorRestarted", "/outer/inner"))
          yield* untilEvent(events, is("ActorStarted", "/outer/inner"))
          assert.deepStrictEqual(
            (yield* innerRef.children).map((c) => [c.id, c.running]),
            [
              ["t", true],
              ["trigger", true]
            ]
          )
          assert.strictEqual(yield* get(yield* innerRef.ref(T)), 7)
          assert.strictEqual((yield* Effect.flip(get(extra)))._tag, "ActorStopped")
        })
      )
  )

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

  it.effect("an escalation is handled by the parent supervisor, which restarts the subtree in place", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const inner = Supervisor.make({ intensity: { maxRestarts: 0, within: "1 second" }, children: [A, B] })
        const Sibling = Supervisor.actor("sibling", counter({ start: 7 }))
        const outer = yield* system.startChild(
          Supervisor.supervisor(
            "outer",
            Supervisor.make({ children: [Supervisor.supervisor("inner", inner), Sibling] })
          )
        )
        const innerRef = yield* outer.supervisor("inner")
        const a = yield* innerRef.ref(A)
        const b = yield* innerRef.ref(B)
        const sibling = yield* outer.ref(Sibling)
        yield* b.tell({ _tag: "Add", n: 1 })
        yield* sibling.tell({ _tag: "Add", n: 1 })
        yield* a.tell({ _tag: "Crash", message: "x" })
        yield* untilEvent(events, is("SupervisorGaveUp", "/outer/inner"))
        const restarted = yield* untilEvent(events, is("ActorRestarted", "/outer/inner"))
        assert.strictEqual(restarted.reason._tag, "Shutdown")
        // The refs stay valid: the children were restarted with fresh state.
        assert.strictEqual(yield* get(b), 200)
        assert.strictEqual(yield* get(a), 100)
        assert.strictEqual(yield* get(sibling), 8)
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

  it.effect("a handler that interrupts itself died: a transient child is restarted", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const Quitter = Supervisor.actor(
          "quitter",
          Actor.make({
            protocol: Schema.Literal("quit"),
            init: () => Effect.void,
            receive: () => Effect.interrupt
          }),
          { restart: "transient" }
        )
        const sup = yield* system.startChild(Supervisor.supervisor("sup", Supervisor.make({ children: [Quitter] })))
        yield* (yield* sup.ref(Quitter)).tell("quit")
        const restarted = yield* untilEvent(events, is("ActorRestarted", "/sup/quitter"))
        assert.deepStrictEqual(restarted.reason, { _tag: "Died", defect: "interrupted" })
      })
    )
  )

  it.effect("templates build child specs on demand; children are stopped by id", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const pool = yield* system.startChild(Supervisor.supervisor("pool", Supervisor.make({ intensity: tolerant })))
        const Worker = Supervisor.template((start: number) => counter({ start }))
        assert.strictEqual(Worker("w", 1).restart, "transient")
        const w1 = yield* pool.startChild(Worker("w1", 10))
        const w2 = yield* pool.startChild(Worker("w2", 20))
        assert.strictEqual(yield* get(w1), 10)
        assert.strictEqual(yield* get(w2), 20)
        assert.strictEqual(w2.path, "/pool/w2")
        const taken = yield* Effect.flip(pool.startChild(Worker("w1", 30)))
        assert.strictEqual(taken._tag, "ActorNameTaken")
        // Template children are transient: a crash brings them back with the same arguments.
        yield* w1.tell({ _tag: "Add", n: 1 })
        yield* w1.tell({ _tag: "Crash", message: "x" })
        assert.strictEqual(yield* get(w1), 10)
        yield* pool.stopChild("w1")
        assert.deepStrictEqual(
          (yield* pool.children).map((child) => child.path),
          ["/pool/w2"]
        )
        const missing = yield* Effect.flip(pool.stopChild("w1"))
        assert.strictEqual(missing._tag, "ActorNotFound")
        assert.strictEqual(Supervisor.template(() => counter(), { restart: "permanent" })("p", 0).restart, "permanent")
      })
    )
  )

  it("defaults to OTP's flags: one-for-one, 1 restart within 5 seconds, permanent children", () => {
    const spec = Supervisor.make({ children: [A] })
    assert.strictEqual(spec.strategy, "one-for-one")
    assert.strictEqual(spec.intensity.maxRestarts, 1)
    assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(spec.intensity.within)), 5000)
    assert.isUndefined(spec.backoff)
    assert.strictEqual(A.restart, "permanent")
    assert.strictEqual(Supervisor.supervisor("s", spec).restart, "permanent")
    assert.isTrue(Supervisor.shouldRestart("permanent", false))
    assert.isTrue(Supervisor.shouldRestart("transient", true))
    assert.isFalse(Supervisor.shouldRestart("transient", false))
    assert.isFalse(Supervisor.shouldRestart("temporary", true))
  })
})
