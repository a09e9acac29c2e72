/**
 * The README's agent example, run here; the test also checks that the README shows exactly this code.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
// README example: begin
import { AgentSpec } from "@troupe/agent-spec"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Model } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import { Effect, Layer, Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import { Agent, AgentEvents } from "../src/index.ts"

const spec = Schema.decodeUnknownSync(
  AgentSpec.AgentSpec,
  AgentSpec.parseOptions
)({
  name: "greeter",
  persona: "a friendly assistant",
  limits: { maxSteps: 5, maxCostUsd: 0.1 }
})

const program = Effect.gen(function* () {
  // A scripted model stands in for a provider: it plans, answers, and reflects that the task is done.
  const model = yield* Model.make([
    Model.text(JSON.stringify({ goals: [] })),
    Model.text("Hello, Ada!"),
    Model.text(JSON.stringify({ outcome: "done", reasoning: "greeted", progress: [], answer: "Hello, Ada!" }))
  ])
  const agent = yield* Agent.make(spec, { model: model.languageModel }) // without `model`: the spec's, via the pool
  const result = yield* agent.run("Greet Ada") // RunResult, or a typed error: BudgetExceeded, GaveUp, ...
  return `${result.answer} (${result.spend.steps} step, ${result.spend.modelCalls} model calls)`
}).pipe(
  Effect.scoped,
  Effect.provide(Layer.mergeAll(ActorSystem.layer(), AgentEvents.layer, ProviderPool.layer(), FetchHttpClient.layer))
)
// README example: end

const between = (text: string, begin: string, end: string): string => {
  const start = text.indexOf(begin)
  return text.slice(start + begin.length, text.indexOf(end, start + begin.length)).trim()
}

describe("README", () => {
  it.live("the agent example runs and greets", () =>
    Effect.map(program, (text) => assert.strictEqual(text, "Hello, Ada! (1 step, 3 model calls)"))
  )

  it("shows exactly the code this test runs", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
    const shown = between(readme.slice(readme.indexOf("## Agents (`@troupe/agent`)")), "```ts", "```")
    const self = readFileSync(fileURLToPath(import.meta.url), "utf8")
    const run = between(self, "// README example: begin", "// README example: end")
    assert.strictEqual(shown, run.replace('from "../src/index.ts"', 'from "@troupe/agent"'))
  })
})
