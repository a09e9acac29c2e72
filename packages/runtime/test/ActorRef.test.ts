import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { ActorSystem } from "../src/index.ts"
import { counter, type DivisionByZero } from "./fixtures.ts"
import { is, settle, untilEvent } from "./helpers.ts"

const withSystem = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, ActorSystem.layer())

/** A promise and its resolver, to hold an actor inside its handler. */
const gate = () => {
  let open!: () => void
  const until = new Promise<void>((resolve) => {
    open = resolve
  })
  return { until, open }
}

describe("ActorRef", () => {
  it.effect("tell waits for room when the mailbox is full (backpressure)", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.spawn("c", counter({ capacity: 2 }))
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
        const ref = yield* system.spawn("c", counter({ capacity: 1 }))
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
        const ref = yield* system.spawn("c", counter())
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

  it.effect("ask carries the request's own typed failure", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.spawn("c", counter({ start: 10 }))
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
        const ref = yield* system.spawn("c", counter())
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
        const ref = yield* system.spawn("c", counter())
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

  it.effect("asks still queued when the actor stops are answered with ActorStopped", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const ref = yield* system.spawn("c", counter())
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
})
