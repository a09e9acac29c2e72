import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Agent from "../src/Agent.ts"
import type * as AgentEvent from "../src/AgentEvent.ts"
import * as AgentEvents from "../src/AgentEvents.ts"
import { callTurn, planTurn, reflectTurn, spec, toolkit } from "./support.ts"

const services = Layer.mergeAll(
  ActorSystem.layer(),
  AgentEvents.layer,
  ProviderPool.layer(),
  NodeHttpClient.layerUndici
)

const agentWith = (
  turns: ReadonlyArray<Scripted.Turn>,
  options: Partial<Agent.Options> & { readonly input?: object } = {}
) =>
  Effect.gen(function* () {
    const model = yield* Scripted.make(turns)
    const notes: Array<string> = []
    const agent = yield* Agent.make(spec(options.input ?? {}), {
      model: model.languageModel,
      toolkit: yield* toolkit(notes),
      ...options
    })
    return { agent, model, notes }
  })

/** Polls the agent's status until `done` says so. */
const until = (agent: Agent.Agent, done: (status: Agent.Status) => boolean) =>
  Effect.gen(function* () {
    while (true) {
      const status = yield* agent.status
      if (done(status)) return status
      yield* Effect.sleep("5 millis")
    }
  })

describe("Agent", () => {
  it.live("runs a goal as a supervised actor and publishes its events", () =>
    Effect.gen(function* () {
      const { agent } = yield* agentWith([
        planTurn("greet"),
        callTurn({ name: "echo", params: { text: "hello" } }),
        Scripted.text("hello"),
        reflectTurn("done", { answer: "hello" })
      ])
      assert.strictEqual(agent.path, "/tester/agent")
      const events: Array<AgentEvent.AgentEvent> = []
      const collecting = yield* Effect.forkChild(
        Stream.runForEach(agent.events, (e) => Effect.sync(() => events.push(e)))
      )
      yield* Effect.sleep("10 millis")
      const result = yield* agent.run("say hello")
      assert.strictEqual(result.answer, "hello")
      assert.match(result.runId, /^\d{8}T\d{6}-[0-9a-z]{6}$/)
      yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(collecting)
      assert.strictEqual(events[0]?._tag, "AgentRunStarted")
      assert.strictEqual(events.at(-1)?._tag, "AgentRunEnded")
      assert.strictEqual((yield* agent.status).state, "idle")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("a goal sent as soon as the last one answered finds the agent idle, not busy", () =>
    Effect.gen(function* () {
      const { agent } = yield* agentWith([
        planTurn("one"),
        Scripted.text("first"),
        reflectTurn("done", { answer: "first" }),
        planTurn("two"),
        Scripted.text("second"),
        reflectTurn("done", { answer: "second" })
      ])
      const first = yield* agent.run("first goal")
      const second = yield* agent.run("second goal")
      assert.deepStrictEqual([first.answer, second.answer], ["first", "second"])
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("takes approvals, status requests and refuses a second goal while it runs", () =>
    Effect.gen(function* () {
      const { agent, notes } = yield* agentWith(
        [
          planTurn("a"),
          callTurn({ name: "note", params: { text: "deploy" } }),
          Scripted.text("deployed"),
          reflectTurn("done", { answer: "ok" })
        ],
        { input: { approvals: { default: "ask" } } }
      )
      const running = yield* Effect.forkChild(agent.run("deploy"))
      const status = yield* until(agent, (s) => s.state === "awaiting-approval")
      assert.strictEqual(status.pendingApprovals[0]?.tool, "note")
      const busy = yield* Effect.flip(agent.run("something else"))
      assert.strictEqual(busy._tag, "AgentBusy")
      yield* agent.approve(status.pendingApprovals[0]!.approvalId, "ana")
      const result = yield* Fiber.join(running)
      assert.strictEqual(result.answer, "ok")
      assert.deepStrictEqual(notes, ["deploy"])
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("Cancel interrupts the step in progress; the run ends as cancelled", () =>
    Effect.gen(function* () {
      const { agent, model } = yield* agentWith([planTurn("a"), Scripted.hang])
      const running = yield* Effect.forkChild(Effect.flip(agent.run("wait forever")))
      yield* until(agent, (s) => s.state === "running" && s.step === 1)
      while ((yield* model.requests).length < 2) yield* Effect.sleep("5 millis")
      yield* agent.cancel
      const error = yield* Fiber.join(running)
      assert.strictEqual(error._tag, "RunCancelled")
      assert.strictEqual((yield* until(agent, (s) => s.state === "idle")).state, "idle")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("a defect fails the run with RunCrashed and restarts the agent per its supervision", () =>
    Effect.gen(function* () {
      const system = yield* ActorSystem.ActorSystem
      const lifecycle: Array<string> = []
      const watching = yield* Effect.forkChild(
        Stream.runForEach(system.events, (e) => Effect.sync(() => lifecycle.push(`${e._tag} ${e.path}`)))
      )
      yield* Effect.sleep("10 millis")
      const crash = Scripted.dynamic(() => {
        throw new Error("a bug in the model adapter")
      })
      const { agent } = yield* agentWith(
        [crash, planTurn("a"), Scripted.text("fine"), reflectTurn("done", { answer: "fine" })],
        {
          input: { supervision: { restart: "transient", maxRestarts: 2, within: "1m", backoff: "10ms" } }
        }
      )
      const error = yield* Effect.flip(agent.run("crash"))
      assert.strictEqual(error._tag, "RunCrashed")
      yield* Effect.sleep("100 millis")
      assert.include(lifecycle, "ActorRestarted /tester/agent")
      const again = yield* agent.run("work")
      assert.strictEqual(again.answer, "fine")
      yield* Fiber.interrupt(watching)
    }).pipe(Effect.scoped, Effect.provide(services))
  )
})
