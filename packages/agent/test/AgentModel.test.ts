import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ProviderPool } from "@troupe/providers"
import { FakeAnthropic, FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Prompt from "effect/ai/Prompt"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as AgentModel from "../src/AgentModel.ts"
import * as ModelCall from "../src/internal/modelCall.ts"
import * as Run from "../src/Run.ts"
import { harness, spec } from "./support.ts"

const plan = JSON.stringify({ goals: [] })
const done = JSON.stringify({ outcome: "done", reasoning: "answered", progress: [], answer: "Paris" })

describe("AgentModel", () => {
  it.live(
    "a provider outage fails over through the mixture, over the real adapters and wire formats",
    () =>
      Effect.gen(function* () {
        const openai = yield* FakeOpenAi.make({ faults: () => FakeServer.status(503, { message: "overloaded" }) })
        const anthropic = yield* FakeAnthropic.make({ turns: [{ text: plan }, { text: "Paris." }, { text: done }] })
        const agent = spec({
          mixture: {
            strategy: "fallback",
            retries: 0,
            providers: [
              { provider: "openai", model: "gpt-5-mini" },
              { provider: "anthropic", model: "claude-sonnet-4-5" }
            ]
          }
        })
        const model = yield* AgentModel.make(agent).pipe(
          Effect.provideService(
            ConfigProvider.ConfigProvider,
            ConfigProvider.fromEnvRecord({
              OPENAI_API_KEY: "sk-a",
              OPENAI_BASE_URL: openai.url,
              ANTHROPIC_API_KEY: "sk-b",
              ANTHROPIC_BASE_URL: anthropic.url
            })
          )
        )
        const h = yield* harness([], { spec: agent, tools: false, goal: "What is the capital of France?" })
        const result = yield* Run.execute({ ...h.context, model }, h.control)
        assert.strictEqual(result.answer, "Paris")
        assert.strictEqual(openai.requests.length, 3)
        assert.strictEqual(anthropic.requests.length, 3)
        const pool = yield* ProviderPool.ProviderPool
        const usage = Object.fromEntries((yield* pool.usage).map((u) => [u.provider, u]))
        assert.strictEqual(usage.openai!.failures, 3)
        assert.strictEqual(usage.anthropic!.successes, 3)
      }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici])),
    30_000
  )

  it.effect("an unknown provider or a missing key is refused before any call", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        AgentModel.make(spec({ model: { provider: "anthropic", model: "claude-sonnet-4-5" } })).pipe(
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({}))
        )
      )
      assert.strictEqual(error.message, "provider 'anthropic': ANTHROPIC_API_KEY is not set")
    }).pipe(Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici]))
  )

  it.live(
    "agents asking for the same model under the same pool, client and configuration share it; any difference gets its own",
    () =>
      Effect.gen(function* () {
        const first = yield* FakeOpenAi.make({ turns: [{ text: "from the first server" }] })
        const second = yield* FakeOpenAi.make({ turns: [{ text: "from the second server" }] })
        const configOf = (url: string) => ConfigProvider.fromEnvRecord({ OPENAI_API_KEY: "sk-a", OPENAI_BASE_URL: url })
        const toFirst = configOf(first.url)
        const under = (config: ConfigProvider.ConfigProvider) => (input: Parameters<typeof spec>[0]) =>
          AgentModel.make(spec(input)).pipe(Effect.provideService(ConfigProvider.ConfigProvider, config))
        const model = { provider: "openai", model: "gpt-5-mini" }
        const a = yield* under(toFirst)({ name: "a", model })
        const b = yield* under(toFirst)({ name: "b", model, instructions: "Other instructions." })
        assert.strictEqual(a, b)
        assert.notStrictEqual(a, yield* under(toFirst)({ name: "c", model: { ...model, model: "gpt-5" } }))
        assert.notStrictEqual(a, yield* under(toFirst)({ name: "d", model, limits: { stepTimeout: "7s" } }))
        assert.notStrictEqual(a, yield* under(toFirst)({ name: "e", model }).pipe(Effect.provide(ProviderPool.layer())))
        // Another configuration: its own model, which calls its own server.
        const elsewhere = yield* under(configOf(second.url))({ name: "f", model })
        assert.notStrictEqual(a, elsewhere)
        const answerOf = (m: typeof a) =>
          Effect.map(ModelCall.loose(m).generateText({ prompt: Prompt.make("hi") }), (r) => r.text)
        assert.strictEqual(yield* answerOf(a), "from the first server")
        assert.strictEqual(yield* answerOf(elsewhere), "from the second server")
        assert.strictEqual(first.requests.length, 1)
        assert.strictEqual(second.requests.length, 1)
      }).pipe(Effect.scoped, Effect.provide([ProviderPool.layer(), NodeHttpClient.layerUndici])),
    30_000
  )
})
