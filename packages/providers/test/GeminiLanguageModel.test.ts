import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Redacted, Schema, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import * as GeminiLanguageModel from "../src/GeminiLanguageModel.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeGemini from "../src/testing/FakeGemini.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"
import { body, modelOn, Weather, WeatherHandlers } from "./support.ts"

const withModel = modelOn(FakeGemini.make, (baseUrl) =>
  GeminiLanguageModel.make({
    baseUrl,
    apiKey: Redacted.make("gemini-test-key"),
    model: "gemini-test",
    retry: Retry.none
  })
)

describe("GeminiLanguageModel", () => {
  it.effect("generates text with usage metadata and the key header", () =>
    withModel({ turns: [{ text: "Hallo", usage: { input: 4, output: 1 } }] }, (server) =>
      Effect.gen(function* () {
        const response = yield* LanguageModel.generateText({
          prompt: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "Hi" }
          ]
        })
        assert.strictEqual(response.text, "Hallo")
        assert.strictEqual(response.finishReason, "stop")
        assert.strictEqual(response.usage.inputTokens.total, 4)
        assert.strictEqual(response.usage.outputTokens.total, 1)
        const request = server.requests[0]!
        assert.strictEqual(request.path, "/v1beta/models/gemini-test:generateContent")
        assert.strictEqual(request.headers["x-goog-api-key"], "gemini-test-key")
        assert.deepStrictEqual(body(server).systemInstruction, { parts: [{ text: "Be brief." }] })
        assert.deepStrictEqual(body(server).contents, [{ role: "user", parts: [{ text: "Hi" }] }])
      })
    )
  )

  it.effect("calls functions in parallel and generates missing call ids", () =>
    withModel(
      {
        turns: [
          {
            toolCalls: [
              { name: "get_weather", arguments: { city: "Paris" } },
              { name: "get_weather", arguments: { city: "Rome" } }
            ]
          }
        ]
      },
      (server) =>
        Effect.gen(function* () {
          const response = yield* LanguageModel.generateText({ prompt: "Weather?", toolkit: Weather })
          assert.strictEqual(response.finishReason, "tool-calls")
          assert.deepStrictEqual(
            response.toolResults.map((r) => r.result),
            ["sunny in Paris", "sunny in Rome"]
          )
          assert.strictEqual(new Set(response.toolCalls.map((c) => c.id)).size, 2)
          const declarations = body(server).tools[0].functionDeclarations
          assert.strictEqual(declarations[0].name, "get_weather")
          assert.deepStrictEqual(declarations[0].parametersJsonSchema.required, ["city"])
          assert.deepStrictEqual(body(server).toolConfig, { functionCallingConfig: { mode: "AUTO" } })
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("sends functionCall and functionResponse parts back", () =>
    withModel({ turns: [{ text: "Sunny." }] }, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({
          prompt: [
            { role: "user", content: "Weather?" },
            {
              role: "assistant",
              content: [{ type: "tool-call", id: "c1", name: "get_weather", params: { city: "Oslo" } }]
            },
            {
              role: "tool",
              content: [{ type: "tool-result", id: "c1", name: "get_weather", isFailure: false, result: "sunny" }]
            }
          ]
        })
        const contents = body(server).contents
        assert.deepStrictEqual(contents[1], {
          role: "model",
          parts: [{ functionCall: { id: "c1", name: "get_weather", args: { city: "Oslo" } } }]
        })
        assert.deepStrictEqual(contents[2], {
          role: "user",
          parts: [{ functionResponse: { id: "c1", name: "get_weather", response: { result: "sunny" } } }]
        })
      })
    )
  )

  it.effect("produces structured output with responseJsonSchema", () =>
    withModel({ turns: [{ text: JSON.stringify({ name: "Ada", age: 36 }) }] }, (server) =>
      Effect.gen(function* () {
        const Person = Schema.Struct({ name: Schema.String, age: Schema.Int })
        const response = yield* LanguageModel.generateObject({ prompt: "Who?", schema: Person })
        assert.deepStrictEqual(response.value, { name: "Ada", age: 36 })
        assert.strictEqual(body(server).generationConfig.responseMimeType, "application/json")
        assert.deepStrictEqual(body(server).generationConfig.responseJsonSchema.required, ["name", "age"])
      })
    )
  )

  it.effect("streams text, thoughts and function calls", () =>
    withModel(
      {
        turns: [
          {
            text: "Checking the weather",
            reasoning: "think",
            toolCalls: [{ id: "g1", name: "get_weather", arguments: { city: "Lima" } }],
            usage: { input: 3, output: 8 }
          }
        ]
      },
      (server) =>
        Effect.gen(function* () {
          const parts = yield* Stream.runCollect(
            LanguageModel.streamText({ prompt: "x", toolkit: Weather, disableToolCallResolution: true })
          )
          assert.strictEqual(
            parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""),
            "Checking the weather"
          )
          assert.strictEqual(parts.flatMap((p) => (p.type === "reasoning-delta" ? [p.delta] : [])).join(""), "think")
          const call = parts.find((p) => p.type === "tool-call")
          assert.deepStrictEqual(call?.type === "tool-call" && [call.id, call.params], ["g1", { city: "Lima" }])
          const finish = parts.find((p) => p.type === "finish")
          assert.strictEqual(finish?.type === "finish" && finish.reason, "tool-calls")
          assert.strictEqual(finish?.type === "finish" && finish.usage.outputTokens.total, 8)
          assert.strictEqual(server.requests[0]!.path, "/v1beta/models/gemini-test:streamGenerateContent?alt=sse")
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("maps SAFETY to ContentPolicyError and MAX_TOKENS to length", () =>
    withModel(
      {
        turns: [
          { text: "", finish: "content-filter" },
          { text: "cut", finish: "length" }
        ]
      },
      () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
          assert.strictEqual(error.reason._tag, "ContentPolicyError")
          const response = yield* LanguageModel.generateText({ prompt: "x" })
          assert.strictEqual(response.finishReason, "length")
        })
    )
  )

  it.effect("fails a stream without a finishReason chunk as truncated", () =>
    withModel({ faults: [FakeServer.truncate], turns: [{ text: "a long enough text" }] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
        assert.strictEqual(error.reason._tag, "NetworkError")
        assert.match(error.message, /finishReason/)
      })
    )
  )

  it.effect("maps MALFORMED_FUNCTION_CALL to InvalidOutputError and Google 429 to RateLimitError", () =>
    withModel({ faults: [FakeServer.malformedToolArguments, FakeServer.status(429, { retryAfter: "7" })] }, () =>
      Effect.gen(function* () {
        const malformed = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(malformed.reason._tag, "InvalidOutputError")
        const limited = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(limited.reason._tag, "RateLimitError")
        assert.strictEqual(limited.retryAfter && Duration.toMillis(limited.retryAfter), 7000)
      })
    )
  )

  it.effect("maps required and forced tool choices onto functionCallingConfig", () =>
    withModel({ turns: [{ toolCalls: [{ name: "get_weather", arguments: { city: "Bern" } }] }] }, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({ prompt: "x", toolkit: Weather, toolChoice: "required" })
        yield* LanguageModel.generateText({ prompt: "x", toolkit: Weather, toolChoice: { tool: "get_weather" } })
        assert.deepStrictEqual(body(server, 0).toolConfig, { functionCallingConfig: { mode: "ANY" } })
        assert.deepStrictEqual(body(server, 1).toolConfig, {
          functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] }
        })
      }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("interrupting a call aborts its request", () =>
    withModel({ faults: [FakeServer.hang] }, (server) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(LanguageModel.generateText({ prompt: "x" }))
        yield* server.waitFor((requests) => requests.length === 1)
        assert.strictEqual(server.requests[0]!.state, "open")
        yield* Fiber.interrupt(fiber)
        assert.strictEqual(yield* server.settled(0), "aborted")
      })
    )
  )

  it.effect("keeps the key out of errors even when the server echoes it", () =>
    withModel({ faults: [FakeServer.status(400, { message: "API key not valid: gemini-test-key" })] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(error.reason._tag, "InvalidRequestError")
        assert.notInclude(JSON.stringify(error), "gemini-test-key")
        assert.notInclude(error.message, "gemini-test-key")
      })
    )
  )

  describe("keeps an echoed API key out of every error", () => {
    const key = "gemini-test-key"
    const assertScrubbed = (error: { readonly message: string; readonly stack?: string | undefined }) => {
      assert.notInclude(error.message, key)
      assert.notInclude(JSON.stringify(error), key)
      assert.notInclude(String(error.stack), key)
      assert.include(error.message, "[redacted]")
    }

    it.effect("in a non-JSON 200 body and a malformed stream event", () =>
      withModel(
        { faults: [FakeServer.body(`<html>${key}</html>`), FakeServer.body(`data: {"echo": ${key}\n\n`)] },
        () =>
          Effect.gen(function* () {
            const generated = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
            assert.strictEqual(generated.reason._tag, "InvalidResponseError")
            assertScrubbed(generated)
            const streamed = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
            assert.strictEqual(streamed.reason._tag, "InvalidResponseError")
            assertScrubbed(streamed)
          })
      )
    )
  })
})
