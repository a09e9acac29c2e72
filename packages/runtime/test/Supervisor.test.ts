import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Actor, type ActorRef, ActorSystem, Supervisor } from "../src/index.ts"
import { type CounterMessage, counter } from "./fixtures.ts"
import { is, settle, untilEvent, withSystem } from "./helpers.ts"

const get = (ref: ActorRef.ActorRef<CounterMessage>) => ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }))

const A = Supervisor.actor("a", counter({ start: 100 }))
const B = Supervisor.actor("b", counter({ start: 200 }))
const C = Supervisor.actor("c", counter({ start: 300 }))

/** Spawns a supervisor of a, b, c and adds 1 to each so that a restart (which resets state) shows. */
const threeChildren = (spec: Partial<Parameters<typeof Supervisor.make>[0]>) =>
  Effect.gen(function* () {
    const system = yield* ActorSystem.ActorSystem
    const sup = yield* system.spawnSupervisor("sup", Supervisor.make({ ...spec, children: [A, B, C] }))
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
        const restarted = yield* untilEvent(events, is("Restarted", "/sup/a"))
        assert.strictEqual(restarted.reason._tag, "Failed")
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
        const { a, b, c } = yield* threeChildren({ strategy: "rest-for-one" })
        yield* b.tell({ _tag: "Crash", message: "boom" })
        assert.strictEqual(yield* get(b), 200)
        assert.strictEqual(yield* get(c), 300)
        assert.strictEqual(yield* get(a), 101)
      })
    )
  )

  it.effect("permanent children restart after any exit, transient ones only after abnormal exits", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const P = Supervisor.actor("p", counter(), { restart: "permanent" })
        const T = Supervisor.actor("t", counter(), { restart: "transient" })
        const sup = yield* system.spawnSupervisor("sup", Supervisor.make({ children: [P, T] }))
        const p = yield* sup.ref(P)
        const t = yield* sup.ref(T)

        yield* p.tell({ _tag: "Halt" }) // normal exit: a permanent child comes back anyway
        yield* untilEvent(events, is("Restarted", "/sup/p"))
        yield* t.tell({ _tag: "Crash", message: "x" }) // abnormal: a transient child comes back
        yield* untilEvent(events, is("Restarted", "/sup/t"))
        yield* t.tell({ _tag: "Halt" }) // normal: a transient child is done
        const stopped = yield* untilEvent(events, is("Stopped", "/sup/t"))
        assert.strictEqual(stopped.reason._tag, "Normal")

        const children = yield* sup.children
        assert.deepStrictEqual(
          children.map((child) => child.id),
          ["p"]
        )
        assert.strictEqual(yield* get(p), 0)
      })
    )
  )

  it.effect("temporary children are never restarted, even when a sibling's failure stops them", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const Tmp = Supervisor.actor("tmp", counter(), { restart: "temporary" })
        const Perm = Supervisor.actor("perm", counter())
        const sup = yield* system.spawnSupervisor(
          "sup",
          Supervisor.make({ strategy: "one-for-all", children: [Tmp, Perm] })
        )
        const perm = yield* sup.ref(Perm)
        yield* perm.tell({ _tag: "Crash", message: "x" })
        const stopped = yield* untilEvent(events, is("Stopped", "/sup/tmp"))
        assert.strictEqual(stopped.reason._tag, "Stopped")
        yield* untilEvent(events, is("Restarted", "/sup/perm"))
        assert.deepStrictEqual(
          (yield* sup.children).map((child) => child.id),
          ["perm"]
        )

        const Tmp2 = Supervisor.actor("tmp2", counter(), { restart: "temporary" })
        const tmp2 = yield* sup.startChild(Tmp2)
        yield* tmp2.tell({ _tag: "Crash", message: "y" })
        const gone = yield* untilEvent(events, is("Stopped", "/sup/tmp2"))
        assert.strictEqual(gone.reason._tag, "Failed")
      })
    )
  )

  it.effect("over its restart intensity a supervisor stops its children and escalates", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.spawnSupervisor(
          "sup",
          Supervisor.make({ intensity: { maxRestarts: 2, within: "1 second" }, children: [A, B] })
        )
        const a = yield* sup.ref(A)
        const b = yield* sup.ref(B)
        for (let i = 0; i < 2; i++) {
          yield* a.tell({ _tag: "Crash", message: `crash ${i}` })
          yield* untilEvent(events, is("Restarted", "/sup/a"))
        }
        yield* a.tell({ _tag: "Crash", message: "one too many" })
        const escalated = yield* untilEvent(events, is("Escalated", "/sup"))
        assert.deepInclude(escalated, { child: "/sup/a", restarts: 2, withinMillis: 1000 })
        // The supervisor was spawned temporary under the root: it stops for good, children first.
        const order: Array<string> = []
        while (order.length < 3) {
          const stopped = yield* untilEvent(events, is("Stopped"))
          order.push(stopped.path)
        }
        assert.deepStrictEqual(order, ["/sup/b", "/sup/a", "/sup"])
        assert.deepStrictEqual(yield* system.paths, ["/"])
        const error = yield* Effect.flip(get(b))
        assert.strictEqual(error._tag, "ActorStopped")
      })
    )
  )

  it.effect("restarts older than the intensity period do not count", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const sup = yield* system.spawnSupervisor(
          "sup",
          Supervisor.make({ intensity: { maxRestarts: 1, within: "1 second" }, children: [A] })
        )
        const a = yield* sup.ref(A)
        for (let i = 0; i < 4; i++) {
          yield* a.tell({ _tag: "Crash", message: `crash ${i}` })
          yield* untilEvent(events, is("Restarted", "/sup/a"))
          yield* TestClock.adjust("1001 millis")
        }
        assert.strictEqual(yield* get(a), 100)
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
        const outer = yield* system.spawnSupervisor(
          "outer",
          Supervisor.make({ children: [Supervisor.supervisor("inner", inner), Sibling] })
        )
        const innerRef = yield* outer.supervisor("inner")
        const a = yield* innerRef.ref(A)
        const b = yield* innerRef.ref(B)
        const sibling = yield* outer.ref(Sibling)
        yield* b.tell({ _tag: "Add", n: 1 })
        yield* sibling.tell({ _tag: "Add", n: 1 })
        yield* a.tell({ _tag: "Crash", message: "x" })
        yield* untilEvent(events, is("Escalated", "/outer/inner"))
        const restarted = yield* untilEvent(events, is("Restarted", "/outer/inner"))
        assert.strictEqual(restarted.reason._tag, "Escalated")
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
        const sup = yield* system.spawnSupervisor(
          "sup",
          Supervisor.make({
            intensity: { maxRestarts: 10, within: "1 minute" },
            backoff: Schedule.exponential("100 millis"),
            children: [A]
          })
        )
        const a = yield* sup.ref(A)
        const delays: Array<number> = []
        for (let i = 0; i < 3; i++) {
          yield* a.tell({ _tag: "Crash", message: `crash ${i}` })
          const restarted = yield* untilEvent(events, is("Restarted", "/sup/a"))
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

  it.effect("restarts children in start order, after halting them in reverse", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const log: Array<string> = []
        const children = ["a", "b", "c"].map((id) => Supervisor.actor(id, counter({ log })))
        const sup = yield* system.spawnSupervisor("sup", Supervisor.make({ strategy: "one-for-all", children }))
        const refs = yield* Effect.forEach(children, (child) => sup.ref(child))
        for (const ref of refs) yield* get(ref) // every child has started
        const b = refs[1]!
        const events = yield* system.subscribe
        log.length = 0
        yield* b.tell({ _tag: "Crash", message: "x" })
        const started: Array<string> = []
        for (let i = 0; i < 3; i++) started.push((yield* untilEvent(events, is("Started"))).path)
        assert.deepStrictEqual(log, ["init /sup/a #2", "init /sup/b #2", "init /sup/c #2"])
        assert.deepStrictEqual(started, ["/sup/a", "/sup/b", "/sup/c"])
      })
    )
  )

  it.effect("a later failure reschedules pending restarts, so dependencies still start first", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const log: Array<string> = []
        const children = ["a", "b", "c"].map((id) => Supervisor.actor(id, counter({ log, start: 7 })))
        const sup = yield* system.spawnSupervisor(
          "sup",
          Supervisor.make({ strategy: "rest-for-one", backoff: Schedule.exponential("100 millis"), children })
        )
        const refs = yield* Effect.forEach(children, (child) => sup.ref(child))
        for (const ref of refs) yield* get(ref) // every child has started
        const [a, b] = refs as [ActorRef.ActorRef<CounterMessage>, ActorRef.ActorRef<CounterMessage>]
        const events = yield* system.subscribe
        log.length = 0
        yield* b.tell({ _tag: "Crash", message: "first" }) // b and c wait 100 ms
        assert.strictEqual((yield* untilEvent(events, is("Restarted", "/sup/b"))).delayMillis, 100)
        yield* TestClock.adjust("10 millis")
        yield* a.tell({ _tag: "Crash", message: "second" }) // now a, b and c wait 200 ms, a first
        assert.strictEqual((yield* untilEvent(events, is("Restarted", "/sup/a"))).delayMillis, 200)
        yield* TestClock.adjust("150 millis")
        yield* settle
        assert.deepStrictEqual(log, [], "the first restart was superseded")
        yield* TestClock.adjust("60 millis")
        assert.strictEqual(yield* get(a), 7)
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
        const sup = yield* system.spawnSupervisor("sup", Supervisor.make({ children: [Quitter] }))
        yield* (yield* sup.ref(Quitter)).tell("quit")
        const restarted = yield* untilEvent(events, is("Restarted", "/sup/quitter"))
        assert.deepStrictEqual(restarted.reason, { _tag: "Died", defect: "interrupted" })
      })
    )
  )

  it.effect("children are spawned from a template on demand, and stopped by id", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const pool = yield* system.spawnSupervisor("pool", Supervisor.make({}))
        const worker = Supervisor.template((start: number) => counter({ start }))
        const w1 = yield* pool.spawn(worker, "w1", 10)
        const w2 = yield* pool.spawn(worker, "w2", 20)
        assert.strictEqual(yield* get(w1), 10)
        assert.strictEqual(yield* get(w2), 20)
        assert.strictEqual(w2.path, "/pool/w2")
        const taken = yield* Effect.flip(pool.spawn(worker, "w1", 30))
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
      })
    )
  )
})
