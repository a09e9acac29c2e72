/**
 * A fake OpenAI-compatible server: `POST /v1/chat/completions` (JSON and SSE with `[DONE]`, tool-call
 * deltas and a final usage chunk) and `POST /v1/embeddings`, with scripted turns and fault injection.
 *
 * ```ts
 * it.effect("answers", () =>
 *   Effect.gen(function* () {
 *     const server = yield* FakeOpenAi.make({ turns: [{ text: "Hello" }] })
 *     const model = yield* OpenAiLanguageModel.make({ baseUrl: server.url, model: "gpt-test" })
 *     // ... server.requests[0].body.messages
 *   }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
 * )
 * ```
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as FakeServer from "./FakeServer.ts"

const finishReason = (turn: FakeServer.Turn): string => {
  switch (FakeServer.finishOf(turn)) {
    case "tool-calls":
      return "tool_calls"
    case "length":
      return "length"
    case "content-filter":
    case "refusal":
      return "content_filter"
    default:
      return "stop"
  }
}

const usage = (turn: FakeServer.Turn) => {
  const { input, output } = FakeServer.usageOf(turn)
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }
}

const created = 1_700_000_000

/** The OpenAI chat-completions wire format. */
export const wire: FakeServer.Wire = {
  prefix: "/v1",
  route: (path, b) => {
    const model = typeof b.model === "string" ? b.model : "unknown"
    if (path === "/chat/completions") return { _tag: "Chat", stream: b.stream === true, model }
    if (path === "/embeddings") {
      const input = b.input
      const inputs = typeof input === "string" ? [input] : Array.isArray(input) ? input.map(String) : []
      return { _tag: "Embed", model, inputs, single: typeof input === "string" }
    }
    return undefined
  },
  chat: (turn, context) => {
    const calls = (turn.toolCalls ?? []).map((call, i) => ({
      id: call.id ?? FakeServer.callId(context.index, i),
      type: "function",
      function: { name: call.name, arguments: FakeServer.argumentsText(call.arguments, context.malformedArguments) }
    }))
    return {
      id: `chatcmpl-${context.index}`,
      object: "chat.completion",
      created,
      model: context.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: FakeServer.textOf(turn) ?? null,
            ...(turn.reasoning === undefined ? {} : { reasoning_content: turn.reasoning }),
            ...(calls.length > 0 ? { tool_calls: calls } : {})
          },
          finish_reason: finishReason(turn)
        }
      ],
      usage: usage(turn)
    }
  },
  chatStream: (turn, context) => {
    const base = { id: `chatcmpl-${context.index}`, object: "chat.completion.chunk", created, model: context.model }
    const chunk = (delta: unknown, finish: string | null = null) =>
      JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })
    const events: Array<FakeServer.SseEvent> = [{ data: chunk({ role: "assistant", content: "" }) }]
    if (turn.reasoning !== undefined) {
      for (const piece of split(turn.reasoning)) events.push({ data: chunk({ reasoning_content: piece }) })
    }
    const text = FakeServer.textOf(turn)
    if (text !== undefined) for (const piece of split(text)) events.push({ data: chunk({ content: piece }) })
    for (const [i, call] of (turn.toolCalls ?? []).entries()) {
      const args = FakeServer.argumentsText(call.arguments, context.malformedArguments)
      const id = call.id ?? FakeServer.callId(context.index, i)
      events.push({
        data: chunk({
          tool_calls: [{ index: i, id, type: "function", function: { name: call.name, arguments: "" } }]
        })
      })
      for (const piece of split(args)) {
        events.push({ data: chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }) })
      }
    }
    const final = events.length
    events.push({ data: chunk({}, finishReason(turn)) })
    events.push({ data: JSON.stringify({ ...base, choices: [], usage: usage(turn) }) })
    events.push({ data: "[DONE]" })
    return { events, final }
  },
  embed: (vectors, route) => ({
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
    model: route.model,
    usage: { prompt_tokens: route.inputs.length * 3, total_tokens: route.inputs.length * 3 }
  }),
  keepAlive: {
    data: JSON.stringify({ id: "chatcmpl-keepalive", object: "chat.completion.chunk", created, choices: [] })
  },
  error: (status, message, code) => ({
    error: {
      message,
      type: status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error",
      param: null,
      code: code ?? null
    }
  })
}

// Streams deliver text in small pieces, as real servers do, so assembly is exercised.
const split = (text: string): Array<string> => {
  const pieces: Array<string> = []
  for (let i = 0; i < text.length; i += 4) pieces.push(text.slice(i, i + 4))
  return pieces.length === 0 ? [""] : pieces
}

/** Starts a fake OpenAI-compatible server; `url` ends in `/v1`. */
export const make = (options: FakeServer.Options = {}): Effect.Effect<FakeServer.FakeServer, never, Scope.Scope> =>
  FakeServer.make(wire, options)
