import { assert, describe, it } from "@effect/vitest"
import { FakeAnthropic, FakeGemini, FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { troupe } from "../support.ts"

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1) ?? ""

describe("troupe -p", () => {
  it.live(
    "streams the answer of the configured provider to stdout",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "Hello from the fake OpenAI server." }] })
        const run = yield* troupe(["-p", "Say hello"], { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url })
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stdout, "Hello from the fake OpenAI server.\n")
        const body = server.requests[0]?.body as {
          model: string
          stream: boolean
          messages: Array<{ content: unknown }>
        }
        assert.strictEqual(body.model, "gpt-5-mini")
        assert.isTrue(body.stream)
        assert.include(JSON.stringify(body.messages), "Say hello")
      }),
    30_000
  )

  it.live(
    "--json prints { text, provider, model, usage } as the last line; --model and TROUPE_MODEL pick the model",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "42", usage: { input: 12, output: 3 } }] })
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url }
        const run = yield* troupe(["-p", "answer?", "--json", "--model", "gpt-4.1"], env)
        assert.strictEqual(run.code, 0, run.stderr)
        assert.deepStrictEqual(JSON.parse(lastLine(run.stdout)), {
          text: "42",
          provider: "openai",
          model: "gpt-4.1",
          usage: { inputTokens: 12, outputTokens: 3 }
        })
        const fromEnv = yield* troupe(["-p", "answer?", "--json"], { ...env, TROUPE_MODEL: "openai/gpt-4o" })
        assert.strictEqual(JSON.parse(lastLine(fromEnv.stdout)).model, "gpt-4o")
        assert.deepStrictEqual(
          server.requests.map((r) => (r.body as { model: string }).model),
          ["gpt-4.1", "gpt-4o"]
        )
      }),
    30_000
  )

  it.live(
    "a rejected key exits 1 with one line naming OPENAI_API_KEY and no stack trace",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({
          faults: () => FakeServer.status(401, { message: "Incorrect API key" })
        })
        const env = { OPENAI_API_KEY: "sk-wrong", OPENAI_BASE_URL: server.url }
        const run = yield* troupe(["-p", "hi"], env)
        assert.strictEqual(run.code, 1)
        assert.strictEqual(run.stdout, "")
        assert.strictEqual(run.stderr, "openai: the API key was rejected (401); check OPENAI_API_KEY.\n")
        const verbose = yield* troupe(["-p", "hi", "--verbose"], env)
        assert.strictEqual(verbose.code, 1)
        assert.include(verbose.stderr, "AuthenticationError")
        assert.include(verbose.stderr, "check OPENAI_API_KEY")
        assert.notInclude(verbose.stderr, "sk-wrong")
      }),
    30_000
  )

  it.live(
    "bad input exits 2: no provider configured, an empty prompt, an unknown flag",
    () =>
      Effect.gen(function* () {
        const none = yield* troupe(["-p", "hi"])
        assert.strictEqual(none.code, 2)
        assert.include(none.stderr, "No model provider is configured")
        assert.include(none.stderr, "OPENAI_API_KEY")
        assert.include(none.stderr, "OLLAMA_HOST")
        const empty = yield* troupe(["-p", "  "], { OPENAI_API_KEY: "sk-test" })
        assert.strictEqual(empty.code, 2)
        assert.include(empty.stderr, "needs a prompt")
        const unknown = yield* troupe(["-p", "hi", "--frobnicate"], { OPENAI_API_KEY: "sk-test" })
        assert.strictEqual(unknown.code, 2)
        const unconfigured = yield* troupe(["-p", "hi", "--model", "anthropic/claude-sonnet-4-5"], {
          OPENAI_API_KEY: "sk-test"
        })
        assert.strictEqual(unconfigured.code, 2)
        assert.include(unconfigured.stderr, "ANTHROPIC_API_KEY")
      }),
    30_000
  )

  it.live(
    "--mixture asks every configured provider and prints the winner with the score table",
    () =>
      Effect.gen(function* () {
        const openai = yield* FakeOpenAi.make({
          turns: [{ text: "The capital of France is Paris. It lies on the Seine." }]
        })
        const anthropic = yield* FakeAnthropic.make({ turns: [{ text: "Paris", finish: "length" }] })
        const gemini = yield* FakeGemini.make({ faults: () => FakeServer.status(401) })
        const env = {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: openai.url,
          ANTHROPIC_API_KEY: "sk-ant",
          ANTHROPIC_BASE_URL: anthropic.url,
          GEMINI_API_KEY: "g-key",
          GEMINI_BASE_URL: gemini.url
        }
        const run = yield* troupe(["-p", "Capital of France?", "--mixture"], env)
        assert.strictEqual(run.code, 0, run.stderr)
        const [answer, table] = run.stdout.split("\n\n")
        assert.strictEqual(answer, "The capital of France is Paris. It lies on the Seine.")
        const rows = table!.trim().split("\n")
        assert.match(rows[0]!, /^provider\s+model\s+outcome\s+latency\s+score/)
        assert.match(rows[1]!, /^openai\s+gpt-5-mini\s+won\s+\d+ ms\s+\d\.\d{3}/)
        assert.match(rows[2]!, /^anthropic\s+claude-sonnet-4-5\s+answered/)
        assert.match(rows[3]!, /^gemini\s+gemini-2\.5-flash\s+failed/)
        const json = yield* troupe(["-p", "Capital of France?", "--mixture", "--json"], env)
        const result = JSON.parse(lastLine(json.stdout))
        assert.strictEqual(result.provider, "openai")
        assert.strictEqual(result.model, "gpt-5-mini")
        assert.deepStrictEqual(
          result.scores.map((s: { provider: string }) => s.provider),
          ["openai", "anthropic"]
        )
        assert.isAbove(result.scores[0].score, result.scores[1].score)
      }),
    30_000
  )

  it.live(
    "--strategy chooses how the mixture decides; an unknown strategy is bad input",
    () =>
      Effect.gen(function* () {
        const openai = yield* FakeOpenAi.make({ faults: () => FakeServer.status(503) })
        const anthropic = yield* FakeAnthropic.make({ turns: [{ text: "Paris." }] })
        const env = {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: openai.url,
          ANTHROPIC_API_KEY: "sk-ant",
          ANTHROPIC_BASE_URL: anthropic.url
        }
        const run = yield* troupe(["-p", "Capital of France?", "--mixture", "--strategy", "fallback", "--json"], env)
        assert.strictEqual(run.code, 0, run.stderr)
        const result = JSON.parse(lastLine(run.stdout))
        assert.strictEqual(result.provider, "anthropic")
        assert.strictEqual(result.text, "Paris.")
        // Fallback keeps the configured order: openai first (retried once by default), then anthropic.
        assert.strictEqual(openai.requests.length, 2)
        assert.strictEqual(anthropic.requests.length, 1)
        const bad = yield* troupe(["-p", "hi", "--mixture", "--strategy", "loudest"], env)
        assert.strictEqual(bad.code, 2)
        const alone = yield* troupe(["-p", "hi", "--strategy", "quorum"], env)
        assert.strictEqual(alone.code, 2)
        assert.include(alone.stderr, "--strategy chooses how --mixture decides")
      }),
    30_000
  )

  it.live(
    "--mixture exits 1 naming what to check for each provider when all fail",
    () =>
      Effect.gen(function* () {
        const openai = yield* FakeOpenAi.make({ faults: () => FakeServer.status(401) })
        const anthropic = yield* FakeAnthropic.make({ faults: () => FakeServer.status(401) })
        const run = yield* troupe(["-p", "hi", "--mixture"], {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: openai.url,
          ANTHROPIC_API_KEY: "sk-ant",
          ANTHROPIC_BASE_URL: anthropic.url
        })
        assert.strictEqual(run.code, 1)
        assert.strictEqual(
          run.stderr,
          "every provider failed: openai: the API key was rejected; check OPENAI_API_KEY. " +
            "anthropic: the API key was rejected; check ANTHROPIC_API_KEY.\n"
        )
      }),
    30_000
  )
})
