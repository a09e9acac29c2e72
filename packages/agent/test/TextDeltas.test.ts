import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Scope from "effect/Scope"
import * as Agent from "../src/Agent.ts"
import type * as AgentEvent from "../src/AgentEvent.ts"
import * as AgentEvents from "../src/AgentEvents.ts"
import * as AuditLog from "../src/AuditLog.ts"
import * as Run from "../src/Run.ts"
import * as RunJournal from "../src/RunJournal.ts"
import * as TextDeltas from "../src/TextDeltas.ts"
import { callTurn, type Harness, harness, planTurn, reflectTurn, spec, toolkit } from "./support.ts"

const answer = "The answer is forty-two, as the long computation showed."

/** The model with its calls counted by method. */
const counted = (model: LanguageModel.LanguageModel) => {
  const calls = { generateText: 0, streamText: 0 }
  const loose = model as unknown as Record<"generateText" | "streamText", (options: unknown) => unknown>
  const wrapped = {
    ...model,
    generateText: (options: unknown) => {
      calls.generateText++
      return loose.generateText(options)
    },
    streamText: (options: unknown) => {
      calls.streamText++
      return loose.streamText(options)
    }
  } as unknown as LanguageModel.LanguageModel
  return { calls, model: wrapped }
}

// `takeUpTo` rather than `takeAll`, which waits for at least one delta.

/**
 * Runs `h` with `hub` as its deltas; at each act step's `AgentModelCalled` the deltas published so far are taken,
 * so each entry says what a listener had received when that event was emitted.
 */
const runListening = (h: Harness, hub: TextDeltas.Service, model = h.context.model) =>
  Effect.gen(function* () {
    const subscription = yield* hub.subscribe
    const seen: Array<{ readonly event: AgentEvent.AgentEvent; readonly deltas: ReadonlyArray<TextDeltas.TextDelta> }> =
      []
    const context: Run.RunContext = {
      ...h.context,
      model,
      textDeltas: hub,
      emit: (event) =>
        Effect.gen(function* () {
          h.events.push(event)
          if (event._tag === "AgentModelCalled" && event.purpose === "act") {
            seen.push({ event, deltas: yield* PubSub.takeUpTo(subscription, 10_000) })
          }
        })
    }
    const fiber = yield* Effect.forkChild(Run.execute(context, h.control))
    return { fiber, seen }
  })

describe("TextDeltas", () => {
  it.effect("a listened step streams: its deltas arrive before its AgentModelCalled and make up its text", () =>
    Effect.gen(function* () {
      const h = yield* harness([planTurn("a"), Scripted.text(answer), reflectTurn("done", { answer })], {
        pooled: true,
        tools: false
      })
      const hub = yield* TextDeltas.make
      const { calls, model } = counted(h.context.model)
      const { fiber, seen } = yield* runListening(h, hub, model)
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.answer, answer)
      assert.strictEqual(calls.streamText, 1)
      assert.strictEqual(seen.length, 1)
      const [{ event, deltas }] = seen as [(typeof seen)[number]]
      // The scripted model streams 16 characters at a time: several deltas, all of step 1, all before the event,
      // the last one its end.
      assert.isAbove(deltas.length, 2)
      assert.deepStrictEqual(
        deltas.map((d) => d.end === true),
        deltas.map((_, i) => i === deltas.length - 1)
      )
      assert.deepStrictEqual([...new Set(deltas.map((d) => `${d.runId} ${d.agent} ${d.step}`))], ["run-1 tester 1"])
      assert.strictEqual(deltas.map((d) => d.delta).join(""), answer)
      assert.isTrue(event._tag === "AgentModelCalled" && event.text === answer)
      // Charged through the pool from the stream's finish part, as a whole turn would be.
      assert.isTrue(event._tag === "AgentModelCalled" && event.costUsd > 0 && !event.costEstimated)
      assert.strictEqual(result.spend.costUsd > 0, true)
      // Deltas are not events: nothing of them reached the run's events.
      assert.isFalse(h.events.some((e) => (e._tag as string).includes("Delta")))
    }).pipe(Effect.scoped)
  )

  it.effect("tool calls and approvals work in a streamed turn", () =>
    Effect.gen(function* () {
      const h = yield* harness(
        [
          planTurn("a"),
          callTurn({ name: "echo", params: { text: "hello" } }, { name: "note", params: { text: "ship it" } }),
          Scripted.text("Noted and echoed."),
          reflectTurn("done", { answer: "Noted and echoed." })
        ],
        { policy: (tool) => (tool === "note" ? "ask" : "auto"), pooled: true }
      )
      const hub = yield* TextDeltas.make
      const { calls, model } = counted(h.context.model)
      const { fiber, seen } = yield* runListening(h, hub, model)
      let pending = yield* h.gate.pending
      for (let i = 0; pending.length === 0 && i < 2000; i++) {
        yield* Effect.yieldNow
        pending = yield* h.gate.pending
      }
      assert.deepStrictEqual(h.notes, [])
      assert.strictEqual(pending[0]!.tool, "note")
      yield* h.gate.resolve(pending[0]!.approvalId, { approved: true, by: "ana" })
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.answer, "Noted and echoed.")
      assert.deepStrictEqual(h.notes, ["ship it"])
      assert.strictEqual(calls.streamText, 2)
      // Each streamed turn was charged through the pool from its finish part.
      const charged = h.events.filter((e) => e._tag === "AgentModelCalled" && e.purpose === "act")
      assert.deepStrictEqual(
        charged.map((e) => e._tag === "AgentModelCalled" && e.costUsd > 0 && !e.costEstimated),
        [true, true]
      )
      const results = h.events.filter((e) => e._tag === "AgentToolResult")
      assert.deepStrictEqual(
        results.map((e) => e._tag === "AgentToolResult" && [e.tool, e.isFailure, e.result]),
        [
          ["echo", false, "hello"],
          ["note", false, "noted"]
        ]
      )
      // The echo's result and the approved note's result both reached the model before its answer.
      const prompts = yield* h.model.prompts
      const last = JSON.stringify(prompts[2]!.content)
      assert.include(last, "hello")
      assert.include(last, "noted")
      assert.deepStrictEqual(
        seen.map(({ deltas }) => deltas.map((d) => d.delta).join("")),
        ["", "Noted and echoed."]
      )
    }).pipe(Effect.scoped)
  )

  it.effect("nobody listening, the step asks for the whole turn (generateText), and nothing is published", () =>
    Effect.gen(function* () {
      const h = yield* harness([planTurn("a"), Scripted.text(answer), reflectTurn("done", { answer })], {
        tools: false
      })
      const hub = yield* TextDeltas.make
      const { calls, model } = counted(h.context.model)
      const result = yield* Run.execute({ ...h.context, model, textDeltas: hub }, h.control)
      assert.strictEqual(result.answer, answer)
      assert.strictEqual(calls.streamText, 0)
      // plan (generateObject goes through its own method), act, reflect
      assert.strictEqual(calls.generateText, 1)
      assert.isFalse(hub.listening())
    })
  )
})

