import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import * as OpenAiLanguageModel from "../src/OpenAiLanguageModel.ts"
import * as ProviderError from "../src/ProviderError.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeOpenAi from "../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"

const failWith = (fault: FakeServer.Fault, timeout?: Duration.Input) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAi.make({ faults: [fault] })
    const model = yield* OpenAiLanguageModel.make({
      baseUrl: server.url,
      model: "m",
      retry: Retry.none,
      ...(timeout === undefined ? {} : { timeout })
    })
    return yield* Effect.flip(
      LanguageModel.generateText({ prompt: "x" }).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
    )
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

const expectReason = (error: AiError.AiError, tag: string, retryable: boolean) => {
  assert.strictEqual(error.reason._tag, tag)
  assert.strictEqual(error.isRetryable, retryable)
}

describe("ProviderError", () => {
  describe("over HTTP", () => {
    it.effect("401 is an invalid key, 403 insufficient permissions; neither is retryable", () =>
      Effect.gen(function* () {
        const unauthorized = yield* failWith(FakeServer.status(401))
        expectReason(unauthorized, "AuthenticationError", false)
        assert.strictEqual(unauthorized.reason._tag === "AuthenticationError" && unauthorized.reason.kind, "InvalidKey")
        const forbidden = yield* failWith(FakeServer.status(403))
        assert.strictEqual(
          forbidden.reason._tag === "AuthenticationError" && forbidden.reason.kind,
          "InsufficientPermissions"
        )
      })
    )

    it.effect("404 is a model-not-found InvalidRequestError", () =>
      Effect.gen(function* () {
        const error = yield* failWith(FakeServer.status(404, { code: "model_not_found", message: "no such model" }))
        expectReason(error, "InvalidRequestError", false)
        assert.strictEqual(error.reason._tag === "InvalidRequestError" && error.reason.parameter, "model")
        assert.include(error.message, "no such model")
      })
    )

    it.effect("429 is a retryable RateLimitError carrying Retry-After seconds", () =>
      Effect.gen(function* () {
        const error = yield* failWith(FakeServer.status(429, { retryAfter: "12" }))
        expectReason(error, "RateLimitError", true)
        assert.strictEqual(Duration.toMillis(error.retryAfter!), 12_000)
      })
    )

    it.effect("429 with an HTTP-date Retry-After is measured against the Clock", () =>
      Effect.gen(function* () {
        // The test clock starts at the epoch, so this date is 30 s away.
        const error = yield* failWith(FakeServer.status(429, { retryAfter: "Thu, 01 Jan 1970 00:00:30 GMT" }))
        assert.strictEqual(Duration.toMillis(error.retryAfter!), 30_000)
      })
    )

    it.effect("429 insufficient_quota is a non-retryable QuotaExhaustedError", () =>
      Effect.gen(function* () {
        const error = yield* failWith(FakeServer.status(429, { code: "insufficient_quota" }))
        expectReason(error, "QuotaExhaustedError", false)
      })
    )

    it.effect("500 and 503 are retryable InternalProviderErrors", () =>
      Effect.gen(function* () {
        expectReason(yield* failWith(FakeServer.status(500)), "InternalProviderError", true)
        expectReason(yield* failWith(FakeServer.status(503)), "InternalProviderError", true)
      })
    )

    it.effect("400 context_length_exceeded keeps the constraint", () =>
      Effect.gen(function* () {
        const error = yield* failWith(
          FakeServer.status(400, {
            code: "context_length_exceeded",
            message: "This model's maximum context length is 8192 tokens."
          })
        )
        expectReason(error, "InvalidRequestError", false)
        assert.strictEqual(
          error.reason._tag === "InvalidRequestError" && error.reason.constraint,
          "context_length_exceeded"
        )
      })
    )

    it.live("a request slower than the timeout is a retryable NetworkError, and the request is aborted", () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ faults: [FakeServer.hang] })
        const model = yield* OpenAiLanguageModel.make({
          baseUrl: server.url,
          model: "m",
          retry: Retry.none,
          timeout: "150 millis"
        })
        const error = yield* Effect.flip(
          LanguageModel.generateText({ prompt: "x" }).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
        )
        expectReason(error, "NetworkError", true)
        assert.strictEqual(ProviderError.deadlineOf(error), "attempt")
        yield* server.waitFor((requests) => requests[0]?.state === "aborted")
      }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
    )

    it.effect("connection refused is a retryable NetworkError", () =>
      Effect.gen(function* () {
        // Start and stop a server to get a port nothing listens on.
        const url = yield* Effect.scoped(Effect.map(FakeOpenAi.make(), (server) => server.url))
        const model = yield* OpenAiLanguageModel.make({ baseUrl: url, model: "m", retry: Retry.none })
        const error = yield* Effect.flip(
          LanguageModel.generateText({ prompt: "x" }).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
        )
        expectReason(error, "NetworkError", true)
        assert.match(error.message, /ECONNREFUSED|TransportError/)
      }).pipe(Effect.provide(NodeHttpClient.layerUndici))
    )

    it.effect("a connection destroyed before the response is a retryable NetworkError", () =>
      Effect.gen(function* () {
        expectReason(yield* failWith(FakeServer.destroy), "NetworkError", true)
      })
    )
  })

  describe("pure mapping", () => {
    const site = { module: "M", method: "generateText" }
    const response = (status: number, body: string, headers: Record<string, string> = {}) =>
      ProviderError.fromResponse({
        ...site,
        url: "http://x/v1/chat",
        status,
        headers,
        body,
        nowMillis: 0,
        secrets: ["sk-secret-key"]
      })

    it("recognises context-length errors from each provider's wording", () => {
      const anthropic = JSON.stringify({
        type: "error",
        error: { type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" }
      })
      const gemini = JSON.stringify({
        error: {
          code: 400,
          message: "The input token count exceeds the maximum number of tokens allowed",
          status: "INVALID_ARGUMENT"
        }
      })
      for (const body of [anthropic, gemini]) {
        const error = response(400, body)
        assert.strictEqual(
          error.reason._tag === "InvalidRequestError" && error.reason.constraint,
          "context_length_exceeded"
        )
      }
      const plain = response(400, JSON.stringify({ error: { message: "temperature must be <= 2" } }))
      assert.strictEqual(plain.reason._tag === "InvalidRequestError" && plain.reason.constraint, undefined)
    })

    it("scrubs secrets from bodies and descriptions", () => {
      const error = response(401, JSON.stringify({ error: { message: "bad key sk-secret-key" } }))
      assert.notInclude(JSON.stringify(error), "sk-secret-key")
      assert.include(error.message, "[redacted]")
    })

    it("parses Retry-After as seconds or an HTTP date, ignoring junk", () => {
      assert.strictEqual(Duration.toMillis(ProviderError.parseRetryAfter("3", 0)!), 3000)
      assert.strictEqual(Duration.toMillis(ProviderError.parseRetryAfter("0.5", 0)!), 500)
      const now = Date.parse("2026-01-01T00:00:00Z")
      assert.strictEqual(
        Duration.toMillis(ProviderError.parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)!),
        10_000
      )
      assert.strictEqual(Duration.toMillis(ProviderError.parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)!), 0)
      assert.strictEqual(ProviderError.parseRetryAfter("soon", 0), undefined)
      assert.strictEqual(ProviderError.parseRetryAfter(undefined, 0), undefined)
    })

    it("maps unknown 4xx statuses to UnknownError and 408/409 to retryable errors", () => {
      assert.strictEqual(response(418, "").reason._tag, "UnknownError")
      assert.isTrue(response(408, "").isRetryable)
      assert.isTrue(response(409, "").isRetryable)
      assert.isTrue(response(529, "").isRetryable)
    })
  })

  describe("redact", () => {
    const key = "sk-redact-me-12345"
    const site = { module: "OpenAiLanguageModel", method: "generateText" }

    it("rebuilds the error with every string scrubbed, keeping reason, retryability and retryAfter", () => {
      const error = AiError.make({
        ...site,
        reason: new AiError.RateLimitError({
          retryAfter: Duration.seconds(3),
          metadata: { note: `echo ${key}` },
          http: { response: { status: 429, headers: { "x-request-id": key } }, body: `{"key":"${key}"}` }
        })
      })
      const redacted = ProviderError.redact(error, [key])
      assert.notInclude(JSON.stringify(redacted), key)
      assert.notInclude(String(redacted.stack), key)
      assert.strictEqual(redacted.reason._tag, "RateLimitError")
      assert.isTrue(redacted.isRetryable)
      assert.strictEqual(Duration.toMillis(redacted.retryAfter!), 3000)
      assert.include(JSON.stringify(redacted), "[redacted]")
      assert.isTrue(AiError.isAiError(redacted))
    })

    it("returns the same error when there is nothing to redact", () => {
      const error = ProviderError.malformedToolCall(site, "t", `{"a": "${key}`, [])
      assert.strictEqual(ProviderError.redact(error, []), error)
      const redacted = ProviderError.redact(error, [key])
      assert.strictEqual(redacted.reason._tag, "InvalidOutputError")
      assert.isTrue(redacted.isRetryable)
      assert.notInclude(redacted.message, key)
    })
  })
})
