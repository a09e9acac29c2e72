/**
 * A fake Gemini server under `/v1beta`: `models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse` (one JSON chunk per event, `finishReason` on the last),
 * `:embedContent` and `:batchEmbedContents`, Google-shaped error bodies, scripted turns and faults.
 *
 * ```ts
 * const server = yield* FakeGemini.make({ turns: [{ text: "Hi" }] })
 * const model = yield* GeminiLanguageModel.make({ baseUrl: server.url, model: "gemini-test" })
 * ```
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as FakeServer from "./FakeServer.ts"

const finishReason = (turn: FakeServer.Turn, malformed: boolean): string => {
  if (malformed) return "MALFORMED_FUNCTION_CALL"
  switch (FakeServer.finishOf(turn)) {
    case "length":
      return "MAX_TOKENS"
    case "content-filter":
    case "refusal":
      return "SAFETY"
    default:
      return "STOP"
  }
}

const statusName = (status: number): string => {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT"
    case 401:
      return "UNAUTHENTICATED"
    case 403:
      return "PERMISSION_DENIED"
    case 404:
      return "NOT_FOUND"
    case 429:
      return "RESOURCE_EXHAUSTED"
    case 503:
      return "UNAVAILABLE"
    default:
      return "INTERNAL"
  }
}

const usage = (turn: FakeServer.Turn) => {
  const { input, output } = FakeServer.usageOf(turn)
  return { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: input + output }
}

const callParts = (turn: FakeServer.Turn) =>
  (turn.toolCalls ?? []).map((call) => ({
    functionCall: {
      ...(call.id === undefined ? {} : { id: call.id }),
      name: call.name,
      args: typeof call.arguments === "string" ? {} : call.arguments
    }
  }))

const modelOf = (path: string): string | undefined => /^\/models\/([^:/]+):/.exec(path)?.[1]

/** The Gemini wire format. */
export const wire: FakeServer.Wire = {
  prefix: "/v1beta",
  route: (path, b) => {
    const model = modelOf(path)
    if (model === undefined) return undefined
    if (path.endsWith(":generateContent")) return { _tag: "Chat", stream: false, model }
    if (path.includes(":streamGenerateContent")) return { _tag: "Chat", stream: true, model }
    const textOf = (content: any): string =>
      Array.isArray(content?.parts) ? content.parts.map((p: any) => String(p?.text ?? "")).join("") : ""
    if (path.endsWith(":embedContent")) return { _tag: "Embed", model, inputs: [textOf(b.content)], single: true }
    if (path.endsWith(":batchEmbedContents")) {
      const requests: Array<any> = Array.isArray(b.requests) ? b.requests : []
      return { _tag: "Embed", model, inputs: requests.map((r) => textOf(r?.content)), single: false }
    }
    return undefined
  },
  chat: (turn, context) => {
    const parts: Array<unknown> = []
    if (turn.reasoning !== undefined) parts.push({ text: turn.reasoning, thought: true })
    const text = FakeServer.textOf(turn)
    if (text !== undefined) parts.push({ text })
    parts.push(...callParts(turn))
    return {
      candidates: [
        { content: { role: "model", parts }, finishReason: finishReason(turn, context.malformedArguments), index: 0 }
      ],
      usageMetadata: usage(turn),
      modelVersion: context.model,
      responseId: `resp-${context.index}`
    }
  },
  chatStream: (turn, context) => {
    const events: Array<FakeServer.SseEvent> = []
    const chunk = (parts: Array<unknown>, extra: Record<string, unknown> = {}) =>
      events.push({
        data: JSON.stringify({
          candidates: [{ content: { role: "model", parts }, index: 0, ...extra }],
          modelVersion: context.model,
          responseId: `resp-${context.index}`
        })
      })
    if (turn.reasoning !== undefined) chunk([{ text: turn.reasoning, thought: true }])
    const text = FakeServer.textOf(turn) ?? ""
    const half = Math.floor(text.length / 2)
    if (half > 0) chunk([{ text: text.slice(0, half) }])
    const final = events.length
    const rest = text.slice(half)
    events.push({
      data: JSON.stringify({
        candidates: [
          {
            content: { role: "model", parts: [...(rest.length > 0 ? [{ text: rest }] : []), ...callParts(turn)] },
            finishReason: finishReason(turn, context.malformedArguments),
            index: 0
          }
        ],
        usageMetadata: usage(turn),
        modelVersion: context.model,
        responseId: `resp-${context.index}`
      })
    })
    return { events, final }
  },
  embed: (vectors, route) =>
    route.single ? { embedding: { values: vectors[0] ?? [] } } : { embeddings: vectors.map((values) => ({ values })) },
  keepAlive: {
    data: JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text: "" }] }, index: 0 }] })
  },
  error: (status, message) => ({ error: { code: status, message, status: statusName(status) } })
}

/** Starts a fake Gemini server; `url` ends in `/v1beta`. */
export const make = (options: FakeServer.Options = {}): Effect.Effect<FakeServer.FakeServer, never, Scope.Scope> =>
  FakeServer.make(wire, options)
