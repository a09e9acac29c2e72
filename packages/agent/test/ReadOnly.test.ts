import { assert, describe, it } from "@effect/vitest"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { Reversibility, type Tools } from "@troupe/tools"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as ReadOnly from "../src/internal/readOnly.ts"
import * as Run from "../src/Run.ts"
import { callTurn, harness, planTurn, reflectTurn } from "./support.ts"

const Peek = Tool.make("peek", {
  description: "Read the value.",
  parameters: Schema.Struct({}),
  success: Schema.String,
  failureMode: "return"
}).annotate(Tool.Readonly, true)

const Poke = Tool.make("poke", {
  description: "Change the value.",
  parameters: Schema.Struct({}),
  success: Schema.String,
  failureMode: "return"
})

const Kit = Toolkit.make(Peek, Poke)

// A toolset of built-in tools as `Tools.toolkit` describes them: only their reversibility is read.
const builtins = {
  tools: new Map(
    (["fs_read", "fs_write", "http_fetch", "delegate"] as const).map((name) => [
      name,
      { name, tool: name, reversibility: (params: unknown) => Reversibility.of(name, params) }
    ])
  )
} as unknown as Tools.Toolset

describe("ReadOnly", () => {
  it.effect("reads are built-in reversible calls and application tools annotated Tool.Readonly", () =>
    Effect.gen(function* () {
      const kit = yield* Kit.pipe(
        Effect.provide(Kit.toLayer({ peek: () => Effect.succeed("7"), poke: () => Effect.succeed("ok") }))
      )
      const readOnly = ReadOnly.make(builtins, kit)
      assert.isTrue(readOnly("peek", {}))
      assert.isFalse(readOnly("poke", {}))
      assert.isTrue(readOnly("fs_read", { path: "a" }))
      assert.isFalse(readOnly("fs_write", { path: "a", content: "b" }))
      assert.isTrue(readOnly("http_fetch", { url: "https://x.test" }))
      assert.isFalse(readOnly("http_fetch", { url: "https://x.test", method: "POST" }))
      assert.isFalse(readOnly("delegate", { agent: "reviewer", task: "review" }))
      assert.isFalse(readOnly("unknown", {}))
      assert.isFalse(ReadOnly.make(undefined, undefined)("peek", {}))
    })
  )

  it.effect(
    "a run waits for its barrier before a call that changes something and before its answer, not before a read",
    () =>
      Effect.gen(function* () {
        const h = yield* harness([
          planTurn("look"),
          callTurn({ name: "peek", params: {} }),
          callTurn({ name: "poke", params: {} }),
          Scripted.text("Looked and changed."),
          reflectTurn("done", { answer: "changed", progress: [{ id: "look", status: "done" }] })
        ])
        const order: Array<string> = []
        const kit = yield* Kit.pipe(
          Effect.provide(
            Kit.toLayer({
              peek: () =>
                Effect.as(
                  Effect.sync(() => order.push("peek runs")),
                  "7"
                ),
              poke: () =>
                Effect.as(
                  Effect.sync(() => order.push("poke runs")),
                  "ok"
                )
            })
          )
        )
        const result = yield* Run.execute(
          {
            ...h.context,
            toolkit: kit,
            readOnly: ReadOnly.make(undefined, kit),
            emit: (event) =>
              Effect.sync(() => {
                if (event._tag === "AgentToolCalled") order.push(`${event.tool} called`)
                if (event._tag === "AgentRunEnded") order.push("answer")
              }),
            barrier: Effect.sync(() => void order.push("barrier"))
          },
          h.control
        )
        assert.strictEqual(result.answer, "changed")
        assert.deepStrictEqual(order, [
          "peek called",
          "peek runs",
          "poke called",
          "barrier",
          "poke runs",
          "answer",
          "barrier"
        ])
      })
  )
})
