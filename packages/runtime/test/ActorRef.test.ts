import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, PubSub, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Actor, ActorSystem, Next, ReplyTo, Supervisor } from "../src/index.ts"
import { counter, type DivisionByZero, gate, get, is, settle, temporary, untilEvent, withSystem } from "./support.ts"

describe("ActorRef", () => {
  it.effect("tell waits for room when the mailbox is full (backpressure)", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter({ capacity: 2 })))
        const g = gate()
        yield* ref.tell({ _tag: "Block", until: g.until })
        yield* settle // the actor takes Block and waits inside its handler
        yield* ref.tell({ _tag: "Add", n: 1 })
        yield* ref.tell({ _tag: "Add", n: 1 })
        const third = yield* Effect.forkChild(ref.tell({ _tag: "Add", n: 1 }))
        yield* settle
        assert.isUndefined(third.pollUnsafe(), "the third tell is still waiting for room")
        g.open()
        yield* Fiber.join(third)
        const n = yield* ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }))
        assert.strictEqual(n, 3)
      })
    )
  )

  it.effect("tellNow fails with MailboxFull instead of waiting, and reports the dropped message", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const ref = yield* system.startChild(temporary("c", counter({ capacity: 1 })))
        const g = gate()
        yield* ref.tell({ _tag: "Block", until: g.until })
        yield* settle
        yield* ref.tellNow({ _tag: "Add", n: 1 })
        const full = yield* Effect.flip(ref.tellNow({ _tag: "Add", n: 1 }))
        assert.strictEqual(full._tag, "MailboxFull")
        assert.deepInclude(full, { path: "/c", capacity: 1 })
        const dropped = yield* untilEvent(events, is("MessageDropped", "/c"))
        assert.strictEqual(dropped.cause, "mailbox-full")
        g.open()
      })
    )
  )

  it.effect("ask fails with AskTimeout when no reply comes in time", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter()))
        const g = gate()
        yield* ref.tell({ _tag: "Block", until: g.until })
        const asking = yield* Effect.forkChild(
          Effect.flip(ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }), { timeout: "2 seconds" }))
        )
        yield* settle
        yield* TestClock.adjust("1999 millis")
        assert.isUndefined(asking.pollUnsafe())
        yield* TestClock.adjust("1 millis")
        const error = yield* Fiber.join(asking)
        assert.strictEqual(error._tag, "AskTimeout")
        assert.deepInclude(error, { path: "/c", timeoutMillis: 2000 })
        g.open()
      })
    )
  )

  it.effect("a handler can answer with Next.reply, as data: the runtime answers, then the actor goes on", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const Take = Schema.TaggedStruct("Take", { replyTo: ReplyTo.schema<number>() })
        const ticket = Actor.make({
          protocol: Take,
          init: () => Effect.succeed(1),
          receive: (next, message) => Effect.succeed(Next.reply(message.replyTo, next, next + 1))
        })
        const ref = yield* system.startChild(temporary("tickets", ticket))
        const take = ref.ask<number>((replyTo) => ({ _tag: "Take", replyTo }), { timeout: "1 second" })
        assert.deepStrictEqual([yield* take, yield* take, yield* take], [1, 2, 3])
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(yield* take, 4, "answered asks do not time out later")
      })
    )
  )

  it.effect("ask carries the request's own typed failure", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter({ start: 10 })))
        const half = yield* ref.ask<number, DivisionByZero>((replyTo) => ({ _tag: "Divide", by: 2, replyTo }))
        assert.strictEqual(half, 5)
        const error = yield* Effect.flip(
          ref.ask<number, DivisionByZero>((replyTo) => ({ _tag: "Divide", by: 0, replyTo }))
        )
        assert.strictEqual(error._tag, "DivisionByZero")
      })
    )
  )

  it.effect("ask fails with ActorCrashed when the handler fails before replying", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter()))
        // The ask's message makes the handler fail: the asker hears of it at once, not at the timeout.
        const error = yield* Effect.flip(ref.ask<void>(() => ({ _tag: "Crash", message: "while asked" })))
        assert.strictEqual(error._tag, "ActorCrashed")
        assert.include((error as { reason: string }).reason, "Boom: while asked")
      })
    )
  )

  it.effect("a stopped actor answers asks with ActorStopped and drops tells as dead letters", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const ref = yield* system.startChild(temporary("c", counter()))
        yield* system.stop("/c")
        const error = yield* Effect.flip(ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo })))
        assert.strictEqual(error._tag, "ActorStopped")
        yield* ref.tell({ _tag: "Add", n: 1 })
        const dropped = yield* untilEvent(events, is("MessageDropped", "/c"))
        assert.strictEqual(dropped.cause, "stopped")
        const now = yield* Effect.flip(ref.tellNow({ _tag: "Add", n: 1 }))
        assert.strictEqual(now._tag, "ActorStopped")
      })
    )
  )

  it.effect("an ask whose handler stops without replying is answered with ActorStopped at once", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const Quit = Schema.TaggedStruct("Quit", { replyTo: ReplyTo.schema<number>() })
        const quitter = Actor.make({
          protocol: Quit,
          init: () => Effect.void,
          receive: () => Effect.succeed(Next.stop)
        })
        const ref = yield* system.startChild(temporary("quitter", quitter))
        // No TestClock adjustment: a timeout would never fire, so only an immediate answer ends this ask.
        const error = yield* Effect.flip(ref.ask<number>((replyTo) => ({ _tag: "Quit", replyTo })))
        assert.strictEqual(error._tag, "ActorStopped")
      })
    )
  )

  it.effect("a request or message being handled when the actor is stopped is answered or reported", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const Wait = Schema.TaggedStruct("Wait", { until: Schema.Any, replyTo: ReplyTo.schema<number>() })
        const waiter = Actor.make({
          protocol: Wait,
          init: () => Effect.void,
          receive: (state, message) =>
            Effect.as(
              Effect.promise(() => message.until as Promise<void>),
              Next.continueWith(state)
            )
        })
        const asked = yield* system.startChild(temporary("asked", waiter))
        const g = gate()
        const asking = yield* Effect.forkChild(
          Effect.flip(asked.ask<number>((replyTo) => ({ _tag: "Wait", until: g.until, replyTo })))
        )
        yield* settle
        yield* system.stop("/asked")
        const error = yield* Fiber.join(asking)
        assert.strictEqual(error._tag, "ActorStopped")

        const told = yield* system.startChild(temporary("told", counter()))
        yield* told.tell({ _tag: "Block", until: g.until })
        yield* settle
        yield* system.stop("/told")
        const reported: Array<string> = []
        while (true) {
          const event = yield* PubSub.take(events)
          if (event.path !== "/told") continue
          if (event._tag === "ActorTerminated") break
          if (event._tag === "MessageDropped") reported.push(event.cause)
        }
        assert.deepStrictEqual(reported, ["interrupted"], "reported once")
        g.open()
      })
    )
  )

  it.effect("of messages taken together, the one being handled at a stop is interrupted, the rest stopped", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const ref = yield* system.startChild(temporary("c", counter()))
        const g = gate()
        yield* ref.tellAll([
          { _tag: "Block", until: g.until },
          { _tag: "Add", n: 1 },
          { _tag: "Add", n: 2 }
        ])
        yield* settle // all three were taken; the first one blocks
        yield* system.stop("/c")
        const causes: Array<string> = []
        while (true) {
          const event = yield* PubSub.take(events)
          if (event.path !== "/c") continue
          if (event._tag === "ActorTerminated") break
          if (event._tag === "MessageDropped") causes.push(event.cause)
        }
        assert.deepStrictEqual(causes, ["interrupted", "stopped", "stopped"])
        g.open()
      })
    )
  )

  it.effect("asks still queued when the actor stops are answered with ActorStopped", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter()))
        const g = gate()
        yield* ref.tell({ _tag: "Block", until: g.until })
        yield* settle
        const queued = yield* Effect.forkChild(Effect.flip(ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }))))
        yield* settle
        yield* system.stop("/c")
        const error = yield* Fiber.join(queued)
        // The in-flight Block was interrupted; the queued Get was never handled.
        assert.strictEqual(error._tag, "ActorStopped")
        g.open()
      })
    )
  )

  it.effect("ask times out after 5 seconds by default", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter()))
        const g = gate()
        yield* ref.tell({ _tag: "Block", until: g.until })
        const asking = yield* Effect.forkChild(Effect.flip(get(ref)))
        yield* settle
        yield* TestClock.adjust("4999 millis")
        assert.isUndefined(asking.pollUnsafe())
        yield* TestClock.adjust("1 millis")
        const error = yield* Fiber.join(asking)
        assert.deepInclude(error, { _tag: "AskTimeout", path: "/c", timeoutMillis: 5000 })
        g.open()
      })
    )
  )

  it.effect("an answered ask no longer times out, and a late answer after a timeout is ignored", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter({ start: 4 })))
        assert.strictEqual(yield* ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }), { timeout: "1 second" }), 4)
        const g = gate()
        yield* ref.tell({ _tag: "Block", until: g.until })
        const short = yield* Effect.forkChild(Effect.flip(get(ref).pipe(Effect.as(0))))
        const long = yield* Effect.forkChild(
          ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }), { timeout: "1 minute" })
        )
        yield* settle
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual((yield* Fiber.join(short))._tag, "AskTimeout")
        assert.isUndefined(long.pollUnsafe(), "the one-minute ask is still waiting")
        g.open()
        assert.strictEqual(yield* Fiber.join(long), 4)
        yield* TestClock.adjust("2 minutes")
        assert.strictEqual(yield* get(ref), 4, "the actor kept going")
      })
    )
  )

  it.effect("tellAll enqueues a batch in order, waiting for room, with the semantics of tell", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        const Push = Schema.TaggedStruct("Push", { n: Schema.Int })
        const Read = Schema.TaggedStruct("Read", { replyTo: ReplyTo.schema<ReadonlyArray<number>>() })
        const recorder = Actor.make({
          protocol: Schema.Union([Push, Read]),
          capacity: 8,
          init: () => Effect.succeed([] as ReadonlyArray<number>),
          receive: (seen, message) =>
            message._tag === "Read"
              ? Effect.as(ReplyTo.succeed(message.replyTo, seen), Next.continueWith(seen))
              : Effect.succeed(Next.continueWith([...seen, message.n]))
        })
        const ref = yield* system.startChild(temporary("recorder", recorder))
        const batch = Array.from({ length: 100 }, (_, n) => ({ _tag: "Push" as const, n }))
        yield* ref.tellAll(batch)
        yield* ref.tellAll([])
        const read = ref.ask<ReadonlyArray<number>>((replyTo) => ({ _tag: "Read", replyTo }))
        assert.deepStrictEqual(
          yield* read,
          batch.map((m) => m.n)
        )
        yield* system.stop("/recorder")
        yield* ref.tellAll([
          { _tag: "Push", n: 1 },
          { _tag: "Push", n: 2 }
        ])
        const dropped = [
          yield* untilEvent(events, is("MessageDropped", "/recorder")),
          yield* untilEvent(events, is("MessageDropped", "/recorder"))
        ]
        assert.deepStrictEqual(
          dropped.map((e) => e.cause),
          ["stopped", "stopped"]
        )
      })
    )
  )

  it.effect("tellAll waits for room even when only its last message does not fit", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter({ capacity: 2 })))
        yield* ref.tellAll([
          { _tag: "Add", n: 1 },
          { _tag: "Add", n: 2 },
          { _tag: "Add", n: 4 }
        ])
        assert.strictEqual(yield* get(ref), 7)
      })
    )
  )

  it.effect("an ask whose actor stops before the request reaches the mailbox fails with ActorStopped at once", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.startChild(temporary("c", counter()))
        const asking = yield* Effect.forkChild(
          Effect.flip(
            ref.ask<number>((replyTo) => {
              // Between the ask's check that the actor runs and the offer of its request, the actor stops.
              Effect.runFork(system.stop("/c"))
              return { _tag: "Get", replyTo }
            })
          ),
          { startImmediately: true }
        )
        // Past the default timeout: an ask left waiting for a reply would fail with AskTimeout instead.
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual((yield* Fiber.join(asking))._tag, "ActorStopped")
      })
    )
  )

  it.effect(
    "messages taken together are handled one by one: a crash in the middle leaves the rest to the next incarnation",
    () =>
      withSystem(
        Effect.gen(function* () {
          const system = yield* ActorSystem.ActorSystem
          const sup = yield* system.startChild(
            Supervisor.supervisor("sup", Supervisor.make({ intensity: { maxRestarts: 5, within: "1 minute" } }))
          )
          const ref = yield* sup.startChild(Supervisor.actor("c", counter()))
          yield* ref.tellAll([
            { _tag: "Add", n: 1 },
            { _tag: "Crash", message: "mid-batch" },
            { _tag: "Add", n: 10 },
            { _tag: "Add", n: 100 }
          ])
          assert.strictEqual(yield* get(ref), 110)
        })
      )
  )
})
