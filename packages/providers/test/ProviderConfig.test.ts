import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Redacted, Schema } from "effect"
import { LanguageModel } from "effect/ai"
import * as ProviderConfig from "../src/ProviderConfig.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeAnthropic from "../src/testing/FakeAnthropic.ts"
import * as FakeGemini from "../src/testing/FakeGemini.ts"
import * as FakeOpenAi from "../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"

const withEnv =
  (env: Record<string, string>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.provideService(effect, ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord(env))

const run = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

const ask = (model: LanguageModel.LanguageModel) =>
  Effect.provideService(LanguageModel.generateText({ prompt: "Hi" }), LanguageModel.LanguageModel, model)

describe("ProviderConfig", () => {
  it.effect("builds openai from OPENAI_API_KEY and OPENAI_BASE_URL", () =>
    run(
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "from openai" }] })
        const model = yield* ProviderConfig.languageModel("openai", "gpt-test").pipe(
          withEnv({ OPENAI_API_KEY: "sk-env-key-1", OPENAI_BASE_URL: server.url })
        )
        const response = yield* ask(model)
        assert.strictEqual(response.text, "from openai")
        assert.strictEqual(server.requests[0]!.headers.authorization, "Bearer sk-env-key-1")
        assert.strictEqual((server.requests[0]!.body as any).model, "gpt-test")
      })
    )
  )

  it.effect("uses the documented default base URLs", () =>
    Effect.gen(function* () {
      const env = { OPENAI_API_KEY: "a", ANTHROPIC_API_KEY: "b", GEMINI_API_KEY: "c" }
      const openai = yield* ProviderConfig.resolve("openai").pipe(withEnv(env))
      const anthropic = yield* ProviderConfig.resolve("anthropic").pipe(withEnv(env))
      const gemini = yield* ProviderConfig.resolve("gemini").pipe(withEnv(env))
      const ollama = yield* ProviderConfig.resolve("ollama").pipe(withEnv({ OLLAMA_HOST: "" }))
      const blank = yield* ProviderConfig.resolve("openai").pipe(withEnv({ ...env, OPENAI_BASE_URL: " " }))
      assert.strictEqual(blank.connection.baseUrl, "https://api.openai.com/v1")
      assert.strictEqual(openai.connection.baseUrl, "https://api.openai.com/v1")
      assert.strictEqual(anthropic.connection.baseUrl, "https://api.anthropic.com")
      assert.strictEqual(gemini.connection.baseUrl, "https://generativelanguage.googleapis.com/v1beta")
      assert.strictEqual(ollama.connection.baseUrl, "http://127.0.0.1:11434/v1")
      assert.strictEqual(ollama.connection.apiKey, undefined)
      assert.strictEqual(ollama.kind, "openai")
    })
  )

  it.effect("builds anthropic and gemini from their environment variables", () =>
    run(
      Effect.gen(function* () {
        const anthropicServer = yield* FakeAnthropic.make({ turns: [{ text: "from anthropic" }] })
        const geminiServer = yield* FakeGemini.make({ turns: [{ text: "from gemini" }] })
        const env = {
          ANTHROPIC_API_KEY: "ant-key",
          ANTHROPIC_BASE_URL: anthropicServer.url,
          GEMINI_API_KEY: "gem-key",
          GEMINI_BASE_URL: geminiServer.url
        }
        const anthropic = yield* ProviderConfig.languageModel("anthropic", "claude-test").pipe(withEnv(env))
        const gemini = yield* ProviderConfig.languageModel("gemini", "gemini-test").pipe(withEnv(env))
        assert.strictEqual((yield* ask(anthropic)).text, "from anthropic")
        assert.strictEqual((yield* ask(gemini)).text, "from gemini")
        assert.strictEqual(anthropicServer.requests[0]!.headers["x-api-key"], "ant-key")
        assert.strictEqual(geminiServer.requests[0]!.headers["x-goog-api-key"], "gem-key")
      })
    )
  )

  it.effect("serves ollama OpenAI-compatibly at $OLLAMA_HOST/v1 without a key", () =>
    run(
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "from ollama" }] })
        const host = server.origin.replace("http://", "")
        const model = yield* ProviderConfig.languageModel("ollama", "llama3.2:3b").pipe(withEnv({ OLLAMA_HOST: host }))
        assert.strictEqual((yield* ask(model)).text, "from ollama")
        assert.strictEqual(server.requests[0]!.path, "/v1/chat/completions")
        assert.strictEqual(server.requests[0]!.headers.authorization, undefined)
      })
    )
  )

  it.effect("fails with ProviderConfigError for a missing key or an unknown name", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.flip(ProviderConfig.resolve("openai").pipe(withEnv({})))
      assert.strictEqual(missing._tag, "ProviderConfigError")
      assert.strictEqual(missing.provider, "openai")
      assert.match(missing.description, /OPENAI_API_KEY is not set/)
      assert.strictEqual(missing.message, "provider 'openai': OPENAI_API_KEY is not set")
      const unknown = yield* Effect.flip(ProviderConfig.resolve("nope").pipe(withEnv({})))
      assert.match(unknown.description, /unknown provider/)
    })
  )

  it.effect("resolves named definitions with apiKeyEnv, headers, timeout and maxRetries", () =>
    run(
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "from groq" }] })
        const groq = ProviderConfig.definition({
          name: "groq",
          kind: "openai",
          baseUrl: server.url,
          apiKeyEnv: "GROQ_API_KEY",
          headers: { "x-extra": "1" },
          timeout: "5 seconds",
          maxRetries: 1
        })
        const resolved = yield* ProviderConfig.resolve("groq", [groq]).pipe(withEnv({ GROQ_API_KEY: "gsk-key" }))
        assert.strictEqual(resolved.connection.retry?.maxRetries, 1)
        assert.strictEqual(Duration.toMillis(resolved.connection.timeout!), 5000)
        const model = yield* ProviderConfig.languageModel("groq", "llama-70b", { definitions: [groq] }).pipe(
          withEnv({ GROQ_API_KEY: "gsk-key" })
        )
        assert.strictEqual((yield* ask(model)).text, "from groq")
        assert.strictEqual(server.requests[0]!.headers.authorization, "Bearer gsk-key")
        assert.strictEqual(server.requests[0]!.headers["x-extra"], "1")
      })
    )
  )

  it.effect("accepts kind ollama: OpenAI-compatible at {baseUrl}/v1, /v1 not doubled, OLLAMA_HOST by default", () =>
    run(
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "from ollama" }] })
        const local = ProviderConfig.definition({ name: "local", kind: "ollama", baseUrl: `${server.origin}/` })
        const withV1 = ProviderConfig.definition({ name: "withv1", kind: "ollama", baseUrl: server.url })
        const fromEnv = ProviderConfig.definition({ name: "fromenv", kind: "ollama" })
        const env = withEnv({ OLLAMA_HOST: server.origin.replace("http://", "") })
        for (const def of [local, withV1, fromEnv]) {
          const resolved = yield* ProviderConfig.resolve(def).pipe(env)
          assert.strictEqual(resolved.kind, "openai")
          assert.strictEqual(resolved.connection.baseUrl, server.url)
          assert.strictEqual(resolved.connection.apiKey, undefined)
          const model = yield* ProviderConfig.languageModel(def.name, "llama3.2:3b", { definitions: [def] }).pipe(env)
          assert.strictEqual((yield* ask(model)).text, "from ollama")
        }
        assert.deepStrictEqual(
          server.requests.map((r) => [r.path, r.headers.authorization]),
          Array.from({ length: 3 }, () => ["/v1/chat/completions", undefined])
        )
        const embedder = yield* ProviderConfig.embeddingModel("local", "nomic-embed-text", { definitions: [local] })
        assert.strictEqual((yield* embedder.embed("hi")).vector.length, 8)
        assert.strictEqual(server.requests[3]!.path, "/v1/embeddings")
        const defaulted = yield* ProviderConfig.resolve(fromEnv).pipe(withEnv({}))
        assert.strictEqual(defaulted.connection.baseUrl, "http://127.0.0.1:11434/v1")
      })
    )
  )

  it.effect("a named definition without apiKeyEnv sends no Authorization header", () =>
    run(
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "keyless" }] })
        const vllm = ProviderConfig.definition({
          name: "vllm",
          kind: "openai",
          baseUrl: server.url,
          timeout: Duration.seconds(7)
        })
        const resolved = yield* ProviderConfig.resolve(vllm).pipe(withEnv({}))
        assert.strictEqual(Duration.toMillis(resolved.connection.timeout!), 7000)
        const model = yield* ProviderConfig.languageModel("vllm", "qwen", { definitions: [vllm] }).pipe(withEnv({}))
        assert.strictEqual((yield* ask(model)).text, "keyless")
        assert.strictEqual(server.requests[0]!.headers.authorization, undefined)
        // The built-in `openai` pointed at a keyless local server works without OPENAI_API_KEY and sends no key.
        const builtin = yield* ProviderConfig.languageModel("openai", "llama").pipe(
          withEnv({ OPENAI_BASE_URL: server.url })
        )
        assert.strictEqual((yield* ask(builtin)).text, "keyless")
        assert.strictEqual(server.requests.length, 2)
        assert.strictEqual(server.requests[1]!.headers.authorization, undefined)
        // At its hosted API it still needs the key, and says which variable is missing.
        const hosted = yield* Effect.flip(ProviderConfig.resolve("openai").pipe(withEnv({ OPENAI_API_KEY: " " })))
        assert.strictEqual(hosted.message, "provider 'openai': OPENAI_API_KEY is not set")
      })
    )
  )

  it.effect("definitions: timeouts as text, milliseconds or durations; unknown kinds and bad timeouts refused", () =>
    Effect.gen(function* () {
      const decode = Schema.decodeUnknownSync(ProviderConfig.ProviderDefinition)
      assert.throws(() => decode({ name: "x", kind: "cohere" }))
      assert.throws(() => decode({ name: "x", kind: "openai", baseUrl: 8080 }))
      const timeoutOf = (timeout: unknown) =>
        Effect.map(
          ProviderConfig.resolve(decode({ name: "local", kind: "openai", baseUrl: "http://gpu:8000/v1", timeout })),
          (resolved) => Duration.toMillis(resolved.connection.timeout as Duration.Duration)
        )
      assert.strictEqual(yield* timeoutOf("30 seconds"), 30_000)
      assert.strictEqual(yield* timeoutOf(1500), 1500)
      assert.strictEqual(yield* timeoutOf(Duration.minutes(2)), 120_000)
      const bad = yield* Effect.flip(timeoutOf("soon"))
      assert.strictEqual(bad.message, "provider 'local': timeout 'soon' is not a duration")
      const ollama = yield* ProviderConfig.resolve(decode({ name: "box", kind: "ollama", baseUrl: "gpu:11434" }))
      assert.strictEqual(ollama.connection.baseUrl, "http://gpu:11434/v1")
      assert.strictEqual(ollama.kind, "openai")
    }).pipe(withEnv({}))
  )

  it.effect("never shows the key: not in resolved settings, not in errors even when echoed", () =>
    run(
      Effect.gen(function* () {
        const key = "sk-super-secret-0123456789"
        const server = yield* FakeOpenAi.make({
          faults: [FakeServer.status(401, { message: `Incorrect API key provided: ${key}` })]
        })
        const resolved = yield* ProviderConfig.resolve("openai").pipe(
          withEnv({ OPENAI_API_KEY: key, OPENAI_BASE_URL: server.url })
        )
        assert.notInclude(String(resolved.connection.apiKey), key)
        assert.notInclude(JSON.stringify(resolved), key)
        assert.strictEqual(Redacted.value(resolved.connection.apiKey!), key)
        const model = yield* ProviderConfig.languageModelFrom(resolved, "gpt-test", { retry: Retry.none })
        const error = yield* Effect.flip(ask(model))
        assert.strictEqual(error.reason._tag, "AuthenticationError")
        assert.notInclude(error.message, key)
        assert.notInclude(JSON.stringify(error), key)
        assert.notInclude(String(error), key)
        assert.include(error.message, "[redacted]")
      })
    )
  )

  it.effect("builds embedding models; anthropic has none", () =>
    run(
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make()
        const env = { OPENAI_API_KEY: "k", OPENAI_BASE_URL: server.url, ANTHROPIC_API_KEY: "k" }
        const embeddings = yield* ProviderConfig.embeddingModel("openai", "text-embedding-test").pipe(withEnv(env))
        const { vector } = yield* embeddings.embed("hi")
        assert.deepStrictEqual(vector, FakeServer.vectorOf("hi", 8))
        const error = yield* Effect.flip(ProviderConfig.embeddingModel("anthropic", "x").pipe(withEnv(env)))
        assert.strictEqual(error._tag, "ProviderConfigError")
      })
    )
  )

  it.effect("parses provider/model references", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* ProviderConfig.parseModelRef("openai/gpt-4o-mini"), {
        provider: "openai",
        model: "gpt-4o-mini"
      })
      assert.deepStrictEqual(yield* ProviderConfig.parseModelRef("openrouter/meta-llama/llama-3-8b"), {
        provider: "openrouter",
        model: "meta-llama/llama-3-8b"
      })
      const error = yield* Effect.flip(ProviderConfig.parseModelRef("gpt-4o"))
      assert.strictEqual(error._tag, "ProviderConfigError")
    })
  )
})
