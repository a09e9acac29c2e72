/**
 * The network edge against hostile and broken servers: ones that hang, drip forever, send far more than any answer,
 * or do not speak HTTP at all. Every adapter goes through `internal/http.ts`; each case runs against the adapter
 * whose wire format makes it reachable, and the streaming ones against all three.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, type Scope, Stream } from "effect"
import { type AiError, LanguageModel } from "effect/ai"
import type { HttpClient } from "effect/http"
import * as AnthropicLanguageModel from "../../src/AnthropicLanguageModel.ts"
import type * as Connection from "../../src/Connection.ts"
import * as GeminiLanguageModel from "../../src/GeminiLanguageModel.ts"
import * as OpenAiLanguageModel from "../../src/OpenAiLanguageModel.ts"
import * as ProviderError from "../../src/ProviderError.ts"
import * as Retry from "../../src/Retry.ts"
import * as FakeAnthropic from "../../src/testing/FakeAnthropic.ts"
import * as FakeGemini from "../../src/testing/FakeGemini.ts"
import * as FakeOpenAi from "../../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../../src/testing/FakeServer.ts"

type Connect = (
  baseUrl: string,
  connection: Partial<Connection.Options>
) => Effect.Effect<LanguageModel.LanguageModel, never, HttpClient.HttpClient>

interface Adapter {
  readonly name: string
  readonly start: (options: FakeServer.Options) => Effect.Effect<FakeServer.FakeServer, never, Scope.Scope>
  readonly connect: Connect
}

const adapters: ReadonlyArray<Adapter> = [
  {
    name: "openai",
    start: FakeOpenAi.make,
    connect: (baseUrl, c) => OpenAiLanguageModel.make({ baseUrl, model: "m", retry: Retry.none, ...c })
  },
  {
    name: "anthropic",
    start: FakeAnthropic.make,
    connect: (baseUrl, c) => AnthropicLanguageModel.make({ baseUrl, model: "m", retry: Retry.none, ...c })
  },
  {
    name: "gemini",
    start: FakeGemini.make,
    connect: (baseUrl, c) => GeminiLanguageModel.make({ baseUrl, model: "m", retry: Retry.none, ...c })
  }
]
const openai = adapters[0]!

// Runs `f` against a fresh fake server with the adapter connected to it.
const against = <A, E>(
  adapter: Adapter,
  options: FakeServer.Options,
  connection: Partial<Connection.Options>,
  f: (server: FakeServer.FakeServer) => Effect.Effect<A, E, LanguageModel.LanguageModel>
) =>
  Effect.gen(function* () {
    const server = yield* adapter.start(options)
    const model = yield* adapter.connect(server.url, connection)
    return yield* f(server).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

const generate = Effect.flip(LanguageModel.generateText({ prompt: "x" }))
const stream = Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))

const expectInvalid = (error: AiError.AiError, pattern: RegExp) => {
  assert.strictEqual(error.reason._tag, "InvalidResponseError")
  assert.isFalse(error.isRetryable)
  assert.match(error.message, pattern)
}

describe("the network edge", () => {
  describe("time", () => {
    it.live("a server that accepts and never answers fails at the overall deadline, retries included", () =>
      against(
        openai,
        { faults: () => FakeServer.hang },
        { timeout: "100 millis", deadline: "350 millis", retry: Retry.policy({ maxRetries: 100, base: "1 millis" }) },
        (server) =>
          Effect.gen(function* () {
            const error = yield* generate
            assert.strictEqual(ProviderError.deadlineOf(error), "overall")
            assert.strictEqual(error.reason._tag, "NetworkError")
            assert.match(error.message, /did not finish within 350ms, retries included/)
            // Each attempt ran into its own timeout and was retried before the deadline cut the call short.
            assert.isAtLeast(server.requests.length, 2)
            for (const request of server.requests) assert.strictEqual(yield* server.settled(request.index), "aborted")
          })
      )
    )

    for (const adapter of adapters) {
      it.live(`${adapter.name}: a stream with an event every 100 ms forever fails at the overall deadline`, () =>
        against(
          adapter,
          { faults: [FakeServer.drip(100)] },
          { timeout: "5 seconds", deadline: "450 millis" },
          (server) =>
            Effect.gen(function* () {
              const error = yield* stream
              assert.strictEqual(ProviderError.deadlineOf(error), "overall")
              assert.strictEqual(yield* server.settled(0), "aborted")
            })
        )
      )
    }

    it.live("without retries the shorter of the two limits ends the call, and says which it was", () =>
      Effect.gen(function* () {
        const attempt = yield* against(
          openai,
          { faults: [FakeServer.hang] },
          { timeout: "100 millis", deadline: "10 seconds" },
          () => generate
        )
        assert.strictEqual(ProviderError.deadlineOf(attempt), "attempt")
        const overall = yield* against(
          openai,
          { faults: [FakeServer.hang] },
          { timeout: "10 seconds", deadline: "100 millis" },
          () => generate
        )
        assert.strictEqual(ProviderError.deadlineOf(overall), "overall")
      })
    )

    it.live("with retries, a deadline shorter than the timeout ends the call at the deadline, not retried", () =>
      against(
        openai,
        { faults: () => FakeServer.hang },
        { timeout: "10 seconds", deadline: "150 millis", retry: Retry.policy({ maxRetries: 3, base: "1 millis" }) },
        (server) =>
          Effect.gen(function* () {
            const error = yield* generate
            assert.strictEqual(ProviderError.deadlineOf(error), "overall")
            assert.match(error.message, /did not finish within 150ms, retries included/)
            assert.strictEqual(server.requests.length, 1)
            assert.strictEqual(yield* server.settled(0), "aborted")
          })
      )
    )

    it.live("an attempt that times out is retried, and the answer of the retry is the call's", () =>
      against(
        openai,
        { turns: [{ text: "the answer" }], faults: [FakeServer.hang] },
        { timeout: "150 millis", deadline: "10 seconds", retry: Retry.policy({ maxRetries: 2, base: "1 millis" }) },
        (server) =>
          Effect.gen(function* () {
            const response = yield* LanguageModel.generateText({ prompt: "x" })
            assert.strictEqual(response.text, "the answer")
            assert.strictEqual(server.requests.length, 2)
            assert.strictEqual(yield* server.settled(0), "aborted")
          })
      )
    )

    it.live("a JSON body that drips forever fails at the per-attempt timeout", () =>
      against(openai, { faults: [FakeServer.drip(50)] }, { timeout: "300 millis" }, (server) =>
        Effect.gen(function* () {
          const error = yield* generate
          assert.strictEqual(ProviderError.deadlineOf(error), "attempt")
          assert.strictEqual(yield* server.settled(0), "aborted")
        })
      )
    )

    it("deadlineOf tells the three time limits apart, and nothing else", () => {
      const site = { module: "M", method: "generateText" }
      const after = ProviderError.timeout(site, "u", "silence", Duration.seconds(1))
      assert.strictEqual(ProviderError.deadlineOf(after), "silence")
      assert.strictEqual(ProviderError.deadlineOf(ProviderError.truncated(site, "u", "cut")), undefined)
      assert.strictEqual(
        ProviderError.deadlineOf(ProviderError.invalidResponse(site, "timed out (overall)")),
        undefined
      )
    })
  })

  describe("size", () => {
    it.live("a JSON body over the limit fails as too large and its request is aborted, declared or not", () =>
      against(
        openai,
        { faults: [FakeServer.huge(50_000_000), FakeServer.huge(50_000_000, { declared: true })] },
        { maxBodyBytes: 1_000_000 },
        (server) =>
          Effect.gen(function* () {
            const streamed = yield* generate
            expectInvalid(streamed, /response body exceeds the limit of 1000000 bytes/)
            const declared = yield* generate
            expectInvalid(declared, /50000000 bytes declared/)
            assert.strictEqual(yield* server.settled(0), "aborted")
            assert.strictEqual(yield* server.settled(1), "aborted")
          })
      )
    )

    it.live("a body within the limit is read whole, declared or not", () =>
      against(openai, { turns: [{ text: "y".repeat(200_000) }] }, { maxBodyBytes: 1_000_000 }, () =>
        Effect.map(LanguageModel.generateText({ prompt: "x" }), (response) =>
          assert.strictEqual(response.text.length, 200_000)
        )
      )
    )

    for (const adapter of adapters) {
      it.live(`${adapter.name}: one event over its limit, or a stream over its total, fails as too large`, () =>
        against(
          adapter,
          { faults: [FakeServer.huge(50_000_000, { events: "one" }), FakeServer.huge(50_000_000, { events: "many" })] },
          { maxEventBytes: 100_000, maxStreamBytes: 1_000_000 },
          (server) =>
            Effect.gen(function* () {
              expectInvalid(yield* stream, /one server-sent event exceeds the limit of 100000 bytes/)
              expectInvalid(yield* stream, /the event stream exceeds the limit of 1000000 bytes/)
              assert.strictEqual(yield* server.settled(0), "aborted")
              assert.strictEqual(yield* server.settled(1), "aborted")
            })
        )
      )
    }

    it.live("an error body is read only as far as the error keeps it", () =>
      against(
        openai,
        { faults: [FakeServer.status(500, { body: `{"error":{"message":"${"e".repeat(50_000_000)}"}}` })] },
        {},
        (server) =>
          Effect.gen(function* () {
            const error = yield* generate
            assert.strictEqual(error.reason._tag, "InternalProviderError")
            const body = (error.reason as AiError.InternalProviderError).http?.body ?? ""
            assert.isAtMost(body.length, ProviderError.keptBodyLength + 1)
            assert.strictEqual(yield* server.settled(0), "aborted")
          })
      )
    )
  })

  describe("garbage", () => {
    it.effect("a reply that is not HTTP is a bad response, not an unreachable server", () =>
      against(openai, { faults: [FakeServer.garbage()] }, {}, () =>
        Effect.map(generate, (error) => expectInvalid(error, /is not HTTP/))
      )
    )

    it.effect("HTML where JSON was expected is a bad response naming its content type", () =>
      against(
        openai,
        { faults: [FakeServer.body("<html><body>502 Bad Gateway</body></html>", { contentType: "text/html" })] },
        {},
        () =>
          Effect.map(generate, (error) => expectInvalid(error, /not JSON \(text\/html\): <html><body>502 Bad Gateway/))
      )
    )

    for (const adapter of adapters) {
      it.effect(`${adapter.name}: an "event stream" that holds no event is a bad response, not a broken stream`, () =>
        against(
          adapter,
          {
            faults: [
              FakeServer.body("<html><h1>Service Unavailable</h1></html>\n", { contentType: "text/event-stream" })
            ]
          },
          {},
          () => Effect.map(stream, (error) => expectInvalid(error, /held no event: <html><h1>Service Unavailable/))
        )
      )

      it.effect(`${adapter.name}: a JSON or HTML document where a stream was expected is a bad response`, () =>
        against(
          adapter,
          {
            faults: [
              FakeServer.body('{"id":"x","choices":[]}', { contentType: "application/json" }),
              FakeServer.body("<html>maintenance</html>", { contentType: "text/html; charset=utf-8" })
            ]
          },
          {},
          () =>
            Effect.gen(function* () {
              expectInvalid(yield* stream, /expected an event stream, got application\/json: \{"id":"x"/)
              expectInvalid(yield* stream, /expected an event stream, got text\/html; charset=utf-8: <html>maintenance/)
            })
        )
      )
    }
  })
})
