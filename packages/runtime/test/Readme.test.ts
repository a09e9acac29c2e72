/**
 * The README's runtime example, run here; the test also checks that the README shows exactly this code, so the
 * front door stays true.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
// README example: begin
import { Effect, Schema } from "effect"
import { Actor, ActorSystem, Next, ReplyTo, Supervisor } from "../src/index.ts"

const Add = Schema.TaggedStruct("Add", { n: Schema.Int })
const Get = Schema.TaggedStruct("Get", { replyTo: ReplyTo.schema<number>() })

const Counter = Actor.make({
  protocol: Schema.Union([Add, Get]), // messages are a schema: validated, audited, serialisable
  init: () => Effect.succeed(0), // rebuilt from scratch on every restart
  receive: (count, message) =>
    message._tag === "Add"
      ? Effect.succeed(Next.continueWith(count + message.n))
      : Effect.as(ReplyTo.succeed(message.replyTo, count), Next.continueWith(count))
})

const program = Effect.gen(function* () {
  const system = yield* ActorSystem.ActorSystem
  yield* system.startChild(
    Supervisor.supervisor(
      "team",
      Supervisor.make({
        strategy: "one-for-one",
        intensity: { maxRestarts: 3, within: "5 seconds" },
        children: [Supervisor.actor("counter", Counter)]
      })
    )
  )
  const counter = yield* system.lookup("/team/counter", Counter.protocol)
  yield* counter.tell({ _tag: "Add", n: 2 })
  return yield* counter.ask<number>((replyTo) => ({ _tag: "Get", replyTo }), { timeout: "1 second" })
}).pipe(Effect.provide(ActorSystem.layer()))
// README example: end

const between = (text: string, begin: string, end: string): string => {
  const start = text.indexOf(begin)
  return text.slice(start + begin.length, text.indexOf(end, start + begin.length)).trim()
}

describe("README", () => {
  it.effect("the runtime example runs and answers 2", () => Effect.map(program, (n) => assert.strictEqual(n, 2)))

  it("shows exactly the code this test runs", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
    const shown = between(readme.slice(readme.indexOf("## The actor runtime")), "```ts", "```")
    const self = readFileSync(fileURLToPath(import.meta.url), "utf8")
    const run = between(self, "// README example: begin", "// README example: end")
    assert.strictEqual(shown, run.replace('from "../src/index.ts"', 'from "@troupe/runtime"'))
  })
})
