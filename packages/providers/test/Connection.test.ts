import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted, Stream } from "effect"
import { type AiError, LanguageModel } from "effect/ai"
import * as Connection from "../src/Connection.ts"
import * as GeminiLanguageModel from "../src/GeminiLanguageModel.ts"
import * as OpenAiLanguageModel from "../src/OpenAiLanguageModel.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeGemini from "../src/testing/FakeGemini.ts"
import * as FakeOpenAi from "../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"

const user = "alice-in-proxy"
const password = "s3cret-pass-word"

// Everything an error carries that could be printed or stored.
const printed = (error: AiError.AiError) => `${error.message}\n${JSON.stringify(error)}\n${String(error.stack)}`

const withCredentials = (url: string) => url.replace("http://", `http://${user}:${encodeURIComponent(password)}@`)

describe("Connection", () => {
  describe("resolve", () => {
    it("applies the defaults: 120 s per attempt, 10 minutes per call, 16 MiB bodies", () => {
      const resolved = Connection.resolve({ baseUrl: "https://api.example.com/v1/" })
      assert.strictEqual(resolved.baseUrl, "https://api.example.com/v1")
      assert.strictEqual(Duration.toMillis(resolved.timeout), 120_000)
      assert.strictEqual(Duration.toMillis(resolved.deadline), 600_000)
      assert.strictEqual(resolved.limits.bodyBytes, 16 * 1024 * 1024)
      assert.deepStrictEqual(resolved.secrets, [])
    })

    it("takes credentials out of the base URL into basic authentication, and lists them as secrets", () => {
      const resolved = Connection.resolve({
        baseUrl: `http://${user}:${encodeURIComponent(password)}@proxy.local:8080/v1`,
        apiKey: Redacted.make("sk-the-api-key")
      })
      assert.strictEqual(resolved.baseUrl, "http://proxy.local:8080/v1")
      assert.strictEqual(resolved.basicAuth, `Basic ${btoa(`${user}:${password}`)}`)
      for (const secret of [password, user, `${user}:${password}`, "sk-the-api-key"]) {
        assert.include(resolved.secrets, secret)
      }
      // Longest first: a secret that contains another is redacted whole.
      const lengths = resolved.secrets.map((s) => s.length)
      assert.deepStrictEqual(
        lengths,
        [...lengths].sort((a, b) => b - a)
      )
    })

    it("keeps a query string apart and appends it after every path, before the path's own query", () => {
      const resolved = Connection.resolve({ baseUrl: "https://gw.example.com/v1beta?api-version=2&key=k-123456789" })
      assert.strictEqual(resolved.baseUrl, "https://gw.example.com/v1beta")
      assert.strictEqual(
        Connection.endpoint(resolved, "/models/m:streamGenerateContent?alt=sse").url,
        "https://gw.example.com/v1beta/models/m:streamGenerateContent?api-version=2&key=k-123456789&alt=sse"
      )
      assert.strictEqual(
        Connection.endpoint(resolved, "chat/completions").display,
        "https://gw.example.com/v1beta/chat/completions?api-version=2&key=[redacted]"
      )
      assert.strictEqual(Connection.endpoint(Connection.resolve({ baseUrl: "http://h/v1" }), "a").url, "http://h/v1/a")
    })

    it("never prints the credentials of a base URL it cannot parse", () => {
      const resolved = Connection.resolve({ baseUrl: `http://${user}:${password}@bad host/v1` })
      assert.notInclude(resolved.baseUrl, password)
      assert.notInclude(resolved.baseUrl, user)
    })
  })

  describe("over HTTP", () => {
    it.effect("a base URL with credentials authenticates with them and no error prints them", () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({
          faults: [
            undefined,
            FakeServer.status(401, {
              message: `proxy refused ${user}:${password} (Basic ${btoa(`${user}:${password}`)})`
            })
          ]
        })
        const model = yield* OpenAiLanguageModel.make({
          baseUrl: withCredentials(server.url),
          model: "m",
          retry: Retry.none
        })
        const ask = LanguageModel.generateText({ prompt: "x" }).pipe(
          Effect.provideService(LanguageModel.LanguageModel, model)
        )
        yield* ask
        const request = server.requests[0]!
        assert.strictEqual(request.path, "/v1/chat/completions")
        assert.strictEqual(request.headers.authorization, `Basic ${btoa(`${user}:${password}`)}`)
        const error = yield* Effect.flip(ask)
        assert.strictEqual(error.reason._tag, "AuthenticationError")
        for (const secret of [password, user, btoa(`${user}:${password}`)]) assert.notInclude(printed(error), secret)
        assert.include(error.message, "[redacted]")
      }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
    )

    it.effect("an unreachable base URL with credentials is reported without them", () =>
      Effect.gen(function* () {
        const url = yield* Effect.scoped(Effect.map(FakeOpenAi.make(), (server) => server.url))
        const model = yield* OpenAiLanguageModel.make({ baseUrl: withCredentials(url), model: "m", retry: Retry.none })
        const error = yield* Effect.flip(
          LanguageModel.generateText({ prompt: "x" }).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
        )
        assert.strictEqual(error.reason._tag, "NetworkError")
        assert.include(error.message, url.replace("http://", ""))
        assert.notInclude(printed(error), password)
        assert.notInclude(printed(error), user)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici))
    )

    it.effect(
      "a query string in the base URL reaches every endpoint, streamed or not, and secret values stay out of errors",
      () =>
        Effect.gen(function* () {
          const server = yield* FakeGemini.make({ faults: [undefined, undefined, FakeServer.status(404)] })
          const model = yield* GeminiLanguageModel.make({
            baseUrl: `${server.url}?api-version=2&access_token=tok-0123456789`,
            model: "m",
            retry: Retry.none
          })
          const provide = Effect.provideService(LanguageModel.LanguageModel, model)
          yield* LanguageModel.generateText({ prompt: "x" }).pipe(provide)
          yield* Stream.runDrain(LanguageModel.streamText({ prompt: "x" })).pipe(provide)
          assert.deepStrictEqual(
            server.requests.map((r) => r.path),
            [
              "/v1beta/models/m:generateContent?api-version=2&access_token=tok-0123456789",
              "/v1beta/models/m:streamGenerateContent?api-version=2&access_token=tok-0123456789&alt=sse"
            ]
          )
          const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }).pipe(provide))
          assert.include(error.message, "api-version=2")
          assert.notInclude(printed(error), "tok-0123456789")
        }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
    )
  })
})
