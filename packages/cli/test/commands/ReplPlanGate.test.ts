import { assert, describe, it } from "@effect/vitest"
import { Agent } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Model } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { FetchHttpClient } from "effect/http"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as ReplPlanGate from "../../src/commands/ReplPlanGate.ts"

const spec = Schema.decodeUnknownSync(
  AgentSpec.AgentSpec,
  AgentSpec.parseOptions
)({
  name: "planner",
  memory: { enabled: false }
})

const goal = (id: string) => ({ id, title: id, status: "pending", dependsOn: [], acceptance: id, subgoals: [] })
const plan = Model.text(JSON.stringify({ goals: [goal("first"), goal("second")] }))
const done = Model.text(JSON.stringify({ outcome: "done", reasoning: "done", progress: [], answer: "Done." }))

const program = (gate: ReplPlanGate.PlanGate, decision: boolean | undefined) =>
  Effect.gen(function* () {
    const model = yield* Model.make([plan, Model.text("Done."), done])
    const agent = yield* Agent.make(spec, { model: model.languageModel })
    const run = yield* Effect.forkChild(Effect.result(agent.run("two things")))
    if (decision === undefined) return { result: yield* Fiber.join(run), calls: (yield* model.requests).length }
    // Held after planning: the plan was asked for, the first step was not.
    while (gate.waiting === undefined) yield* Effect.sleep("5 millis")
    yield* Effect.sleep("50 millis")
    const before = (yield* model.requests).length
    yield* ReplPlanGate.decide(gate, decision)
    if (!decision) yield* agent.cancel
    return { before, result: yield* Fiber.join(run), calls: (yield* model.requests).length }
  }).pipe(
    Effect.scoped,
    Effect.provide(
      Layer.mergeAll(ActorSystem.layer(), ReplPlanGate.layer(gate), ProviderPool.layer(), FetchHttpClient.layer)
    )
  )

describe("ReplPlanGate", () => {
  it.live("holds a run between a plan of several goals and its first step until it is approved", () =>
    Effect.gen(function* () {
      const gate = ReplPlanGate.make(true)
      const { before, result, calls } = yield* program(gate, true)
      assert.strictEqual(before, 1)
      assert.strictEqual(result._tag, "Success")
      assert.strictEqual(calls, 3)
    })
  )

  it.live("a declined plan is cancelled before anything is acted on", () =>
    Effect.gen(function* () {
      const gate = ReplPlanGate.make(true)
      const { before, result, calls } = yield* program(gate, false)
      assert.strictEqual(before, 1)
      assert.isTrue(result._tag === "Failure" && result.failure._tag === "RunCancelled")
      assert.strictEqual(calls, 1)
    })
  )

  it.live("without a terminal to ask at, plans are carried out at once", () =>
    Effect.gen(function* () {
      const gate = ReplPlanGate.make(false)
      const { result, calls } = yield* program(gate, undefined)
      assert.strictEqual(result._tag, "Success")
      assert.strictEqual(calls, 3)
      assert.isUndefined(gate.waiting)
    })
  )
})
