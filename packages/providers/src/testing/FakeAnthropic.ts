/**
 * A fake Anthropic Messages server: `POST /v1/messages` as JSON or SSE (`message_start`,
 * `content_block_start`/`_delta`/`_stop` with `text_delta`, `thinking_delta` and `input_json_delta`,
 * `message_delta`, `message_stop`), Anthropic-shaped error bodies, scripted turns and faults.
 *
 * ```ts
 * const server = yield* FakeAnthropic.make({ turns: [{ text: "Hi" }] })
 * const model = yield* AnthropicLanguageModel.make({ baseUrl: server.url, model: "claude-test" })
 * ```
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as FakeServer from "./FakeServer.ts"

const stopReason = (turn: FakeServer.Turn): string => {
  switch (FakeServer.finishOf(turn)) {
    case "tool-calls":
      return "tool_use"
    case "length":
      return "max_tokens"
    case "refusal":
    case "content-filter":
      return "refusal"
    default:
      return "end_turn"
  }
}

const errorType = (status: number): string => {
  switch (status) {
    case 400:
      return "invalid_request_error"
    case 401:
      return "authentication_error"
    case 403:
      return "permission_error"
    case 404:
      return "not_found_error"
    case 429:
      return "rate_limit_error"
    case 529:
      return "overloaded_error"
    default:
      return "api_error"
  }
}

const split = (text: string): Array<string> => {
  const pieces: Array<string> = []
  for (let i = 0; i < text.length; i += 4) pieces.push(text.slice(i, i + 4))
  return pieces
}

/** The Anthropic Messages wire format. */
export const wire: FakeServer.Wire = {
  prefix: "",
  route: (path, body) => {
    if (path !== "/v1/messages") return undefined
    return {
      _tag: "Chat",
      stream: body.stream === true,
      model: typeof body.model === "string" ? body.model : "unknown"
    }
  },
  chat: (turn, context) => {
    const content: Array<unknown> = []
    if (turn.reasoning !== undefined) content.push({ type: "thinking", thinking: turn.reasoning, signature: "sig" })
    const text = FakeServer.textOf(turn)
    if (text !== undefined) content.push({ type: "text", text })
    for (const [i, call] of (turn.toolCalls ?? []).entries()) {
      content.push({
        type: "tool_use",
        id: call.id ?? `toolu_${context.index}_${i}`,
        name: call.name,
        // The JSON API carries input as an object; a malformed one arrives as a broken string.
        input: context.malformedArguments ? FakeServer.argumentsText(call.arguments, true) : call.arguments
      })
    }
    const usage = FakeServer.usageOf(turn)
    return {
      id: `msg_${context.index}`,
      type: "message",
      role: "assistant",
      model: context.model,
      content,
      stop_reason: stopReason(turn),
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output }
    }
  },
  chatStream: (turn, context) => {
    const usage = FakeServer.usageOf(turn)
    const events: Array<FakeServer.SseEvent> = []
    const emit = (type: string, payload: Record<string, unknown>) =>
      events.push({ event: type, data: JSON.stringify({ type, ...payload }) })
    emit("message_start", {
      message: {
        id: `msg_${context.index}`,
        type: "message",
        role: "assistant",
        model: context.model,
        content: [],
        stop_reason: null,
        usage: { input_tokens: usage.input, output_tokens: 1 }
      }
    })
    let index = 0
    if (turn.reasoning !== undefined) {
      emit("content_block_start", { index, content_block: { type: "thinking", thinking: "" } })
      for (const piece of split(turn.reasoning)) {
        emit("content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } })
      }
      emit("content_block_stop", { index })
      index++
    }
    const text = FakeServer.textOf(turn)
    if (text !== undefined) {
      emit("content_block_start", { index, content_block: { type: "text", text: "" } })
      emit("ping", {})
      for (const piece of split(text))
        emit("content_block_delta", { index, delta: { type: "text_delta", text: piece } })
      emit("content_block_stop", { index })
      index++
    }
    for (const [i, call] of (turn.toolCalls ?? []).entries()) {
      emit("content_block_start", {
        index,
        content_block: { type: "tool_use", id: call.id ?? `toolu_${context.index}_${i}`, name: call.name, input: {} }
      })
      for (const piece of split(FakeServer.argumentsText(call.arguments, context.malformedArguments))) {
        emit("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece } })
      }
      emit("content_block_stop", { index })
      index++
    }
    const final = events.length
    emit("message_delta", {
      delta: { stop_reason: stopReason(turn), stop_sequence: null },
      usage: { output_tokens: usage.output }
    })
    emit("message_stop", {})
    return { events, final }
  },
  embed: () => ({ type: "error", error: { type: "not_found_error", message: "no embeddings" } }),
  keepAlive: { event: "ping", data: JSON.stringify({ type: "ping" }) },
  error: (status, message) => ({ type: "error", error: { type: errorType(status), message } })
}

/** Starts a fake Anthropic server; `url` is its origin (the adapter appends `/v1/messages`). */
export const make = (options: FakeServer.Options = {}): Effect.Effect<FakeServer.FakeServer, never, Scope.Scope> =>
  FakeServer.make(wire, options)
