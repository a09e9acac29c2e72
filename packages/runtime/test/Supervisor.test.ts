import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, PubSub, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Actor, ActorSystem, ExitReason, Next, ReplyTo, Supervisor } from "../src/index.ts"
import { counter, gate, get, is, settle, untilEvent, withSystem } from "./support.ts"

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

  it.effect("the exit of an incarnation that a sibling's restart has replaced or halted is not a second failure", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        for (const backoff of [undefined, Schedule.spaced("1 second")]) {
          const sup = yield* system.startChild(
            Supervisor.supervisor(
              "sup",
              Supervisor.make({
                strategy: "one-for-all",
                intensity: { maxRestarts: 1, within: "1 minute" },
                backoff,
                children: [A, B]
              }),
              { restart: "temporary" }
            )
          )
          const a = yield* sup.ref(A)
          const b = yield* sup.ref(B)
          // Both crash in the same turn: b's exit reaches the supervisor after a's restart covered b.
          yield* a.tell({ _tag: "Crash", message: "a" })
          yield* b.tell({ _tag: "Crash", message: "b" })
          yield* untilEvent(events, is("ActorRestarted", "/sup/b"))
          yield* TestClock.adjust("1 second")
          assert.strictEqual(yield* get(b), 200)
          assert.strictEqual(yield* get(a), 100)
          const restarts = (yield* PubSub.takeAll(events)).filter((e) => e._tag === "ActorRestarted")
          assert.deepStrictEqual(restarts, [], "one restart for both")
          yield* system.stopChild("sup")
        }
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

  it.effect("a startChild waiting for a supervisor that is giving up is refused", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        // A child that takes a second to halt, so the supervisor is still giving up when startChild comes.
        const Slow = Supervisor.actor(
          "slow",
          Actor.make({
            protocol: Schema.Literal("park"),
            init: () => Effect.void,
            receive: (state) =>
              Effect.as(
                Effect.onInterrupt(Effect.never, () => Effect.sleep("1 second")),
                Next.continueWith(state)
              )
          })
        )
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ intensity: { maxRestarts: 0, within: "1 minute" }, children: [Slow, A] }),
            { restart: "temporary" }
          )
        )
        yield* (yield* sup.ref(Slow)).tell("park")
        yield* settle
        yield* (yield* sup.ref(A)).tell({ _tag: "Crash", message: "over" })
        yield* untilEvent(events, is("SupervisorGaveUp", "/sup"))
        const late = yield* Effect.forkChild(Effect.flip(sup.startChild(Supervisor.actor("late", counter()))))
        yield* settle
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(late))._tag, "ActorStopped")
        yield* untilEvent(events, is("ActorTerminated", "/sup"))
        assert.deepStrictEqual(yield* system.paths, ["/"])
      })
    )
  )

  it.effect("a supervisor that is halted, or whose restart failed, refuses startChild until it runs again", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        let starts = 0
        const K = Supervisor.actor("k", counter({ failInit: () => ++starts === 2 }))
        const Sibling = Supervisor.actor("sibling", counter())
        const outer = yield* system.startChild(
          Supervisor.supervisor(
            "outer",
            Supervisor.make({
              strategy: "one-for-all",
              intensity: tolerant,
              backoff: Schedule.spaced("1 second"),
              children: [Supervisor.supervisor("inner", Supervisor.make({ children: [A, K] })), Sibling]
            })
          )
        )
        const inner = yield* outer.supervisor("inner")
        const a = yield* inner.ref(A)
        yield* inner.startChild(Supervisor.actor("dynamic", counter()))
        const late = (id: string) => Effect.flip(inner.startChild(Supervisor.actor(id, counter())))
        const listed = Effect.map(inner.children, (children) => children.map((c) => `${c.id} ${c.running}`))
        yield* (yield* outer.ref(Sibling)).tell({ _tag: "Crash", message: "sibling" })
        yield* untilEvent(events, is("ActorRestarted", "/outer/inner"))
        assert.strictEqual((yield* late("x"))._tag, "ActorStopped", "halted, waiting for its restart")
        assert.deepStrictEqual(yield* listed, ["a false", "k false"], "what it started on demand is gone")
        yield* TestClock.adjust("1 second")
        const retried = yield* untilEvent(events, is("ActorRestarted", "/outer/inner"))
        assert.strictEqual(retried.reason._tag, "Failed", "its child failed to start")
        assert.strictEqual((yield* late("y"))._tag, "ActorStopped", "its restart failed")
        // `a` had started again before `k` failed: it was halted with the rest, so it waits for the next try.
        assert.deepStrictEqual(yield* listed, ["a false", "k false"])
        const asking = yield* Effect.forkChild(get(a))
        yield* settle
        assert.isUndefined(asking.pollUnsafe())
        yield* TestClock.adjust("1 second")
        yield* untilEvent(events, is("ActorStarted", "/outer/inner"))
        assert.strictEqual(yield* Fiber.join(asking), 100)
        assert.strictEqual(yield* get(yield* inner.startChild(Supervisor.actor("z", counter({ start: 4 })))), 4)
      })
    )
  )

  it.effect("an actor stopping its own supervisor while that supervisor is halting it does not deadlock", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const g = gate()
        // z takes its time to halt, so the supervisor is busy restarting when x asks for its end.
        const Z = Supervisor.actor(
          "z",
          Actor.make({
            protocol: Schema.Literal("park"),
            init: () => Effect.void,
            receive: (state) =>
              Effect.as(
                Effect.onInterrupt(Effect.never, () => Effect.promise(() => g.until)),
                Next.continueWith(state)
              )
          })
        )
        const X = Supervisor.actor(
          "x",
          Actor.make({
            protocol: Schema.Literal("stop your supervisor"),
            init: () => Effect.void,
            receive: (state) => Effect.as(Effect.orDie(system.stop("/s")), Next.continueWith(state))
          })
        )
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "s",
            Supervisor.make({ strategy: "one-for-all", intensity: tolerant, children: [X, A, Z] })
          )
        )
        yield* (yield* sup.ref(Z)).tell("park")
        yield* settle
        yield* (yield* sup.ref(A)).tell({ _tag: "Crash", message: "restart everyone" })
        yield* settle // the supervisor is halting z, last started first
        yield* (yield* sup.ref(X)).tell("stop your supervisor")
        yield* settle
        g.open()
        yield* untilEvent(events, is("ActorTerminated", "/s"))
        assert.deepStrictEqual(yield* system.paths, ["/"])
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
        // Stopping the parent stops what runs; the child that had ended is not ended twice.
        yield* system.stop("/outer")
        const stopped: Array<string> = []
        while (true) {
          const event = yield* untilEvent(events, is("ActorTerminated"))
          stopped.push(event.path)
          if (event.path === "/outer") break
        }
        assert.notInclude(stopped, "/outer/transient")
        assert.include(stopped, "/outer/permanent")
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

  it.effect("a child's init may start and stop its siblings through their supervisor, from a handler too", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        let team: Supervisor.SupervisorRef | undefined
        // Its init stops `z` and starts `w` through the supervisor that is starting it.
        const Meddler = Supervisor.actor(
          "meddler",
          Actor.make({
            protocol: Schema.Literal("noop"),
            init: () =>
              Effect.gen(function* () {
                yield* Effect.orDie(team!.stopChild("z"))
                yield* Effect.orDie(team!.startChild(Supervisor.actor("w", counter())))
              }),
            receive: (state) => Effect.succeed(Next.continueWith(state))
          })
        )
        const Starter = Supervisor.actor(
          "starter",
          Actor.make({
            protocol: Schema.Struct({ replyTo: ReplyTo.schema<void>() }),
            init: () => Effect.void,
            receive: (state, message) =>
              Effect.as(
                ReplyTo.from(message.replyTo, Effect.orDie(team!.startChild(Meddler))),
                Next.continueWith(state)
              )
          })
        )
        team = yield* system.startChild(
          Supervisor.supervisor("team", Supervisor.make({ children: [Supervisor.actor("z", counter()), Starter] }))
        )
        const starter = yield* team.ref(Starter)
        yield* starter.ask<void>((replyTo) => ({ replyTo }), { timeout: "1 second" })
        assert.deepStrictEqual(
          (yield* team.children).map((c) => c.id),
          ["starter", "meddler", "w"]
        )
      })
    )
  )

  it.effect("starts through one supervisor are serialised: a second waits for the first child's init", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const log: Array<string> = []
        const slow = (id: string) =>
          Supervisor.actor(
            id,
            Actor.make({
              protocol: Schema.Literal("noop"),
              init: () =>
                Effect.gen(function* () {
                  log.push(`begin ${id}`)
                  yield* Effect.sleep("1 second")
                  log.push(`end ${id}`)
                }),
              receive: (state) => Effect.succeed(Next.continueWith(state))
            })
          )
        const sup = yield* system.startChild(Supervisor.supervisor("sup", Supervisor.make({})))
        const first = yield* Effect.forkChild(sup.startChild(slow("a")))
        const second = yield* Effect.forkChild(sup.startChild(slow("b")))
        yield* settle
        assert.deepStrictEqual(log, ["begin a"])
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(first)
        yield* settle
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(second)
        assert.deepStrictEqual(log, ["begin a", "end a", "begin b", "end b"])
      })
    )
  )

  it.effect("a supervisor declared later in a spec refuses children until it has started", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        let early: string | undefined
        // `a` starts first; its init reaches for `b`, registered but not started yet.
        const Early = Supervisor.actor(
          "a",
          Actor.make({
            protocol: Schema.Literal("noop"),
            init: () =>
              Effect.gen(function* () {
                const b = yield* Effect.orDie(system.lookupSupervisor("/sup/b"))
                early = (yield* Effect.flip(b.startChild(Supervisor.actor("x", counter()))))._tag
              }),
            receive: (state) => Effect.succeed(Next.continueWith(state))
          })
        )
        const sup = yield* system.startChild(
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ children: [Early, Supervisor.supervisor("b", Supervisor.make({}))] })
          )
        )
        assert.strictEqual(early, "ActorStopped")
        assert.strictEqual(
          yield* get(yield* (yield* sup.supervisor("b")).startChild(Supervisor.actor("x", counter()))),
          0
        )
      })
    )
  )

  it.effect("a spec refused for a duplicate child id registers nothing; the corrected spec then starts", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const nested = (children: ReadonlyArray<Supervisor.Child>) =>
          Supervisor.supervisor(
            "sup",
            Supervisor.make({ children: [A, Supervisor.supervisor("inner", Supervisor.make({ children }))] })
          )
        const refused = yield* Effect.flip(system.startChild(nested([B, C, Supervisor.actor("b", counter())])))
        assert.deepInclude(refused, {
          _tag: "InvalidSupervisorSpec",
          path: "/sup/inner",
          reason: "duplicate child id b"
        })
        assert.deepStrictEqual(yield* system.paths, ["/"])
        const sup = yield* system.startChild(nested([B, C]))
        assert.strictEqual(yield* get(yield* sup.ref(A)), 100)
        assert.deepStrictEqual(yield* system.paths, [
          "/",
          "/sup",
          "/sup/a",
          "/sup/inner",
          "/sup/inner/b",
          "/sup/inner/c"
        ])
      })
    )
  )

  it.effect("names and capacities are checked at start, before anything is registered", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        for (const capacity of [0, -1, 1.5, Number.POSITIVE_INFINITY, Number.NaN]) {
          const error = yield* Effect.flip(system.startChild(Supervisor.actor("c", counter({ capacity }))))
          assert.deepInclude(error, { _tag: "InvalidCapacity", path: "/c", capacity })
        }
        const deep = Supervisor.supervisor("sup", Supervisor.make({ children: [Supervisor.actor("x/y", counter())] }))
        assert.deepInclude(yield* Effect.flip(system.startChild(deep)), {
          _tag: "InvalidActorName",
          parent: "/sup",
          name: "x/y"
        })
        const badSupervision = Supervisor.actor(
          "agent",
          Actor.make({ ...counter(), supervision: { intensity: { maxRestarts: -1, within: 1 } } })
        )
        assert.strictEqual((yield* Effect.flip(system.startChild(badSupervision)))._tag, "InvalidSupervisorSpec")
        assert.deepStrictEqual(yield* system.paths, ["/"])
        assert.strictEqual(yield* get(yield* system.startChild(Supervisor.actor("c", counter({ capacity: 1 })))), 0)
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
