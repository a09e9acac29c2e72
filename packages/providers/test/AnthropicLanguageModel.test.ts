import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Redacted, Schema, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import * as AnthropicLanguageModel from "../src/AnthropicLanguageModel.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeAnthropic from "../src/testing/FakeAnthropic.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"
import { body, modelOn, Weather, WeatherHandlers } from "./support.ts"

const withModel = modelOn(FakeAnthropic.make, (baseUrl) =>
  AnthropicLanguageModel.make({
    baseUrl,
    apiKey: Redacted.make("sk-ant-test-key"),
    model: "claude-test",
    retry: Retry.none
  })
)

describe("AnthropicLanguageModel", () => {
  it.effect("generates text with the Messages API headers, usage and stop reason", () =>
    withModel({ turns: [{ text: "Bonjour", usage: { input: 9, output: 2 } }] }, (server) =>
      Effect.gen(function* () {
        const response = yield* LanguageModel.generateText({ prompt: "Hi" })
        assert.strictEqual(response.text, "Bonjour")
        assert.strictEqual(response.finishReason, "stop")
        assert.strictEqual(response.usage.inputTokens.total, 9)
        assert.strictEqual(response.usage.outputTokens.total, 2)
        const request = server.requests[0]!
        assert.strictEqual(request.path, "/v1/messages")
        assert.strictEqual(request.headers["x-api-key"], "sk-ant-test-key")
        assert.strictEqual(request.headers["anthropic-version"], "2023-06-01")
        assert.strictEqual(body(server).max_tokens, 4096)
        assert.deepStrictEqual(body(server).messages, [{ role: "user", content: [{ type: "text", text: "Hi" }] }])
      })
    )
  )

  it.effect("puts system messages in `system` and keeps turns alternating", () =>
    withModel({}, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({
          prompt: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "One" },
            { role: "user", content: "Two" },
            { role: "assistant", content: "Three" },
            { role: "user", content: "Four" }
          ]
        })
        assert.strictEqual(body(server).system, "Be brief.")
        assert.deepStrictEqual(body(server).messages, [
          {
            role: "user",
            content: [
              { type: "text", text: "One" },
              { type: "text", text: "Two" }
            ]
          },
          { role: "assistant", content: [{ type: "text", text: "Three" }] },
          { role: "user", content: [{ type: "text", text: "Four" }] }
        ])
      })
    )
  )

  it.effect("calls tools in parallel with tool_use blocks", () =>
    withModel(
      {
        turns: [
          {
            toolCalls: [
              { id: "toolu_1", name: "get_weather", arguments: { city: "Paris" } },
              { id: "toolu_2", name: "get_weather", arguments: { city: "Rome" } }
            ]
          }
        ]
      },
      (server) =>
        Effect.gen(function* () {
          const response = yield* LanguageModel.generateText({ prompt: "Weather?", toolkit: Weather })
          assert.strictEqual(response.finishReason, "tool-calls")
          assert.deepStrictEqual(
            response.toolResults.map((r) => [r.id, r.result]),
            [
              ["toolu_1", "sunny in Paris"],
              ["toolu_2", "sunny in Rome"]
            ]
          )
          assert.strictEqual(body(server).tools[0].name, "get_weather")
          assert.deepStrictEqual(body(server).tools[0].input_schema.required, ["city"])
          assert.deepStrictEqual(body(server).tool_choice, { type: "auto" })
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("sends tool_use and tool_result blocks back", () =>
    withModel({ turns: [{ text: "Sunny." }] }, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({
          prompt: [
            { role: "user", content: "Weather?" },
            {
              role: "assistant",
              content: [{ type: "tool-call", id: "toolu_9", name: "get_weather", params: { city: "Oslo" } }]
            },
            {
              role: "tool",
              content: [{ type: "tool-result", id: "toolu_9", name: "get_weather", isFailure: true, result: "no data" }]
            }
          ]
        })
        const messages = body(server).messages
        assert.deepStrictEqual(messages[1], {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_9", name: "get_weather", input: { city: "Oslo" } }]
        })
        assert.deepStrictEqual(messages[2], {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_9", content: "no data", is_error: true }]
        })
      })
    )
  )

  it.effect("produces structured output through a forced tool", () =>
    withModel({ turns: [{ toolCalls: [{ name: "person", arguments: { name: "Ada", age: 36 } }] }] }, (server) =>
      Effect.gen(function* () {
        const Person = Schema.Struct({ name: Schema.String, age: Schema.Int })
        const response = yield* LanguageModel.generateObject({ prompt: "Who?", schema: Person, objectName: "person" })
        assert.deepStrictEqual(response.value, { name: "Ada", age: 36 })
        assert.deepStrictEqual(body(server).tool_choice, { type: "tool", name: "person" })
        assert.strictEqual(response.finishReason, "stop")
      })
    )
  )

  it.effect("streams text, thinking and tool-call input_json_delta", () =>
    withModel(
      {
        turns: [
          {
            text: "Let me check",
            reasoning: "need weather",
            toolCalls: [{ id: "toolu_s", name: "get_weather", arguments: { city: "Buenos Aires" } }],
            usage: { input: 20, output: 11 }
          }
        ]
      },
      () =>
        Effect.gen(function* () {
          const parts = yield* Stream.runCollect(
            LanguageModel.streamText({ prompt: "Weather?", toolkit: Weather, disableToolCallResolution: true })
          )
          assert.strictEqual(parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""), "Let me check")
          assert.strictEqual(
            parts.flatMap((p) => (p.type === "reasoning-delta" ? [p.delta] : [])).join(""),
            "need weather"
          )
          const call = parts.find((p) => p.type === "tool-call")
          assert.deepStrictEqual(call?.type === "tool-call" && call.params, { city: "Buenos Aires" })
          const finish = parts.find((p) => p.type === "finish")
          assert.strictEqual(finish?.type === "finish" && finish.reason, "tool-calls")
          assert.strictEqual(finish?.type === "finish" && finish.usage.outputTokens.total, 11)
          assert.strictEqual(finish?.type === "finish" && finish.usage.inputTokens.total, 20)
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("maps stop_reason refusal to ContentPolicyError, in both modes", () =>
    withModel({ turns: [{ text: "", finish: "refusal" }] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(error.reason._tag, "ContentPolicyError")
        const streamed = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
        assert.strictEqual(streamed.reason._tag, "ContentPolicyError")
      })
    )
  )

  it.effect("fails a stream without message_stop as truncated", () =>
    withModel({ faults: [FakeServer.truncate] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
        assert.strictEqual(error.reason._tag, "NetworkError")
        assert.isTrue(error.isRetryable)
        assert.match(error.message, /message_stop/)
      })
    )
  )

  it.effect("fails malformed streamed tool input with InvalidOutputError", () =>
    withModel(
      {
        faults: [FakeServer.malformedToolArguments],
        turns: [{ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }]
      },
      () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(
            Stream.runCollect(
              LanguageModel.streamText({ prompt: "x", toolkit: Weather, disableToolCallResolution: true })
            )
          )
          assert.strictEqual(error.reason._tag, "InvalidOutputError")
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("maps Anthropic error bodies: 529 overloaded is retryable, 401 is not", () =>
    withModel({ faults: [FakeServer.status(529), FakeServer.status(401)] }, () =>
      Effect.gen(function* () {
        const overloaded = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(overloaded.reason._tag, "InternalProviderError")
        assert.isTrue(overloaded.isRetryable)
        const auth = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(auth.reason._tag, "AuthenticationError")
        assert.isFalse(auth.isRetryable)
      })
    )
  )

  it.effect("maps required and none tool choices to any and none", () =>
    withModel(
      { turns: [{ toolCalls: [{ name: "get_weather", arguments: { city: "Bern" } }] }, { text: "ok" }] },
      (server) =>
        Effect.gen(function* () {
          yield* LanguageModel.generateText({ prompt: "x", toolkit: Weather, toolChoice: "required" })
          yield* LanguageModel.generateText({ prompt: "x", toolkit: Weather, toolChoice: "none" })
          assert.deepStrictEqual(body(server, 0).tool_choice, { type: "any" })
          assert.deepStrictEqual(body(server, 1).tool_choice, { type: "none" })
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("interrupting a stream aborts its request", () =>
    withModel({ latency: { fixedMs: 60_000 } }, (server) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
        yield* server.waitFor((requests) => requests.length === 1)
        assert.strictEqual(server.requests[0]!.state, "open")
        yield* Fiber.interrupt(fiber)
        assert.strictEqual(yield* server.settled(0), "aborted")
      })
    )
  )

  it.effect("keeps the key out of errors even when the server echoes it", () =>
    withModel({ faults: [FakeServer.status(401, { message: "invalid x-api-key sk-ant-test-key" })] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(error.reason._tag, "AuthenticationError")
        assert.notInclude(JSON.stringify(error), "sk-ant-test-key")
        assert.notInclude(error.message, "sk-ant-test-key")
      })
    )
  )

  describe("keeps an echoed API key out of every error", () => {
    const key = "sk-ant-test-key"
    const assertScrubbed = (error: { readonly message: string; readonly stack?: string | undefined }) => {
      assert.notInclude(error.message, key)
      assert.notInclude(JSON.stringify(error), key)
      assert.notInclude(String(error.stack), key)
      assert.include(error.message, "[redacted]")
    }
    const stream = () => Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
    const errorEvent = (type: string) =>
      FakeServer.body(
        `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message: `bad key ${key}` } })}\n\n`
      )

    it.effect("in stream error events, fatal and retryable", () =>
      withModel({ faults: [errorEvent("invalid_request_error"), errorEvent("overloaded_error")] }, () =>
        Effect.gen(function* () {
          const fatal = yield* stream()
          assert.strictEqual(fatal.reason._tag, "InvalidResponseError")
          assertScrubbed(fatal)
          const overloaded = yield* stream()
          assert.strictEqual(overloaded.reason._tag, "NetworkError")
          assertScrubbed(overloaded)
        })
      )
    )

    it.effect("in a malformed stream event and a non-JSON 200 body", () =>
      withModel(
        {
          faults: [
            FakeServer.body(`event: message_start\ndata: {"echo": ${key}\n\n`),
            FakeServer.body(`not json ${key}`)
          ]
        },
        () =>
          Effect.gen(function* () {
            const streamed = yield* stream()
            assert.strictEqual(streamed.reason._tag, "InvalidResponseError")
            assertScrubbed(streamed)
            const generated = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
            assert.strictEqual(generated.reason._tag, "InvalidResponseError")
            assertScrubbed(generated)
          })
      )
    )

    it.effect("in malformed streamed tool input", () =>
      withModel({ turns: [{ toolCalls: [{ name: "get_weather", arguments: `{"city": "${key}` }] }] }, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(
            Stream.runCollect(
              LanguageModel.streamText({ prompt: "x", toolkit: Weather, disableToolCallResolution: true })
            )
          )
          assert.strictEqual(error.reason._tag, "InvalidOutputError")
          assertScrubbed(error)
        }).pipe(Effect.provide(WeatherHandlers))
      )
    )
  })
})
