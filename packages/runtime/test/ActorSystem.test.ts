import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Schedule, Schema, Stream } from "effect"
import { Actor, ActorSystem, LifecycleEvent, Next, Supervisor } from "../src/index.ts"
import { counter, gate, get, is, makeFiberCounter, settle, temporary, untilEvent, withSystem } from "./support.ts"

const tree = Supervisor.make({
  strategy: "one-for-all",
  children: [
    Supervisor.actor("store", counter()),
    Supervisor.supervisor(
      "workers",
      Supervisor.make({ children: [Supervisor.actor("w1", counter()), Supervisor.actor("w2", counter())] })
    ),
    Supervisor.actor("api", counter())
  ]
})

const X = Supervisor.actor("x", counter())

describe("ActorSystem", () => {
  it.effect("spawns at a path, finds actors by path and protocol, refuses taken names", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const behavior = counter({ start: 3 })
        const ref = yield* system.startChild(temporary("orchestrator", behavior))
        assert.strictEqual(ref.path, "/orchestrator")
        const found = yield* system.lookup("/orchestrator", behavior.protocol)
        assert.strictEqual(yield* found.ask<number>((replyTo) => ({ _tag: "Get", replyTo })), 3)
        const mismatch = yield* Effect.flip(system.lookup("/orchestrator", Schema.String))
        assert.strictEqual(mismatch._tag, "ProtocolMismatch")
        const missing = yield* Effect.flip(system.lookup("/nobody", behavior.protocol))
        assert.strictEqual(missing._tag, "ActorNotFound")
        const taken = yield* Effect.flip(system.startChild(temporary("orchestrator", behavior)))
        assert.strictEqual(taken._tag, "ActorNameTaken")
        const invalid = yield* Effect.flip(system.startChild(temporary("a/b", behavior)))
        assert.deepInclude(invalid, { _tag: "InvalidActorName", parent: "/", name: "a/b" })
        const empty = yield* Effect.flip(system.startChild(temporary("", behavior)))
        assert.deepInclude(empty, { _tag: "InvalidActorName", parent: "/", name: "" })

        yield* system.startChild(Supervisor.supervisor("team", tree))
        assert.deepStrictEqual(yield* system.paths, [
          "/",
          "/orchestrator",
          "/team",
          "/team/api",
          "/team/store",
          "/team/workers",
          "/team/workers/w1",
          "/team/workers/w2"
        ])
        const w2 = yield* system.lookupUnknown("/team/workers/w2")
        yield* w2.tellUnknown({ _tag: "Add", n: 1 })
        const workers = yield* system.lookupSupervisor("/team/workers")
        assert.deepStrictEqual(
          (yield* workers.children).map((c) => [c.id, c.kind, c.restart, c.running]),
          [
            ["w1", "actor", "permanent", true],
            ["w2", "actor", "permanent", true]
          ]
        )
      })
    )
  )

  it.effect("stop by path stops a subtree, children before their parent", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        yield* system.startChild(Supervisor.supervisor("team", tree))
        yield* system.stop("/team/workers")
        const order: Array<string> = []
        while (order.length < 3) order.push((yield* untilEvent(events, is("ActorTerminated"))).path)
        assert.deepStrictEqual(order, ["/team/workers/w2", "/team/workers/w1", "/team/workers"])
        assert.deepStrictEqual(yield* system.paths, ["/", "/team", "/team/api", "/team/store"])
        const missing = yield* Effect.flip(system.stop("/team/workers"))
        assert.strictEqual(missing._tag, "ActorNotFound")
      })
    )
  )

  it.effect("an actor can stop itself through the system, from inside its handler", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const selfStopper = Actor.make({
          protocol: Schema.Literal("stop yourself"),
          init: () => Effect.void,
          receive: (state, _message, context) =>
            Effect.as(Effect.orDie(system.stop(context.path)), Next.continueWith(state))
        })
        const ref = yield* system.startChild(temporary("self-stopper", selfStopper))
        yield* ref.tell("stop yourself")
        const stopped = yield* untilEvent(events, is("ActorTerminated", "/self-stopper"))
        assert.strictEqual(stopped.reason._tag, "Shutdown")
        assert.deepStrictEqual(yield* system.paths, ["/"])
      })
    )
  )

  it.effect("when the root supervisor gives up, the system ends and says why", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const system = yield* ActorSystem.make({ intensity: { maxRestarts: 2, within: "1 minute" } })
        const events = yield* system.subscribe
        const crashy = yield* system.startChild(Supervisor.actor("crashy", counter()))
        yield* system.startChild(temporary("innocent", counter()))
        for (let i = 0; i < 3; i++) yield* crashy.tell({ _tag: "Crash", message: `crash ${i}` })
        const reason = yield* system.terminated
        assert.deepStrictEqual(reason, {
          _tag: "Shutdown",
          detail: "gave up: /crashy exited after 2 restarts within 60000ms"
        })
        assert.deepInclude(yield* untilEvent(events, is("SupervisorGaveUp", "/")), {
          child: "/crashy",
          restarts: 2,
          withinMillis: 60_000
        })
        assert.deepStrictEqual(yield* system.paths, [])
        const refused = yield* Effect.flip(system.startChild(temporary("late", counter())))
        assert.strictEqual(refused._tag, "ActorStopped")
      })
    )
  )

  it.effect("shutdown stops children before parents and leaves no fiber running", () => {
    const fibers = makeFiberCounter()
    return fibers.provide(
      Effect.gen(function* () {
        const baseline = fibers.live()
        const stoppedOrder: Array<string> = []
        yield* Effect.scoped(
          Effect.gen(function* () {
            const system = yield* ActorSystem.make()
            const events = yield* system.subscribe
            yield* system.startChild(Supervisor.supervisor("team", tree))
            const backoff = yield* system.startChild(
              Supervisor.supervisor(
                "slow",
                Supervisor.make({
                  backoff: Schedule.spaced("1 hour"),
                  children: [X]
                })
              )
            )
            const x = yield* backoff.ref(X)
            yield* x.tell({ _tag: "Crash", message: "waits an hour for its restart" })
            yield* untilEvent(events, is("ActorRestarted", "/slow/x"))
            const worker = yield* system.startChild(temporary("busy", counter()))
            for (let i = 0; i < 100; i++) yield* worker.tell({ _tag: "Add", n: 1 })
            // An answered ask leaves the system's timer sleeping until its deadline: shutdown ends it too.
            assert.strictEqual(yield* get(worker), 100)
            assert.isAbove(fibers.live(), baseline)
            yield* system.shutdown
            while (true) {
              const event = yield* untilEvent(events, is("ActorTerminated"))
              stoppedOrder.push(event.path)
              if (event.path === "/") break
            }
          })
        )
        yield* settle
        assert.strictEqual(fibers.live(), baseline, "every fiber the system started has ended")
        const stoppedBefore = (child: string, parent: string) =>
          assert.isBelow(stoppedOrder.indexOf(child), stoppedOrder.indexOf(parent), `${child} before ${parent}`)
        stoppedBefore("/team/workers/w1", "/team/workers")
        stoppedBefore("/team/workers/w2", "/team/workers")
        stoppedBefore("/team/workers", "/team")
        stoppedBefore("/team/store", "/team")
        stoppedBefore("/team/api", "/team")
        stoppedBefore("/slow/x", "/slow")
        stoppedBefore("/team", "/")
        stoppedBefore("/busy", "/")
        assert.strictEqual(stoppedOrder.at(-1), "/")
      })
    )
  })

  it.effect("stopping waits until the actor's handler has been interrupted and its finalizers have run", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const log: Array<string> = []
        const g = gate()
        const careful = Actor.make({
          protocol: Schema.Literal("work"),
          init: () => Effect.void,
          receive: (state) =>
            Effect.as(
              Effect.onInterrupt(Effect.never, () =>
                Effect.andThen(
                  Effect.promise(() => g.until),
                  Effect.sync(() => log.push("cleaned up"))
                )
              ),
              Next.continueWith(state)
            )
        })
        const ref = yield* system.startChild(temporary("careful", careful))
        yield* ref.tell("work")
        yield* settle
        const stopping = yield* Effect.forkChild(system.stop("/careful"))
        yield* settle
        assert.isUndefined(stopping.pollUnsafe(), "still cleaning up")
        g.open()
        yield* Fiber.join(stopping)
        assert.deepStrictEqual(log, ["cleaned up"])
      })
    )
  )

  it.effect("publishes lifecycle events that decode with their schema", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(system.events, 4)))
        yield* settle
        yield* system.startChild(
          Supervisor.supervisor("sup", Supervisor.make({ children: [Supervisor.actor("a", counter())] }))
        )
        const a = yield* system.lookupUnknown("/sup/a")
        yield* a.tellUnknown({ _tag: "Crash", message: "x" })
        const events = yield* Fiber.join(collected)
        assert.deepStrictEqual(
          events.map((e) => `${e._tag} ${e.path}`),
          ["ActorStarted /sup/a", "ActorStarted /sup", "ActorRestarted /sup/a", "ActorStarted /sup/a"]
        )
        for (const event of events) {
          const roundTrip = Schema.decodeUnknownSync(LifecycleEvent.LifecycleEvent)(
            Schema.encodeSync(LifecycleEvent.LifecycleEvent)(event)
          )
          assert.deepStrictEqual(roundTrip, event)
        }
      })
    )
  )
})
