import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, PubSub, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import {
  Actor,
  type ActorError,
  type ActorRef,
  ActorSystem,
  ExitReason,
  Next,
  ReplyTo,
  Supervisor
} from "../src/index.ts"
import {
  type CounterMessage,
  CounterProtocol,
  counter,
  gate,
  get,
  is,
  makeFiberCounter,
  settle,
  temporary,
  untilEvent,
  withSystem
} from "./support.ts"

describe("Actor", () => {
  it.effect("handles messages one at a time, in the order they were sent", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const Push = Schema.TaggedStruct("Push", { n: Schema.Int })
        const Read = Schema.TaggedStruct("Read", { replyTo: ReplyTo.schema<ReadonlyArray<number>>() })
        let concurrent = 0
        let maxConcurrent = 0
        const recorder = Actor.make({
          protocol: Schema.Union([Push, Read]),
          capacity: 16,
          init: () => Effect.succeed([] as Array<number>),
          receive: (seen, message) =>
            message._tag === "Read"
              ? Effect.as(ReplyTo.succeed(message.replyTo, seen), Next.continueWith(seen))
              : Effect.gen(function* () {
                  concurrent++
                  maxConcurrent = Math.max(maxConcurrent, concurrent)
                  yield* Effect.yieldNow
                  concurrent--
                  return Next.continueWith([...seen, message.n])
                })
        })
        const ref = yield* system.startChild(temporary("recorder", recorder))
        for (let n = 0; n < 500; n++) yield* ref.tell({ _tag: "Push", n })
        const seen = yield* ref.ask<ReadonlyArray<number>>((replyTo) => ({ _tag: "Read", replyTo }))
        assert.deepStrictEqual(
          seen,
          Array.from({ length: 500 }, (_, n) => n)
        )
        assert.strictEqual(maxConcurrent, 1)
      })
    )
  )

  it.effect("a busy actor lets others handle their messages now and then", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const log: Array<string> = []
        const logger = (name: string, last: number) =>
          Actor.make({
            protocol: Schema.Int,
            capacity: 10_000,
            init: () => Effect.void,
            receive: (state, n) => Effect.succeed(Next.continueWith(n === last ? void log.push(`${name} done`) : state))
          })
        const busy = yield* system.startChild(temporary("busy", logger("busy", 4999)))
        const other = yield* system.startChild(temporary("other", logger("other", 0)))
        yield* busy.tellAll(Array.from({ length: 5000 }, (_, n) => n))
        yield* other.tell(0)
        while (log.length < 2) yield* settle
        assert.deepStrictEqual(log, ["other done", "busy done"])
      })
    )
  )

  it.effect("a typed failure of the handler ends the incarnation with Failed, a defect with Died", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const a = yield* system.startChild(temporary("a", counter()))
        yield* a.tell({ _tag: "Crash", message: "bad input" })
        const stoppedA = yield* untilEvent(events, is("ActorTerminated", "/a"))
        assert.strictEqual(stoppedA.reason._tag, "Failed")
        assert.strictEqual(ExitReason.format(stoppedA.reason), "failed: Boom: bad input")

        const b = yield* system.startChild(temporary("b", counter()))
        yield* b.tell({ _tag: "Die" })
        const stoppedB = yield* untilEvent(events, is("ActorTerminated", "/b"))
        assert.strictEqual(stoppedB.reason._tag, "Died")
      })
    )
  )

  it.effect("Next.stop ends the actor normally and Next.fail abnormally", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const a = yield* system.startChild(temporary("a", counter()))
        yield* a.tell({ _tag: "Halt" })
        const stopped = yield* untilEvent(events, is("ActorTerminated", "/a"))
        assert.deepStrictEqual(stopped.reason, ExitReason.normal)

        const quitter = Actor.make({
          protocol: Schema.Literal("quit"),
          init: () => Effect.succeed(undefined),
          receive: () => Effect.succeed(Next.fail("gave up"))
        })
        const q = yield* system.startChild(temporary("q", quitter))
        yield* q.tell("quit")
        const failed = yield* untilEvent(events, is("ActorTerminated", "/q"))
        assert.deepStrictEqual(failed.reason, ExitReason.failed("gave up"))
      })
    )
  )

  it.effect("starting waits for init: a failing init fails the start with ChildInitFailed and adds nothing", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const broken = Actor.make({
          protocol: Schema.String,
          init: () => Effect.fail("no config"),
          receive: (s: undefined) => Effect.succeed(Next.continueWith(s))
        })
        const error = yield* Effect.flip(system.startChild(Supervisor.actor("broken", broken)))
        assert.deepInclude(error, { _tag: "ChildInitFailed", path: "/broken", reason: ExitReason.failed("no config") })
        assert.deepStrictEqual(yield* system.paths, ["/"])
        assert.deepStrictEqual(yield* system.children, [])
        // The name is free again.
        yield* system.startChild(Supervisor.actor("broken", counter()))
      })
    )
  )

  it.effect("death watch delivers Terminated with the exit reason, once the target is gone for good", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const Watch = Schema.TaggedStruct("Watch", { target: Schema.String })
        const Down = Schema.TaggedStruct("Down", { path: Schema.String, reason: ExitReason.ExitReason })
        const got = yield* Deferred.make<typeof Down.Type>()
        const watcher = Actor.make({
          protocol: Schema.Union([Watch, Down]),
          init: () => Effect.void,
          receive: (state, message, context) =>
            message._tag === "Watch"
              ? Effect.gen(function* () {
                  const target = yield* Effect.orDie(system.lookupUnknown(message.target))
                  yield* context.watch(target, (t) => ({ _tag: "Down", path: t.path, reason: t.reason }))
                  return Next.continueWith(state)
                })
              : Effect.as(Deferred.succeed(got, message), Next.continueWith(state))
        })
        const target = yield* system.startChild(temporary("target", counter()))
        const w = yield* system.startChild(temporary("watcher", watcher))
        yield* w.tell({ _tag: "Watch", target: "/target" })
        yield* Effect.yieldNow
        yield* target.tell({ _tag: "Crash", message: "oops" })
        const down = yield* Deferred.await(got)
        assert.strictEqual(down.path, "/target")
        assert.strictEqual(down.reason._tag, "Failed")
      })
    )
  )

  it.effect("death watch is silent while a supervised target is restarted, and speaks once it stops", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const seen: Array<string> = []
        const Target = Supervisor.actor("target", counter())
        const sup = yield* system.startChild(Supervisor.supervisor("sup", Supervisor.make({ children: [Target] })))
        const target = yield* sup.ref(Target)
        const Watch = Schema.TaggedStruct("Watch", {})
        const Down = Schema.TaggedStruct("Down", { path: Schema.String, reason: Schema.String })
        const Ping = Schema.TaggedStruct("Ping", { replyTo: ReplyTo.schema<ReadonlyArray<string>>() })
        const watcher = Actor.make({
          protocol: Schema.Union([Watch, Down, Ping]),
          init: () => Effect.void,
          receive: (state, message, context) => {
            switch (message._tag) {
              case "Watch":
                return Effect.as(
                  context.watch(target, (t) => ({ _tag: "Down", path: t.path, reason: t.reason._tag })),
                  Next.continueWith(state)
                )
              case "Down":
                return Effect.sync(() => {
                  seen.push(`${message.path} ${message.reason}`)
                  return Next.continueWith(state)
                })
              case "Ping":
                return Effect.as(ReplyTo.succeed(message.replyTo, [...seen]), Next.continueWith(state))
            }
          }
        })
        const w = yield* system.startChild(temporary("watcher", watcher))
        const ping = w.ask<ReadonlyArray<string>>((replyTo) => ({ _tag: "Ping", replyTo }))
        yield* w.tell({ _tag: "Watch" })
        yield* target.tell({ _tag: "Crash", message: "x" })
        yield* untilEvent(events, is("ActorRestarted", "/sup/target"))
        yield* untilEvent(events, is("ActorStarted", "/sup/target"))
        assert.deepStrictEqual(yield* ping, [], "a restart is not a termination")
        yield* sup.stopChild("target")
        yield* untilEvent(events, is("ActorTerminated", "/sup/target"))
        assert.deepStrictEqual(yield* ping, ["/sup/target Shutdown"])
      })
    )
  )

  it.effect("watching an actor that already stopped delivers at once; unwatch stops delivery", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const seen: Array<string> = []
        const Watch = Schema.TaggedStruct("Watch", { unwatch: Schema.Boolean })
        const Down = Schema.TaggedStruct("Down", { path: Schema.String })
        const Ping = Schema.TaggedStruct("Ping", { replyTo: ReplyTo.schema<ReadonlyArray<string>>() })
        const gone = yield* system.startChild(temporary("gone", counter()))
        const alive = yield* system.startChild(temporary("alive", counter()))
        yield* system.stop("/gone")
        const watcher = Actor.make({
          protocol: Schema.Union([Watch, Down, Ping]),
          init: () => Effect.void,
          receive: (state, message, context) => {
            switch (message._tag) {
              case "Watch":
                return Effect.gen(function* () {
                  yield* context.watch(gone, (t) => ({ _tag: "Down", path: t.path }))
                  yield* context.watch(alive, (t) => ({ _tag: "Down", path: t.path }))
                  if (message.unwatch) yield* context.unwatch(alive)
                  return Next.continueWith(state)
                })
              case "Down":
                return Effect.sync(() => {
                  seen.push(message.path)
                  return Next.continueWith(state)
                })
              case "Ping":
                return Effect.as(ReplyTo.succeed(message.replyTo, [...seen]), Next.continueWith(state))
            }
          }
        })
        const w = yield* system.startChild(temporary("watcher", watcher))
        const ping = w.ask<ReadonlyArray<string>>((replyTo) => ({ _tag: "Ping", replyTo }))
        yield* w.tell({ _tag: "Watch", unwatch: true })
        yield* ping // Watch has been handled
        yield* system.stop("/alive")
        yield* untilEvent(events, is("ActorTerminated", "/alive"))
        assert.deepStrictEqual(yield* ping, ["/gone"])
      })
    )
  )

  it.effect("death watch delivers Terminated even when the watcher's mailbox is full, once there is room", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const Watch = Schema.TaggedStruct("Watch", {})
        const Wait = Schema.TaggedStruct("Wait", { until: Schema.Any })
        const Down = Schema.TaggedStruct("Down", { path: Schema.String })
        const got = yield* Deferred.make<string>()
        const target = yield* system.startChild(temporary("target", counter()))
        const watcher = Actor.make({
          protocol: Schema.Union([Watch, Wait, Down]),
          capacity: 1,
          init: () => Effect.void,
          receive: (state, message, context) => {
            switch (message._tag) {
              case "Watch":
                return Effect.as(
                  context.watch(target, (t) => ({ _tag: "Down", path: t.path })),
                  Next.continueWith(state)
                )
              case "Wait":
                return Effect.as(
                  Effect.promise(() => message.until as Promise<void>),
                  Next.continueWith(state)
                )
              case "Down":
                return Effect.as(Deferred.succeed(got, message.path), Next.continueWith(state))
            }
          }
        })
        const w = yield* system.startChild(temporary("watcher", watcher))
        const g = gate()
        yield* w.tell({ _tag: "Watch" })
        yield* w.tell({ _tag: "Wait", until: g.until })
        yield* settle // the watcher is inside its handler
        yield* w.tell({ _tag: "Wait", until: Promise.resolve() }) // and its mailbox is full
        yield* system.stop("/target")
        g.open()
        assert.strictEqual(yield* Deferred.await(got), "/target")
      })
    )
  )

  it.effect("tellUnknown validates input against the protocol", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter()))
        const bad = yield* Effect.flip(ref.tellUnknown({ _tag: "Add", n: "two" }))
        assert.strictEqual(bad._tag, "InvalidMessage")
        assert.strictEqual(bad.path, "/c")
        yield* ref.tellUnknown({ _tag: "Add", n: 2 })
        const n = yield* ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }))
        assert.strictEqual(n, 2)
      })
    )
  )

  describe("children started from the context", () => {
    const Spawn = Schema.TaggedStruct("Spawn", {
      id: Schema.String,
      replyTo: ReplyTo.schema<ActorRef.ActorRef<CounterMessage>, ActorError.StartError>()
    })
    const Kids = Schema.TaggedStruct("Kids", { replyTo: ReplyTo.schema<ReadonlyArray<string>>() })
    const StopKid = Schema.TaggedStruct("StopKid", { id: Schema.String })
    const Down = Schema.TaggedStruct("Down", { path: Schema.String })
    const Fail = Schema.TaggedStruct("Fail", {})
    /** Runs the effect it carries in the handler. */
    const Hold = Schema.TaggedStruct("Hold", { run: Schema.Any })
    const contexts: Array<Actor.ActorContext<unknown>> = []
    const downs: Array<string> = []
    /** An actor that starts counters as its children, watches them, and lists them. */
    const parent = (supervision?: Supervisor.FlagsOptions) =>
      Actor.make({
        protocol: Schema.Union([Spawn, Kids, StopKid, Down, Fail, Hold]),
        supervision,
        init: (context) => Effect.sync(() => void contexts.push(context as Actor.ActorContext<unknown>)),
        receive: (state, message, context) => {
          switch (message._tag) {
            case "Spawn":
              return Effect.gen(function* () {
                const exit = yield* Effect.exit(context.startChild(Supervisor.actor(message.id, counter({ start: 5 }))))
                if (exit._tag === "Success") yield* context.watch(exit.value, (t) => ({ _tag: "Down", path: t.path }))
                yield* ReplyTo.complete(message.replyTo, exit)
                return Next.continueWith(state)
              })
            case "Kids":
              return Effect.gen(function* () {
                const children = yield* context.children
                yield* ReplyTo.succeed(
                  message.replyTo,
                  children.map((c) => `${c.path} ${c.restart} ${c.running}`)
                )
                return Next.continueWith(state)
              })
            case "StopKid":
              return Effect.as(Effect.orDie(context.stopChild(message.id)), Next.continueWith(state))
            case "Down":
              return Effect.sync(() => {
                downs.push(message.path)
                return Next.continueWith(state)
              })
            case "Fail":
              return Effect.fail("parent failed")
            case "Hold":
              return Effect.as(message.run as Effect.Effect<void>, Next.continueWith(state))
          }
        }
      })
    type ParentRef = ActorRef.ActorRef<
      typeof Spawn.Type | typeof Kids.Type | typeof StopKid.Type | typeof Fail.Type | typeof Hold.Type
    >
    const spawn = (ref: ParentRef, id: string) =>
      ref.ask<ActorRef.ActorRef<CounterMessage>, ActorError.StartError>((replyTo) => ({ _tag: "Spawn", id, replyTo }))
    const kids = (ref: ParentRef) => ref.ask<ReadonlyArray<string>>((replyTo) => ({ _tag: "Kids", replyTo }))

    it.effect("live under the actor's path, are supervised by its policy, and can be watched and stopped", () =>
      withSystem(
        Effect.gen(function* () {
          downs.length = 0
          const system = yield* ActorSystem.ActorSystem
          const events = yield* system.subscribe
          const team = yield* system.startChild(Supervisor.supervisor("team", Supervisor.make({})))
          const agent = yield* team.startChild(
            Supervisor.actor("agent", parent({ intensity: { maxRestarts: 5, within: "1 minute" } }))
          )
          const kid = yield* spawn(agent, "kid")
          assert.strictEqual(kid.path, "/team/agent/kid")
          assert.strictEqual(yield* system.lookup("/team/agent/kid", CounterProtocol).pipe(Effect.flatMap(get)), 5)
          const taken = yield* Effect.flip(spawn(agent, "kid"))
          assert.strictEqual(taken._tag, "ActorNameTaken")
          // The child is permanent under the actor's one-for-one policy: a crash restarts it in place.
          yield* kid.tell({ _tag: "Add", n: 1 })
          yield* kid.tell({ _tag: "Crash", message: "kid crash" })
          const restarted = yield* untilEvent(events, is("ActorRestarted", "/team/agent/kid"))
          assert.strictEqual(restarted.trigger, "/team/agent/kid")
          assert.strictEqual(yield* get(kid), 5)
          assert.deepStrictEqual(yield* kids(agent), ["/team/agent/kid permanent true"])
          yield* agent.tell({ _tag: "StopKid", id: "kid" })
          yield* untilEvent(events, is("ActorTerminated", "/team/agent/kid"))
          assert.deepStrictEqual(yield* kids(agent), [])
          assert.deepStrictEqual(downs, ["/team/agent/kid"])
          assert.deepStrictEqual(yield* system.paths, ["/", "/team", "/team/agent"])
        })
      )
    )

    it.effect(
      "are stopped before the actor when it stops, and when it is restarted (the next incarnation has none)",
      () =>
        withSystem(
          Effect.gen(function* () {
            contexts.length = 0
            const system = yield* ActorSystem.ActorSystem
            const events = yield* system.subscribe
            const team = yield* system.startChild(
              Supervisor.supervisor("team", Supervisor.make({ intensity: { maxRestarts: 5, within: "1 minute" } }))
            )
            const agent = yield* team.startChild(Supervisor.actor("agent", parent()))
            const kid = yield* spawn(agent, "kid")
            yield* spawn(agent, "kid2")
            yield* agent.tell({ _tag: "Fail" })
            const order: Array<string> = []
            while (order.length < 3) {
              const event = yield* PubSub.take(events)
              if (
                event._tag === "ActorTerminated" ||
                (is("ActorStarted", "/team/agent")(event) && event.incarnation === 2)
              ) {
                order.push(`${event._tag} ${event.path}`)
              }
            }
            assert.deepStrictEqual(order, [
              "ActorTerminated /team/agent/kid2",
              "ActorTerminated /team/agent/kid",
              "ActorStarted /team/agent"
            ])
            assert.deepStrictEqual(yield* kids(agent), [])
            assert.strictEqual((yield* Effect.flip(get(kid)))._tag, "ActorStopped")
            // A context outlives its incarnation only as a refusal.
            const stale = yield* Effect.flip(contexts[0]!.startChild(Supervisor.actor("late", counter())))
            assert.strictEqual(stale._tag, "ActorStopped")
            yield* spawn(agent, "kid")
            yield* settle // the agent is idle: no handler runs when it is stopped
            yield* team.stopChild("agent")
            const last = yield* untilEvent(events, is("ActorTerminated"))
            assert.strictEqual(last.path, "/team/agent/kid")
            assert.strictEqual((yield* untilEvent(events, is("ActorTerminated"))).path, "/team/agent")
          })
        )
    )

    it.effect("cannot be started from the context of an incarnation that has ended", () =>
      withSystem(
        Effect.gen(function* () {
          contexts.length = 0
          const system = yield* ActorSystem.ActorSystem
          const events = yield* system.subscribe
          // The restart waits a second: meanwhile no incarnation is current.
          const team = yield* system.startChild(
            Supervisor.supervisor("team", Supervisor.make({ backoff: Schedule.spaced("1 second") }))
          )
          const agent = yield* team.startChild(Supervisor.actor("agent", parent()))
          yield* agent.tell({ _tag: "Fail" })
          yield* untilEvent(events, is("ActorRestarted", "/team/agent"))
          const refused = yield* Effect.flip(contexts[0]!.startChild(Supervisor.actor("late", counter())))
          assert.deepInclude(refused, { _tag: "ActorStopped", path: "/team/agent" })
          assert.deepStrictEqual(yield* system.paths, ["/", "/team", "/team/agent"])
        })
      )
    )

    it.effect("when their supervision gives up, the actor's incarnation ends with Shutdown", () =>
      withSystem(
        Effect.gen(function* () {
          const system = yield* ActorSystem.ActorSystem
          const events = yield* system.subscribe
          const agent = yield* system.startChild(
            temporary("agent", parent({ intensity: { maxRestarts: 0, within: "1 minute" } }))
          )
          const kid = yield* spawn(agent, "kid")
          yield* kid.tell({ _tag: "Crash", message: "once is too many" })
          const gaveUp = yield* untilEvent(events, is("SupervisorGaveUp", "/agent"))
          assert.deepStrictEqual([gaveUp.child, gaveUp.restarts], ["/agent/kid", 0])
          const ended = yield* untilEvent(events, is("ActorTerminated", "/agent"))
          assert.strictEqual(ended.reason._tag, "Shutdown")
          assert.include(ExitReason.format(ended.reason), "gave up: /agent/kid")
        })
      )
    )

    it.effect(
      "when their supervision gives up during a handler, the handler is interrupted and the actor restarted",
      () =>
        withSystem(
          Effect.gen(function* () {
            const system = yield* ActorSystem.ActorSystem
            const events = yield* system.subscribe
            const team = yield* system.startChild(
              Supervisor.supervisor("team", Supervisor.make({ intensity: { maxRestarts: 5, within: "1 minute" } }))
            )
            const agent = yield* team.startChild(
              Supervisor.actor("agent", parent({ intensity: { maxRestarts: 0, within: "1 minute" } }))
            )
            const kid = yield* spawn(agent, "kid")
            const entered = yield* Deferred.make<void>()
            // Only an interruption ends this handler.
            yield* agent.tell({ _tag: "Hold", run: Effect.andThen(Deferred.succeed(entered, undefined), Effect.never) })
            yield* Deferred.await(entered)
            yield* kid.tell({ _tag: "Crash", message: "once is too many" })
            const seen: Array<string> = []
            while (true) {
              const event = yield* PubSub.take(events)
              if (event.path !== "/team/agent") continue
              if (event._tag === "MessageDropped") seen.push(`dropped ${event.cause}`)
              if (event._tag === "ActorRestarted") seen.push(`restarted ${ExitReason.format(event.reason)}`)
              if (event._tag === "ActorStarted" && event.incarnation === 2) break
            }
            assert.deepStrictEqual(seen, [
              "dropped interrupted",
              "restarted shutdown: gave up: /team/agent/kid exited after 0 restarts within 60000ms"
            ])
            assert.deepStrictEqual(yield* kids(agent), [], "the next incarnation handles messages")
          })
        )
    )
  })

  it.effect("a start fails when the children its init started have already made their supervision give up", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const unlucky = Actor.make({
          protocol: Schema.Literal("hello"),
          supervision: { intensity: { maxRestarts: 0, within: "1 minute" } },
          init: (context) =>
            Effect.gen(function* () {
              const kid = yield* Effect.orDie(context.startChild(Supervisor.actor("kid", counter())))
              yield* kid.tell({ _tag: "Crash", message: "right away" })
              yield* Effect.sleep("1 second")
            }),
          receive: (state) => Effect.succeed(Next.continueWith(state))
        })
        const starting = yield* Effect.forkChild(Effect.flip(system.startChild(Supervisor.actor("unlucky", unlucky))))
        yield* settle // the kid crashes, and its supervision gives up, while init sleeps
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(starting)
        assert.deepInclude(error, { _tag: "ChildInitFailed", path: "/unlucky" })
        assert.include(ExitReason.format((error as ActorError.ChildInitFailed).reason), "gave up during init")
        assert.deepStrictEqual(yield* system.paths, ["/"])
      })
    )
  )

  it.effect("an actor telling itself with a full mailbox does not wait: the message is reported dropped", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const Flood = Schema.TaggedStruct("Flood", { n: Schema.Int })
        const Count = Schema.TaggedStruct("Count", { replyTo: ReplyTo.schema<number>() })
        const flooder = Actor.make({
          protocol: Schema.Union([Flood, Count]),
          capacity: 2,
          init: () => Effect.succeed(0),
          receive: (handled, message, context) =>
            message._tag === "Count"
              ? Effect.as(ReplyTo.succeed(message.replyTo, handled), Next.continueWith(handled))
              : Effect.gen(function* () {
                  if (message.n > 0) for (let i = 0; i < 4; i++) yield* context.self.tell({ _tag: "Flood", n: 0 })
                  return Next.continueWith(handled + 1)
                })
        })
        const ref = yield* system.startChild(Supervisor.actor("flooder", flooder))
        yield* ref.tell({ _tag: "Flood", n: 1 })
        const dropped = [
          yield* untilEvent(events, is("MessageDropped", "/flooder")),
          yield* untilEvent(events, is("MessageDropped", "/flooder"))
        ]
        assert.deepStrictEqual(
          dropped.map((e) => e.cause),
          ["mailbox-full", "mailbox-full"]
        )
        // The flood itself and the two self-sent messages that fitted were handled.
        assert.strictEqual(yield* ref.ask<number>((replyTo) => ({ _tag: "Count", replyTo })), 3)
      })
    )
  )

  it.effect("a start fails with Shutdown when the actor is stopped during its own init", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const quitter = Actor.make({
          protocol: Schema.String,
          init: (context) => Effect.orDie(system.stop(context.path)),
          receive: (state: void) => Effect.succeed(Next.continueWith(state))
        })
        const error = yield* Effect.flip(Effect.as(system.startChild(Supervisor.actor("quitter", quitter)), "started"))
        assert.deepInclude(error, { _tag: "ChildInitFailed", path: "/quitter", reason: ExitReason.shutdown })
        assert.deepStrictEqual(yield* system.paths, ["/"])
      })
    )
  )

  it.effect("a message that arrives while a burst is ending is handled without waiting for another", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const handled = yield* Deferred.make<void>()
        const actor = Actor.make({
          protocol: Schema.Literals(["fork", "late"]),
          init: () => Effect.void,
          receive: (state, message, context) =>
            message === "fork"
              ? // The forked fiber is interrupted as the burst ends, after its last message: it sends from there.
                Effect.as(
                  Effect.forkChild(
                    Effect.onInterrupt(Effect.never, () => context.self.tell("late")),
                    { startImmediately: true }
                  ),
                  Next.continueWith(state)
                )
              : Effect.as(Deferred.succeed(handled, undefined), Next.continueWith(state))
        })
        const ref = yield* system.startChild(temporary("a", actor))
        yield* ref.tell("fork")
        yield* Deferred.await(handled)
      })
    )
  )

  it.effect("death watch puts Terminated into a watcher's mailbox that has room in place, without a fiber", () => {
    const fibers = makeFiberCounter()
    return fibers.provide(
      withSystem(
        Effect.gen(function* () {
          const system = yield* ActorSystem.ActorSystem
          const Watch = Schema.TaggedStruct("Watch", { replyTo: ReplyTo.schema<void>() })
          const Down = Schema.TaggedStruct("Down", { path: Schema.String })
          const got = yield* Deferred.make<string>()
          const target = yield* system.startChild(temporary("target", counter()))
          const watcher = Actor.make({
            protocol: Schema.Union([Watch, Down]),
            init: () => Effect.void,
            receive: (state, message, context) =>
              message._tag === "Watch"
                ? Effect.as(
                    context.watch(target, (t) => ({ _tag: "Down", path: t.path })),
                    Next.reply(message.replyTo, undefined, state)
                  )
                : Effect.as(Deferred.succeed(got, message.path), Next.continueWith(state))
          })
          const w = yield* system.startChild(temporary("watcher", watcher))
          yield* w.ask<void>((replyTo) => ({ _tag: "Watch", replyTo }))
          // Stopping an idle target runs at once; the watcher's burst only starts on a later turn.
          const before = fibers.started()
          yield* system.stop("/target")
          assert.strictEqual(fibers.started() - before, 0)
          assert.strictEqual(yield* Deferred.await(got), "/target")
        })
      )
    )
  })
})