const temp = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-deltas-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** One "process": an agent over the journal and trail in `home`, with a delta hub in context. */
const process = (home: string, turns: ReadonlyArray<Scripted.Turn>, notes: Array<string>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const layers = Layer.mergeAll(
      ActorSystem.layer(),
      AgentEvents.layer,
      ProviderPool.layer(),
      NodeHttpClient.layerUndici,
      TextDeltas.layer,
      RunJournal.layer({ directory: join(home, "runs") }),
      AuditLog.layerTest(home, { durability: "written" })
    )
    const context = yield* Layer.buildWithScope(layers, scope)
    const model = yield* Scripted.make(turns)
    const audit = yield* AuditLog.AuditLog.pipe(Effect.provideContext(context))
    const hub = yield* TextDeltas.TextDeltas.pipe(Effect.provideContext(context))
    const agent = yield* Agent.make(spec(), { model: model.languageModel, audit, toolkit: yield* toolkit(notes) }).pipe(
      Effect.provideContext(context),
      Scope.provide(scope)
    )
    const subscription = yield* hub.subscribe.pipe(Scope.provide(scope))
    return { agent, model, scope, subscription }
  })

describe("TextDeltas in a durable run", () => {
  it.live("the journal keeps the whole answer; a replayed step publishes no text, only its end", () =>
    Effect.gen(function* () {
      const home = yield* temp
      const notes: Array<string> = []
      const first = yield* process(
        home,
        [
          planTurn("a"),
          callTurn({ name: "note", params: { text: "once" } }),
          Scripted.text(answer),
          reflectTurn("done", { answer })
        ],
        notes
      )
      const result = yield* first.agent.run("answer")
      assert.strictEqual(result.answer, answer)
      const live = yield* PubSub.takeUpTo(first.subscription, 10_000)
      assert.strictEqual(live.map((d) => d.delta).join(""), answer)
      assert.isAbove(live.length, 2)
      // The act step's journal line is the whole answer, in the form a generateText call leaves.
      const journal = readFileSync(join(home, "runs", result.runId, "journal.jsonl"), "utf8")
      assert.include(journal, JSON.stringify({ type: "text", text: answer }).slice(1, -1))
      assert.notInclude(journal, "text-delta")
      yield* Scope.close(first.scope, Exit.void)

      assert.deepStrictEqual(notes, ["once"])
      const second = yield* process(home, [], notes)
      const again = yield* second.agent.run("answer", { runId: result.runId })
      assert.strictEqual(again.answer, answer)
      assert.strictEqual((yield* second.model.requests).length, 0)
      // Replayed: each step's end, no text; the streamed tool call is answered from the journal, not run again.
      const replayed = yield* PubSub.takeUpTo(second.subscription, 10_000)
      assert.deepStrictEqual(
        replayed.map((d) => [d.step, d.delta, d.end]),
        [
          [1, "", true],
          [2, "", true]
        ]
      )
      assert.deepStrictEqual(notes, ["once"])
      yield* Scope.close(second.scope, Exit.void)
    }).pipe(Effect.scoped)
  )
})
