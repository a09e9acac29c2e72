import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import { Workspace } from "@troupe/tools"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Agent from "../src/Agent.ts"
import * as AgentEvents from "../src/AgentEvents.ts"
import { callTurn, planTurn, reflectTurn, spec } from "./support.ts"

const workspace = Layer.unwrap(
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-delegate-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    ),
    Workspace.layer
  )
)

const services = Layer.mergeAll(
  ActorSystem.layer(),
  AgentEvents.layer,
  ProviderPool.layer(),
  NodeHttpClient.layerUndici,
  workspace
)

describe("delegate and ask_human", () => {
  it.live("an agent hands a task to another and gets its answer as the tool's result", () =>
    Effect.gen(function* () {
      const team = new Map<string, Agent.Agent>()
      const delegation = Agent.delegationTo((name) => team.get(name))
      const managerModel = yield* Scripted.make([
        planTurn("count"),
        callTurn({ name: "delegate", params: { agent: "worker", task: "count to three" } }),
        Scripted.text("The worker counted: 1 2 3"),
        reflectTurn("done", { answer: "1 2 3" })
      ])
      const workerModel = yield* Scripted.make([
        planTurn("count"),
        Scripted.text("1 2 3"),
        reflectTurn("done", { answer: "1 2 3" })
      ])
      const manager = yield* Agent.make(spec({ name: "manager", tools: [{ delegate: { agents: ["worker"] } }] }), {
        model: managerModel.languageModel,
        delegation
      })
      const worker = yield* Agent.make(spec({ name: "worker" }), { model: workerModel.languageModel })
      team.set("manager", manager)
      team.set("worker", worker)
      const result = yield* manager.run("count to three, with help")
      assert.strictEqual(result.answer, "1 2 3")
      // The worker's answer reached the manager as the delegate tool's result.
      const prompts = yield* managerModel.prompts
      assert.include(JSON.stringify(prompts[2]!.content.at(-1)), '"result":"1 2 3"')
      assert.strictEqual((yield* workerModel.requests).length, 3)
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("ask_human waits for an Answer; the answer is the tool's result", () =>
    Effect.gen(function* () {
      const model = yield* Scripted.make([
        planTurn("ask"),
        callTurn({ name: "ask_human", params: { question: "Which branch?" } }),
        Scripted.text("Using main"),
        reflectTurn("done", { answer: "main" })
      ])
      const agent = yield* Agent.make(spec({ name: "asker", tools: ["ask_human"] }), { model: model.languageModel })
      const running = yield* Effect.forkChild(agent.run("pick a branch"))
      let status = yield* agent.status
      while (status.pendingQuestions.length === 0) {
        yield* Effect.sleep("5 millis")
        status = yield* agent.status
      }
      assert.strictEqual(status.state, "awaiting-answer")
      assert.strictEqual(status.pendingQuestions[0]!.question, "Which branch?")
      yield* agent.answer(status.pendingQuestions[0]!.questionId, "main")
      const result = yield* Fiber.join(running)
      assert.strictEqual(result.answer, "main")
      const prompts = yield* model.prompts
      assert.include(JSON.stringify(prompts[2]!.content.at(-1)), "main")
    }).pipe(Effect.scoped, Effect.provide(services))
  )
})
