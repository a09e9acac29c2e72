import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Schema } from "effect"
import { Actor, ActorSystem, ExitReason, Next, ReplyTo, Supervisor } from "../src/index.ts"
import { counter } from "./fixtures.ts"
import { is, untilEvent, withSystem } from "./helpers.ts"

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
        const ref = yield* system.spawn("recorder", recorder)
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

  it.effect("a typed failure of the handler ends the incarnation with Failed, a defect with Died", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const a = yield* system.spawn("a", counter())
        yield* a.tell({ _tag: "Crash", message: "bad input" })
        const stoppedA = yield* untilEvent(events, is("Stopped", "/a"))
        assert.strictEqual(stoppedA.reason._tag, "Failed")
        assert.strictEqual(ExitReason.format(stoppedA.reason), "failed: Boom: bad input")

        const b = yield* system.spawn("b", counter())
        yield* b.tell({ _tag: "Die" })
        const stoppedB = yield* untilEvent(events, is("Stopped", "/b"))
        assert.strictEqual(stoppedB.reason._tag, "Died")
      })
    )
  )

  it.effect("Next.stop ends the actor normally and Next.fail abnormally", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const a = yield* system.spawn("a", counter())
        yield* a.tell({ _tag: "Halt" })
        const stopped = yield* untilEvent(events, is("Stopped", "/a"))
        assert.deepStrictEqual(stopped.reason, ExitReason.normal)

        const quitter = Actor.make({
          protocol: Schema.Literal("quit"),
          init: () => Effect.succeed(undefined),
          receive: () => Effect.succeed(Next.fail("gave up"))
        })
        const q = yield* system.spawn("q", quitter)
        yield* q.tell("quit")
        const failed = yield* untilEvent(events, is("Stopped", "/q"))
        assert.deepStrictEqual(failed.reason, ExitReason.failed("gave up"))
      })
    )
  )

  it.effect("a failing init is a failure of the incarnation", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const broken = Actor.make({
          protocol: Schema.String,
          init: () => Effect.fail("no config"),
          receive: (s: undefined) => Effect.succeed(Next.continueWith(s))
        })
        yield* system.spawn("broken", broken)
        const stopped = yield* untilEvent(events, is("Stopped", "/broken"))
        assert.deepStrictEqual(stopped.reason, ExitReason.failed("no config"))
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
        const target = yield* system.spawn("target", counter())
        const w = yield* system.spawn("watcher", watcher)
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
        const sup = yield* system.spawnSupervisor("sup", Supervisor.make({ children: [Target] }))
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
        const w = yield* system.spawn("watcher", watcher)
        const ping = w.ask<ReadonlyArray<string>>((replyTo) => ({ _tag: "Ping", replyTo }))
        yield* w.tell({ _tag: "Watch" })
        yield* target.tell({ _tag: "Crash", message: "x" })
        yield* untilEvent(events, is("Restarted", "/sup/target"))
        yield* untilEvent(events, is("Started", "/sup/target"))
        assert.deepStrictEqual(yield* ping, [], "a restart is not a termination")
        yield* sup.stopChild("target")
        yield* untilEvent(events, is("Stopped", "/sup/target"))
        assert.deepStrictEqual(yield* ping, ["/sup/target Stopped"])
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
        const gone = yield* system.spawn("gone", counter())
        const alive = yield* system.spawn("alive", counter())
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
                return Effect.as(ReplyTo.succeed(message.replyTo, seen), Next.continueWith(state))
            }
          }
        })
        const w = yield* system.spawn("watcher", watcher)
        yield* w.tell({ _tag: "Watch", unwatch: true })
        yield* system.stop("/alive")
        yield* untilEvent(events, is("Stopped", "/alive"))
        const result = yield* w.ask<ReadonlyArray<string>>((replyTo) => ({ _tag: "Ping", replyTo }))
        assert.deepStrictEqual(result, ["/gone"])
      })
    )
  )

  it.effect("tellUnknown validates input against the protocol", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.spawn("c", counter())
        const bad = yield* Effect.flip(ref.tellUnknown({ _tag: "Add", n: "two" }))
        assert.strictEqual(bad._tag, "InvalidMessage")
        assert.strictEqual(bad.path, "/c")
        yield* ref.tellUnknown({ _tag: "Add", n: 2 })
        const n = yield* ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }))
        assert.strictEqual(n, 2)
      })
    )
  )
})
