import { assert, describe, it } from "@effect/vitest"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import * as Prompt from "effect/ai/Prompt"
import * as Effect from "effect/Effect"
import * as History from "../src/internal/history.ts"
import * as Run from "../src/Run.ts"
import { callTurn, harness, planTurn, reflectTurn, spec } from "./support.ts"

describe("long conversations", () => {
  it.effect("older turns are summarised when the history nears the budget; the newest stay as they were", () =>
    Effect.gen(function* () {
      const echo = (c: string) => callTurn({ name: "echo", params: { text: c.repeat(200) } })
      const h = yield* harness(
        [
          planTurn("a"),
          echo("a"),
          echo("b"),
          echo("c"),
          Scripted.text("Echoed a and b, 200 characters each."),
          Scripted.text("done"),
          reflectTurn("done", { answer: "done" })
        ],
        { spec: spec({ limits: { contextTokens: 400 } }) }
      )
      yield* Run.execute(h.context, h.control)
      const summarised = h.events.find((e) => e._tag === "AgentHistorySummarised")
      assert.isDefined(summarised)
      if (summarised?._tag !== "AgentHistorySummarised") return
      assert.strictEqual(summarised.messages, 5)
      assert.isBelow(summarised.tokensAfter, summarised.tokensBefore)
      const prompts = yield* h.model.prompts
      // The summarising call was sent the older turns as a transcript.
      const transcript = JSON.stringify(prompts[4]!.content)
      assert.include(transcript, "b".repeat(200))
      assert.notInclude(transcript, "c".repeat(200))
      // The next turn: the task, the summary, then the newest call and its result, in order.
      const next = prompts[5]!.content
      assert.deepStrictEqual(
        next.map((m) => m.role),
        ["system", "user", "user", "assistant", "tool"]
      )
      assert.include(JSON.stringify(next[2]), "Summary of the earlier part of this run (5 messages)")
      assert.include(JSON.stringify(next[4]), "c".repeat(200))
    })
  )

  it("never cuts between a tool call and its result", () => {
    const history = Prompt.make([
      { role: "user", content: "task" },
      {
        role: "assistant",
        content: [
          { type: "tool-call", id: "1", name: "echo", params: { text: "x".repeat(400) }, providerExecuted: false }
        ]
      },
      {
        role: "tool",
        content: [{ type: "tool-result", id: "1", name: "echo", isFailure: false, result: "y".repeat(400) }]
      },
      { role: "assistant", content: "fine" }
    ])
    // Keeping 150 tokens keeps the last answer alone (the call and its result are ~200 more): cut before it.
    assert.strictEqual(History.cutPoint(history.content, 150), 3)
    // Keeping nothing would need a cut inside the last message: no place.
    assert.strictEqual(History.cutPoint(history.content, 0), undefined)
  })

  it("the history's size is the sum of its messages, however often they are measured and in whichever prompt", () => {
    const task = Prompt.make([{ role: "user", content: "t".repeat(41) }]).content[0]!
    const result = Prompt.make([
      {
        role: "tool",
        content: [{ type: "tool-result", id: "1", name: "echo", isFailure: false, result: "r".repeat(397) }]
      }
    ]).content[0]!
    // 41 characters and 399 (the result as JSON, quotes included), rounded up once for the whole prompt: rounding
    // each message would give 11 + 100.
    assert.strictEqual(History.estimateTokens(Prompt.fromMessages([task])), 11)
    assert.strictEqual(History.estimateTokens(Prompt.fromMessages([task, result])), 110)
    assert.strictEqual(History.estimateTokens(Prompt.fromMessages([result, task, result])), 210)
    assert.strictEqual(History.estimateTokens(Prompt.fromMessages([task])), 11)
  })

  it("the history is over budget past 80% of contextTokens, the system prompt included", () => {
    const context = { spec: spec({ limits: { contextTokens: 100 } }), system: "s".repeat(40) }
    const state = (chars: number) => ({ history: Prompt.make([{ role: "user", content: "u".repeat(chars) }]) })
    // 10 tokens of system prompt: 70 more fit (80 of 100), 71 do not.
    assert.isFalse(History.overBudget(context, state(280)))
    assert.isTrue(History.overBudget(context, state(281)))
  })
})
