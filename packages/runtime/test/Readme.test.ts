/**
 * The README's example, run as written, so the front door stays true.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Actor, ActorSystem, Next, ReplyTo, Supervisor } from "../src/index.ts"

const Add = Schema.TaggedStruct("Add", { n: Schema.Int })
const Get = Schema.TaggedStruct("Get", { replyTo: ReplyTo.schema<number>() })

const Counter = Actor.make({
  protocol: Schema.Union([Add, Get]),
  init: () => Effect.succeed(0),
  receive: (count, message) =>
    message._tag === "Add"
      ? Effect.succeed(Next.continueWith(count + message.n))
      : Effect.as(ReplyTo.succeed(message.replyTo, count), Next.continueWith(count))
})

const program = Effect.gen(function* () {
  const system = yield* ActorSystem.ActorSystem
  yield* system.spawnSupervisor(
    "team",
    Supervisor.make({
      strategy: "one-for-one",
      intensity: { maxRestarts: 3, within: "5 seconds" },
      children: [Supervisor.actor("counter", Counter)]
    })
  )
  const counter = yield* system.lookup("/team/counter", Counter.protocol)
  yield* counter.tell({ _tag: "Add", n: 2 })
  return yield* counter.ask<number>((replyTo) => ({ _tag: "Get", replyTo }), { timeout: "1 second" })
}).pipe(Effect.provide(ActorSystem.layer()))

describe("README", () => {
  it.effect("the runtime example runs and answers 2", () => Effect.map(program, (n) => assert.strictEqual(n, 2)))
})
