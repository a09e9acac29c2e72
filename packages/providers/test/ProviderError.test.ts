import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted, Schema, Stream } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import * as OpenAiLanguageModel from "../src/OpenAiLanguageModel.ts"
import * as ProviderError from "../src/ProviderError.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeOpenAi from "../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"
import { hasControls } from "./support.ts"

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
        assert.strictEqual(yield* server.settled(0), "aborted")
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

    it("scrubs secrets from the URL, the kept headers and the metadata too", () => {
      const error = ProviderError.fromResponse({
        ...site,
        url: "http://x/v1/chat?key=sk-secret-key",
        status: 500,
        headers: { "x-request-id": "req sk-secret-key", "retry-after": "\u001b[2J3" },
        body: JSON.stringify({ error: { message: "m", code: "sk-secret-key", type: "t sk-secret-key" } }),
        nowMillis: 0,
        secrets: ["sk-secret-key"]
      })
      assert.notInclude(JSON.stringify(error), "sk-secret-key")
      assert.notInclude(error.message, "sk-secret-key")
      assert.include(error.message, "http://x/v1/chat?key=[redacted]")
      const reason = error.reason as AiError.InternalProviderError
      assert.deepStrictEqual(reason.http?.response?.headers, { "retry-after": "3", "x-request-id": "req [redacted]" })
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

  describe("secrets", () => {
    // 34 characters, none of whose four-character pieces occur in ordinary error text.
    const key = "sk-Qz7Wq9Xv2Kp4Lm8Nr3Ts6Yb1Hd5Jf0G"
    const fourGrams = Array.from({ length: key.length - 3 }, (_, i) => key.slice(i, i + 4))
    // No piece of the key, however short, is left anywhere in `text`.
    const assertNoPiece = (text: string, context = "") => {
      const found = fourGrams.find((piece) => text.includes(piece))
      assert.isUndefined(found, `a piece of the key (${found}) survived ${context}: ${text.slice(0, 300)}`)
    }

    it("scrub redacts every occurrence, wherever it is", () => {
      for (const text of [
        `${key}`,
        `${key} at the start`,
        `at the end ${key}`,
        `one ${key} two ${key} three ${key}`,
        `${key}${key}`,
        `"${key}","${key}"`,
        `line\n${key}\n${key}`
      ]) {
        const out = ProviderError.scrub(text, [key])
        assertNoPiece(out, JSON.stringify(text))
        assert.include(out, "[redacted]")
      }
      assert.strictEqual(ProviderError.scrub(`a ${key} b ${key} c`, [key]), "a [redacted] b [redacted] c")
      // Copies side by side are one redacted run.
      assert.strictEqual(ProviderError.scrub(`(${key}${key})`, [key]), "([redacted])")
    })

    it("scrub redacts any run of 8 or more characters of a secret, not shorter ones", () => {
      assert.strictEqual(ProviderError.scrub(`x${key.slice(3, 11)}y`, [key]), "x[redacted]y")
      assert.strictEqual(
        ProviderError.scrub(`x${key.slice(0, 20)}|${key.slice(20)}y`, [key]),
        "x[redacted]|[redacted]y"
      )
      assert.strictEqual(ProviderError.scrub(`x${key.slice(3, 10)}y`, [key]), `x${key.slice(3, 10)}y`)
    })

    it("scrub replaces a short secret only whole, and ignores secrets under 4 characters", () => {
      assert.strictEqual(
        ProviderError.scrub("pw abcd, abcdabcd, abc", ["abcd"]),
        "pw [redacted], [redacted][redacted], abc"
      )
      assert.strictEqual(ProviderError.scrub("abc abc", ["abc"]), "abc abc")
      assert.strictEqual(
        ProviderError.scrub("user bob-the-user pass", ["bob-the-user", "pass"]),
        "user [redacted] [redacted]"
      )
    })

    it("trimSecretPrefix drops an ending that starts a secret, of any length", () => {
      for (let n = 1; n < key.length; n++) {
        assert.strictEqual(ProviderError.trimSecretPrefix(`body ${key.slice(0, n)}`, [key]), "body ")
      }
      assert.strictEqual(ProviderError.trimSecretPrefix("body ends here", [key]), "body ends here")
      // With several secrets, the longest ending that starts any of them goes.
      assert.strictEqual(ProviderError.trimSecretPrefix("x abcdefgh", ["abcdefgh-one", "gh-two-secret"]), "x ")
      assert.strictEqual(ProviderError.trimSecretPrefix("x abcdefgh", ["gh-two-secret", "abcdefgh-one"]), "x ")
      assert.strictEqual(
        ProviderError.trimSecretPrefix(`ends with ${key.slice(1, 6)}`, [key]),
        `ends with ${key.slice(1, 6)}`
      )
    })

    it("quote strips controls before redacting: an escape cannot split a key past the redaction", () => {
      const split = `${key.slice(0, 10)}\u001b[0m${key.slice(10)}`
      assert.strictEqual(ProviderError.quote(`key ${split}!`, [key]), "key [redacted]!")
    })

    it("quote redacts before cutting: a key straddling the cut leaves nothing, at any offset", () => {
      for (let at = 150; at <= 205; at++) {
        const quoted = ProviderError.quote(`${".".repeat(at)}${key}${".".repeat(30)}`, [key], 200)
        assertNoPiece(quoted, `at ${at}`)
        assert.isAtMost(quoted.length, 201)
      }
    })

    it("quote cuts a key prefix the text itself ends with at the cut", () => {
      const text = `${".".repeat(195)}${key.slice(0, 5)}${".".repeat(50)}`
      assert.strictEqual(ProviderError.quote(text, [key], 200), `${".".repeat(195)}…`)
    })

    it("redact strips terminal controls from every string, with or without secrets", () => {
      const error = ProviderError.invalidResponse(
        { module: "M", method: "generateText" },
        "bad \u001b]8;;http://evil\u0007link\u001b]8;;\u0007 \u001b[2J"
      )
      const clean = ProviderError.redact(error, [])
      assert.strictEqual((clean.reason as AiError.InvalidResponseError).description, "bad link ")
      assert.notInclude(JSON.stringify(clean), "\\u001b")
      assert.isFalse(hasControls(clean.message))
    })
  })

  describe("echoed keys over HTTP", () => {
    const key = "sk-Qz7Wq9Xv2Kp4Lm8Nr3Ts6Yb1Hd5Jf0G"
    const fourGrams = Array.from({ length: key.length - 3 }, (_, i) => key.slice(i, i + 4))
    const printed = (error: AiError.AiError) => `${error.message}\n${JSON.stringify(error)}\n${String(error.stack)}`
    const assertNoPiece = (error: AiError.AiError, context: string) => {
      const text = printed(error)
      const found = fourGrams.find((piece) => text.includes(piece))
      assert.isUndefined(found, `a piece of the key (${found}) survived ${context}`)
    }
    // A fake server whose i-th reply is `faults[i]`, and the adapter under test with the key.
    const each = <A>(
      faults: ReadonlyArray<FakeServer.Fault>,
      f: (error: AiError.AiError, i: number) => A,
      stream = false
    ) =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ faults })
        const model = yield* OpenAiLanguageModel.make({
          baseUrl: server.url,
          model: "m",
          apiKey: Redacted.make(key),
          retry: Retry.none
        })
        const call = Effect.flip(
          stream
            ? Effect.asVoid(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
            : Effect.asVoid(LanguageModel.generateText({ prompt: "x" }))
        )
        for (let i = 0; i < faults.length; i++) {
          f(yield* call.pipe(Effect.provideService(LanguageModel.LanguageModel, model)), i)
        }
      }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
    const around = (cut: number) => Array.from({ length: key.length + 8 }, (_, i) => cut - key.length - 4 + i)

    it.effect("a key several times in one error body is redacted every time", () =>
      each(
        [
          FakeServer.status(401, { message: `${key} is not valid; ${key} was sent; see ${key}` }),
          FakeServer.status(401, { message: `${key}${key}` })
        ],
        (error, i) => {
          assert.strictEqual(error.reason._tag, "AuthenticationError")
          assertNoPiece(error, `reply ${i}`)
          assert.include(error.message, "[redacted]")
        }
      )
    )

    it.effect("a key echoed at every offset around the 200-character cut of a body that is not JSON", () => {
      const offsets = around(200 - "response body is not JSON (application/json): ".length + 46)
      return each(
        offsets.map((at) => FakeServer.body(`${"<".repeat(at)}${key}${">".repeat(40)}`)),
        (error, i) => assertNoPiece(error, `at offset ${offsets[i]}`)
      )
    })

    it.effect("a key echoed at every offset around the cuts of an error's message (500) and kept body (2000)", () => {
      const offsets = [...around(500), ...around(2000 - '{"error":{"message":"'.length)]
      return each(
        offsets.map((at) => FakeServer.status(500, { message: `${".".repeat(at)}${key}${".".repeat(40)}` })),
        (error, i) => {
          assert.strictEqual(error.reason._tag, "InternalProviderError")
          assertNoPiece(error, `at offset ${offsets[i]}`)
        }
      )
    })

    it.effect("a key straddling the end of what is read of an error body, after keys that shrink when redacted", () => {
      // 240 copies of the key shrink to one marker, pulling the end of the read (8 KiB) into the kept 2000 characters.
      const offsets = around(8192)
      return each(
        offsets.map((at) => {
          const head = `{"error":{"message":"${key.repeat(240)}`
          return FakeServer.status(500, {
            body: `${head}${".".repeat(Math.max(0, at - head.length))}${key}${".".repeat(100)}"}}`
          })
        }),
        (error, i) => assertNoPiece(error, `at offset ${offsets[i]}`)
      )
    })

    it.effect("a key echoed at every offset around the cut of a stream event that is not JSON", () => {
      const offsets = around(200 - "stream event is not JSON: ".length + 26)
      return each(
        offsets.map((at) => FakeServer.body(`data: ${"{".repeat(at)}${key}${"}".repeat(40)}\n\n`)),
        (error, i) => assertNoPiece(error, `at offset ${offsets[i]}`),
        true
      )
    })

    it.effect(
      "errors LanguageModel raises itself after the adapter returned (an answer off the schema) are redacted",
      () =>
        Effect.gen(function* () {
          const server = yield* FakeOpenAi.make({ turns: [{ text: `not JSON: ${key}` }] })
          const model = yield* OpenAiLanguageModel.make({
            baseUrl: server.url,
            model: "m",
            apiKey: Redacted.make(key),
            retry: Retry.none
          })
          const error = yield* Effect.flip(
            LanguageModel.generateObject({ prompt: "x", schema: Schema.Struct({ a: Schema.Finite }) }).pipe(
              Effect.provideService(LanguageModel.LanguageModel, model)
            )
          )
          assert.strictEqual(error.module, "LanguageModel")
          assert.strictEqual(error.reason._tag, "StructuredOutputError")
          assertNoPiece(error, "in LanguageModel's own error")
          assert.include(JSON.stringify(error), "[redacted]")
        }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
    )

    it.effect("terminal escapes in a server's error message never reach the error", () =>
      each(
        [FakeServer.status(400, { message: "bad \u001b]52;c;ZXZpbA==\u0007request\u001b[2J\u009b1m now" })],
        (error) => {
          assert.include(error.message, "bad request now")
          assert.isFalse(hasControls(printed(error)))
        }
      )
    )
  })
})
