import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as ProviderSelection from "../src/ProviderSelection.ts"

const withEnv = (env: Record<string, string>) => Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env)))

describe("ProviderSelection", () => {
  it.effect("the first configured provider is the default, with its default model", () =>
    Effect.gen(function* () {
      const selected = yield* ProviderSelection.select({ modelRef: undefined, all: false })
      assert.deepStrictEqual(selected, [{ provider: "anthropic", model: "claude-sonnet-4-5" }])
    }).pipe(withEnv({ ANTHROPIC_API_KEY: "a", GEMINI_API_KEY: "g" }))
  )

  it.effect("--model picks the model, provider/model also the provider; --mixture takes every provider", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* ProviderSelection.select({ modelRef: "gpt-4.1", all: false }), [
        { provider: "openai", model: "gpt-4.1" }
      ])
      assert.deepStrictEqual(yield* ProviderSelection.select({ modelRef: "ollama/qwen2.5:7b", all: false }), [
        { provider: "ollama", model: "qwen2.5:7b" }
      ])
      assert.deepStrictEqual(yield* ProviderSelection.select({ modelRef: "ollama/qwen2.5:7b", all: true }), [
        { provider: "openai", model: "gpt-5-mini" },
        { provider: "ollama", model: "qwen2.5:7b" }
      ])
    }).pipe(withEnv({ OPENAI_API_KEY: "k", OLLAMA_HOST: "127.0.0.1:11434" }))
  )

  it.effect("no provider is bad input that names every variable to set", () =>
    Effect.gen(function* () {
      const none = yield* Effect.flip(ProviderSelection.select({ modelRef: undefined, all: false }))
      assert.strictEqual(none.code, 2)
      for (const variable of [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "OLLAMA_HOST"
      ]) {
        assert.include(none.message, variable)
      }
    }).pipe(withEnv({}))
  )

  it.effect("--model naming an unconfigured provider is bad input naming its variable", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(ProviderSelection.select({ modelRef: "anthropic/claude-x", all: false }))
      assert.strictEqual(error.code, 2)
      assert.strictEqual(error.message, "--model names anthropic, which is not configured: set ANTHROPIC_API_KEY.")
      // A prefix that is no provider is part of the model id, for the default provider.
      assert.deepStrictEqual(yield* ProviderSelection.select({ modelRef: "meta-llama/llama-3", all: false }), [
        { provider: "openai", model: "meta-llama/llama-3" }
      ])
    }).pipe(withEnv({ OPENAI_API_KEY: "k" }))
  )

  it.effect("a base URL alone configures a keyless OpenAI-compatible server", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* ProviderSelection.select({ modelRef: undefined, all: false }), [
        { provider: "openai", model: "gpt-5-mini" }
      ])
    }).pipe(withEnv({ OPENAI_BASE_URL: "http://127.0.0.1:8080/v1" }))
  )

  it("explains failures with the variable to check", () => {
    const auth = new AiError.AuthenticationError({ kind: "InvalidKey" })
    assert.strictEqual(
      ProviderSelection.explain("gemini", "gemini-2.5-flash", auth),
      "gemini: the API key was rejected (401); check GEMINI_API_KEY."
    )
    const missing = new AiError.InvalidRequestError({ parameter: "model", description: "404" })
    assert.include(ProviderSelection.explain("openai", "gpt-9", missing), "model 'gpt-9' was not found")
  })
})
