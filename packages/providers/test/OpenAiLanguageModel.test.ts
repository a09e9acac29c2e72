import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Redacted, Result, Schema, Stream } from "effect"
import { type AiError, LanguageModel } from "effect/ai"
import * as OpenAiLanguageModel from "../src/OpenAiLanguageModel.ts"
import * as ProviderError from "../src/ProviderError.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeOpenAi from "../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"
import { body, modelOn, Weather, WeatherHandlers } from "./support.ts"

const withModel = modelOn(FakeOpenAi.make, (baseUrl, extra: Partial<OpenAiLanguageModel.Options> = {}) =>
  OpenAiLanguageModel.make({ baseUrl, model: "gpt-test", retry: Retry.none, ...extra })
)

const reasonOf = (error: AiError.AiError) => error.reason._tag

describe("OpenAiLanguageModel", () => {
  it.effect("generates text and reports usage and finish reason", () =>
    withModel({ turns: [{ text: "Hello there", usage: { input: 12, output: 3 } }] }, (server) =>
      Effect.gen(function* () {
        const response = yield* LanguageModel.generateText({ prompt: "Hi" })
        assert.strictEqual(response.text, "Hello there")
        assert.strictEqual(response.finishReason, "stop")
        assert.strictEqual(response.usage.inputTokens.total, 12)
        assert.strictEqual(response.usage.outputTokens.total, 3)
        assert.strictEqual(server.requests[0]!.path, "/v1/chat/completions")
        assert.strictEqual(body(server).model, "gpt-test")
        assert.deepStrictEqual(body(server).messages, [{ role: "user", content: "Hi" }])
        assert.strictEqual(body(server).tools, undefined)
      })
    )
  )

  it.effect("sends the key as a bearer token, extra headers and extra body fields", () =>
    withModel(
      {},
      (server) =>
        Effect.gen(function* () {
          yield* LanguageModel.generateText({ prompt: "Hi" })
          const headers = server.requests[0]!.headers
          assert.strictEqual(headers.authorization, "Bearer sk-abc-123456")
          assert.strictEqual(headers["x-title"], "troupe")
          assert.strictEqual(body(server).max_tokens, 64)
          assert.strictEqual(body(server).temperature, 0.2)
          assert.strictEqual(body(server).seed, 7)
        }),
      {
        apiKey: Redacted.make("sk-abc-123456"),
        headers: { "x-title": "troupe" },
        maxTokens: 64,
        temperature: 0.2,
        extraBody: { seed: 7 }
      }
    )
  )

  it.effect("sends system and multi-turn messages in order", () =>
    withModel({}, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({
          prompt: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "What is 2+2?" },
            { role: "assistant", content: "4" },
            { role: "user", content: [{ type: "text", text: "And 3+3?" }] }
          ]
        })
        assert.deepStrictEqual(body(server).messages, [
          { role: "system", content: "Be brief." },
          { role: "user", content: "What is 2+2?" },
          { role: "assistant", content: "4" },
          { role: "user", content: "And 3+3?" }
        ])
      })
    )
  )

  it.effect("calls tools in parallel and resolves them through the toolkit", () =>
    withModel(
      {
        turns: [
          {
            toolCalls: [
              { id: "call_a", name: "get_weather", arguments: { city: "Paris" } },
              { id: "call_b", name: "get_weather", arguments: { city: "Rome" } }
            ]
          }
        ]
      },
      (server) =>
        Effect.gen(function* () {
          const response = yield* LanguageModel.generateText({ prompt: "Weather?", toolkit: Weather })
          assert.strictEqual(response.finishReason, "tool-calls")
          assert.deepStrictEqual(
            response.toolCalls.map((call) => [call.id, call.name, call.params]),
            [
              ["call_a", "get_weather", { city: "Paris" }],
              ["call_b", "get_weather", { city: "Rome" }]
            ]
          )
          assert.deepStrictEqual(
            response.toolResults.map((result) => result.result),
            ["sunny in Paris", "sunny in Rome"]
          )
          const sent = body(server)
          assert.strictEqual(sent.tool_choice, "auto")
          assert.strictEqual(sent.tools[0].type, "function")
          assert.strictEqual(sent.tools[0].function.name, "get_weather")
          assert.strictEqual(sent.tools[0].function.description, "Weather for a city")
          assert.deepStrictEqual(sent.tools[0].function.parameters.required, ["city"])
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("forces a tool with tool_choice", () =>
    withModel({ turns: [{ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] }] }, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({ prompt: "Weather?", toolkit: Weather, toolChoice: { tool: "get_weather" } })
        assert.deepStrictEqual(body(server).tool_choice, { type: "function", function: { name: "get_weather" } })
      }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("sends tool calls and tool results back on the next turn", () =>
    withModel({ turns: [{ text: "It is sunny." }] }, (server) =>
      Effect.gen(function* () {
        const response = yield* LanguageModel.generateText({
          prompt: [
            { role: "user", content: "Weather in Paris?" },
            {
              role: "assistant",
              content: [{ type: "tool-call", id: "call_1", name: "get_weather", params: { city: "Paris" } }]
            },
            {
              role: "tool",
              content: [{ type: "tool-result", id: "call_1", name: "get_weather", isFailure: false, result: "sunny" }]
            }
          ]
        })
        assert.strictEqual(response.text, "It is sunny.")
        const messages = body(server).messages
        assert.deepStrictEqual(messages[1], {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }
          ]
        })
        assert.deepStrictEqual(messages[2], { role: "tool", tool_call_id: "call_1", content: "sunny" })
      })
    )
  )

  it.effect("produces structured output with response_format json_schema", () =>
    withModel({ turns: [{ text: JSON.stringify({ name: "Ada", age: 36 }) }] }, (server) =>
      Effect.gen(function* () {
        const Person = Schema.Struct({ name: Schema.String, age: Schema.Int })
        const response = yield* LanguageModel.generateObject({ prompt: "Who?", schema: Person, objectName: "person" })
        assert.deepStrictEqual(response.value, { name: "Ada", age: 36 })
        const format = body(server).response_format
        assert.strictEqual(format.type, "json_schema")
        assert.strictEqual(format.json_schema.name, "person")
        assert.deepStrictEqual(format.json_schema.schema.required, ["name", "age"])
      })
    )
  )

  it.effect("reads reasoning_content and the length finish reason", () =>
    withModel({ turns: [{ text: "done", reasoning: "thinking hard", finish: "length" }] }, () =>
      Effect.gen(function* () {
        const response = yield* LanguageModel.generateText({ prompt: "Think" })
        assert.strictEqual(response.reasoningText, "thinking hard")
        assert.strictEqual(response.text, "done")
        assert.strictEqual(response.finishReason, "length")
      })
    )
  )

  it.effect("streams text deltas, reasoning, usage and the finish part", () =>
    withModel(
      { turns: [{ text: "Streaming works fine", reasoning: "hmm", usage: { input: 7, output: 4 } }] },
      (server) =>
        Effect.gen(function* () {
          const parts = yield* Stream.runCollect(LanguageModel.streamText({ prompt: "Go" }))
          const text = parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join("")
          const reasoning = parts.flatMap((p) => (p.type === "reasoning-delta" ? [p.delta] : [])).join("")
          assert.strictEqual(text, "Streaming works fine")
          assert.strictEqual(reasoning, "hmm")
          const finish = parts.find((p) => p.type === "finish")
          assert.strictEqual(finish?.type === "finish" && finish.reason, "stop")
          assert.strictEqual(finish?.type === "finish" && finish.usage.inputTokens.total, 7)
          assert.deepStrictEqual(
            parts.map((p) => p.type).filter((t) => t.endsWith("start") || t.endsWith("end")),
            ["reasoning-start", "reasoning-end", "text-start", "text-end"]
          )
          assert.strictEqual(body(server).stream, true)
          assert.deepStrictEqual(body(server).stream_options, { include_usage: true })
        })
    )
  )

  it.effect("assembles streamed parallel tool-call deltas", () =>
    withModel(
      {
        turns: [
          {
            toolCalls: [
              { id: "c1", name: "get_weather", arguments: { city: "Lisbon, Portugal" } },
              { id: "c2", name: "get_weather", arguments: { city: "Tokyo" } }
            ]
          }
        ]
      },
      () =>
        Effect.gen(function* () {
          const parts = yield* Stream.runCollect(
            LanguageModel.streamText({ prompt: "Weather?", toolkit: Weather, disableToolCallResolution: true })
          )
          const calls = parts.flatMap((p) => (p.type === "tool-call" ? [[p.id, p.params]] : []))
          assert.deepStrictEqual(calls, [
            ["c1", { city: "Lisbon, Portugal" }],
            ["c2", { city: "Tokyo" }]
          ])
          const deltas = parts.filter((p) => p.type === "tool-params-delta").length
          assert.isAbove(deltas, 2)
          const finish = parts.find((p) => p.type === "finish")
          assert.strictEqual(finish?.type === "finish" && finish.reason, "tool-calls")
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("fails a truncated stream with a retryable error", () =>
    withModel({ faults: [FakeServer.truncate] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "Go" })))
        assert.strictEqual(reasonOf(error), "NetworkError")
        assert.isTrue(error.isRetryable)
        assert.match(error.message, /truncated/)
      })
    )
  )

  it.effect("fails a stream whose connection is destroyed midway", () =>
    withModel({ faults: [FakeServer.destroy], turns: [{ text: "a fairly long answer to cut" }] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "Go" })))
        assert.strictEqual(reasonOf(error), "NetworkError")
        assert.isTrue(error.isRetryable)
      })
    )
  )

  it.effect("maps content_filter to ContentPolicyError, in both modes", () =>
    withModel({ turns: [{ text: "", finish: "content-filter" }] }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(reasonOf(error), "ContentPolicyError")
        assert.isFalse(error.isRetryable)
        const streamed = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
        assert.strictEqual(reasonOf(streamed), "ContentPolicyError")
      })
    )
  )

  it.effect("fails malformed tool-call JSON with InvalidOutputError, in both modes", () =>
    withModel(
      {
        faults: [FakeServer.malformedToolArguments, FakeServer.malformedToolArguments],
        turns: [{ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }]
      },
      () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(
            LanguageModel.generateText({ prompt: "x", toolkit: Weather, disableToolCallResolution: true })
          )
          assert.strictEqual(reasonOf(error), "InvalidOutputError")
          assert.isTrue(error.isRetryable)
          const streamed = yield* Effect.flip(
            Stream.runCollect(
              LanguageModel.streamText({ prompt: "x", toolkit: Weather, disableToolCallResolution: true })
            )
          )
          assert.strictEqual(reasonOf(streamed), "InvalidOutputError")
        }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("fails an invalid or cut JSON body with InvalidResponseError", () =>
    withModel({ faults: [FakeServer.invalidBody, FakeServer.truncate] }, () =>
      Effect.gen(function* () {
        const invalid = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(reasonOf(invalid), "InvalidResponseError")
        const cut = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(reasonOf(cut), "InvalidResponseError")
      })
    )
  )

  it.effect("interrupting a call aborts its HTTP request", () =>
    withModel({ faults: [FakeServer.hang] }, (server) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(LanguageModel.generateText({ prompt: "x" }))
        yield* server.waitFor((requests) => requests.length === 1)
        assert.strictEqual(server.requests[0]!.state, "open")
        yield* Fiber.interrupt(fiber)
        // A request left open would still be open when `settled` gives up, and fail here.
        assert.strictEqual(yield* server.settled(0), "aborted")
      })
    )
  )

  it.effect("stopping a stream early aborts its HTTP request before the answer is complete", () =>
    withModel({ chunkDelayMs: 20, turns: [{ text: "abcdefgh".repeat(50) }] }, (server) =>
      Effect.gen(function* () {
        const deltas = yield* Stream.runCollect(
          LanguageModel.streamText({ prompt: "x" }).pipe(
            Stream.filterMap((p) => (p.type === "text-delta" ? Result.succeed(p.delta) : Result.failVoid)),
            Stream.take(2)
          )
        )
        assert.deepStrictEqual(deltas, ["abcd", "efgh"])
        // Read to its end, the 100-piece answer would have completed; stopped after two pieces, it was cut off.
        assert.strictEqual(yield* server.settled(0), "aborted")
      })
    )
  )

  it.live("fails a stream that stalls longer than the timeout between events", () =>
    withModel(
      { chunkDelayMs: 400, turns: [{ text: "slow stream" }] },
      (server) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
          assert.strictEqual(reasonOf(error), "NetworkError")
          assert.strictEqual(ProviderError.deadlineOf(error), "silence")
          assert.strictEqual(yield* server.settled(0), "aborted")
        }),
      { timeout: "150 millis" }
    )
  )

  it.effect("declares tools with tool_choice none, and sends images as image_url parts", () =>
    withModel({}, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({
          prompt: [
            {
              role: "user",
              content: [
                { type: "text", text: "What is this?" },
                { type: "file", mediaType: "image/png", data: new Uint8Array([137, 80, 78, 71]) }
              ]
            }
          ],
          toolkit: Weather,
          toolChoice: "none"
        })
        assert.strictEqual(body(server).tool_choice, "none")
        assert.strictEqual(body(server).tools.length, 1)
        assert.deepStrictEqual(body(server).messages[0].content, [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw==" } }
        ])
      }).pipe(Effect.provide(WeatherHandlers))
    )
  )

  it.effect("accepts a stream that ends after finish_reason without [DONE]", () =>
    Effect.gen(function* () {
      // A compatible server that closes right after the finish_reason chunk (no usage chunk, no [DONE]).
      const server = yield* FakeServer.make(
        {
          ...FakeOpenAi.wire,
          chatStream: (turn, context) => {
            const { events, final } = FakeOpenAi.wire.chatStream(turn, context)
            return { events: events.slice(0, -2), final }
          }
        },
        { turns: [{ text: "complete" }] }
      )
      const model = yield* OpenAiLanguageModel.make({ baseUrl: server.url, model: "m", retry: Retry.none })
      const parts = yield* Stream.runCollect(
        LanguageModel.streamText({ prompt: "x" }).pipe(Stream.provideService(LanguageModel.LanguageModel, model))
      )
      assert.strictEqual(parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""), "complete")
      assert.strictEqual(parts.at(-1)?.type, "finish")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )

  describe("keeps an echoed API key out of every error", () => {
    const key = "sk-echoed-secret-0123456789"
    // `echoed`: the message quotes the server's text, so the redaction marker must show where the key was.
    const assertScrubbed = (error: AiError.AiError, echoed = true) => {
      assert.notInclude(error.message, key)
      assert.notInclude(JSON.stringify(error), key)
      assert.notInclude(String(error.stack), key)
      if (echoed) assert.include(error.message, "[redacted]")
    }
    const withKey = <A, E, R>(options: FakeServer.Options, f: () => Effect.Effect<A, E, R>) =>
      withModel(options, f, { apiKey: Redacted.make(key) })
    const generate = () => Effect.flip(LanguageModel.generateText({ prompt: "x" }))
    const stream = () => Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))

    it.effect("in a non-JSON 200 body", () =>
      withKey({ faults: [FakeServer.body(`<html>bad gateway, key ${key}</html>`)] }, () =>
        Effect.map(generate(), (error) => {
          assert.strictEqual(reasonOf(error), "InvalidResponseError")
          assertScrubbed(error)
        })
      )
    )

    it.effect("in a JSON 200 body of the wrong shape", () =>
      withKey({ faults: [FakeServer.body(JSON.stringify({ id: key, choices: `echo ${key}` }))] }, () =>
        Effect.map(generate(), (error) => {
          assert.strictEqual(reasonOf(error), "InvalidResponseError")
          assert.include(error.message, "unexpected response shape")
          // Schema messages name the path, not the value; the key must stay out all the same.
          assertScrubbed(error, false)
        })
      )
    )

    it.effect("in a malformed stream event", () =>
      withKey({ faults: [FakeServer.body(`data: {"echo": ${key}\n\n`)] }, () =>
        Effect.map(stream(), (error) => {
          assert.strictEqual(reasonOf(error), "InvalidResponseError")
          assertScrubbed(error)
        })
      )
    )

    it.effect("in a stream error event", () =>
      withKey(
        { faults: [FakeServer.body(`data: ${JSON.stringify({ error: { message: `invalid key ${key}` } })}\n\n`)] },
        () =>
          Effect.map(stream(), (error) => {
            assert.strictEqual(reasonOf(error), "InvalidResponseError")
            assertScrubbed(error)
          })
      )
    )

    it.effect("in malformed tool-call arguments, in both modes", () =>
      withKey({ turns: [{ toolCalls: [{ name: "get_weather", arguments: `{"city": "${key}` }] }] }, () =>
        Effect.gen(function* () {
          const options = { prompt: "x", toolkit: Weather, disableToolCallResolution: true } as const
          const generated = yield* Effect.flip(LanguageModel.generateText(options))
          assert.strictEqual(reasonOf(generated), "InvalidOutputError")
          assertScrubbed(generated)
          const streamed = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText(options)))
          assert.strictEqual(reasonOf(streamed), "InvalidOutputError")
          assertScrubbed(streamed)
        }).pipe(Effect.provide(WeatherHandlers))
      )
    )

    it.effect("in an HTTP error body", () =>
      withKey({ faults: [FakeServer.status(401, { message: `Incorrect API key provided: ${key}` })] }, () =>
        Effect.map(generate(), (error) => {
          assert.strictEqual(reasonOf(error), "AuthenticationError")
          assertScrubbed(error)
        })
      )
    )
  })
})
