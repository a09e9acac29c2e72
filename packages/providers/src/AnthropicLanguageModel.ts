/**
 * `LanguageModel` over the Anthropic Messages API (`POST {baseUrl}/v1/messages`, `x-api-key`,
 * `anthropic-version: 2023-06-01`).
 *
 * ```ts
 * const layer = AnthropicLanguageModel.layer({
 *   baseUrl: "https://api.anthropic.com", apiKey, model: "claude-sonnet-4-5", maxTokens: 1024
 * })
 * ```
 *
 * Maps text, `tool_use`/`tool_result` blocks (consecutive same-role messages are merged, as the API
 * requires alternation), streaming events (`message_start` … `message_stop`, `input_json_delta`), stop
 * reasons and usage. Structured output uses a forced tool named after the object, whose input becomes
 * the response text. `stop_reason: refusal` fails with `ContentPolicyError`; a stream without
 * `message_stop` fails as truncated.
 */

import type * as AiError from "effect/ai/AiError"
import type { IdGenerator } from "effect/ai/IdGenerator"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Connection from "./Connection.ts"
import * as Common from "./internal/common.ts"
import * as Http from "./internal/http.ts"
import * as ProviderError from "./ProviderError.ts"

/** Options of the Anthropic adapter. `baseUrl` is the origin, e.g. `https://api.anthropic.com`. */
export interface Options extends Connection.Options {
  readonly model: string
  /** Required by the API; default 4096. */
  readonly maxTokens?: number | undefined
  readonly temperature?: number | undefined
  /** Extra top-level body fields merged into every request (e.g. `{ thinking: {...} }`). */
  readonly extraBody?: Readonly<Record<string, unknown>> | undefined
}

/** The API version header sent with every request. */
export const apiVersion = "2023-06-01"

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

const Usage = Schema.Struct({
  input_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  output_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  cache_creation_input_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  cache_read_input_tokens: Schema.optional(Schema.NullOr(Schema.Number))
})
type Usage = typeof Usage.Type

const ContentBlock = Schema.Struct({
  type: Schema.String,
  text: Schema.optional(Schema.String),
  thinking: Schema.optional(Schema.String),
  id: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  input: Schema.optional(Schema.Unknown)
})

/** A Messages API response body. */
export const Message = Schema.Struct({
  id: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  content: Schema.Array(ContentBlock),
  stop_reason: Schema.optional(Schema.NullOr(Schema.String)),
  usage: Schema.optional(Schema.NullOr(Usage))
})

/** One streamed event (the `data` of an SSE event). */
export const StreamEvent = Schema.Struct({
  type: Schema.String,
  index: Schema.optional(Schema.Number),
  message: Schema.optional(
    Schema.Struct({
      id: Schema.optional(Schema.String),
      model: Schema.optional(Schema.String),
      usage: Schema.optional(Schema.NullOr(Usage))
    })
  ),
  content_block: Schema.optional(ContentBlock),
  delta: Schema.optional(
    Schema.Struct({
      type: Schema.optional(Schema.String),
      text: Schema.optional(Schema.String),
      thinking: Schema.optional(Schema.String),
      partial_json: Schema.optional(Schema.String),
      stop_reason: Schema.optional(Schema.NullOr(Schema.String))
    })
  ),
  usage: Schema.optional(Schema.NullOr(Usage)),
  error: Schema.optional(
    Schema.Struct({ type: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })
  )
})

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

const userBlocks = (parts: ReadonlyArray<Prompt.UserMessagePart>): Array<unknown> =>
  parts.map((part) => {
    if (part.type === "text") return { type: "text", text: part.text }
    const data = Common.fileBase64(part)
    const kind = part.mediaType === "application/pdf" ? "document" : "image"
    return data === undefined
      ? { type: kind, source: { type: "url", url: Common.fileUrl(part) } }
      : { type: kind, source: { type: "base64", media_type: part.mediaType, data } }
  })

/** Converts a `Prompt` into the Messages API `system` string and alternating `messages`. */
export const toMessages = (
  prompt: Prompt.Prompt
): { readonly system: string | undefined; readonly messages: Array<{ role: string; content: Array<unknown> }> } => {
  const system: Array<string> = []
  const entries: Array<Common.Entry> = []
  for (const message of prompt.content) {
    switch (message.role) {
      case "system":
        system.push(message.content)
        break
      case "user":
        entries.push({ role: "user", blocks: userBlocks(message.content) })
        break
      case "assistant": {
        const blocks: Array<unknown> = []
        for (const part of message.content) {
          if (part.type === "text" && part.text.length > 0) blocks.push({ type: "text", text: part.text })
          else if (part.type === "tool-call" && !part.providerExecuted) {
            blocks.push({ type: "tool_use", id: part.id, name: part.name, input: part.params ?? {} })
          }
        }
        entries.push({ role: "assistant", blocks })
        break
      }
      case "tool": {
        const blocks: Array<unknown> = []
        for (const part of message.content) {
          if (part.type === "tool-result") {
            blocks.push({
              type: "tool_result",
              tool_use_id: part.id,
              content: Common.toolResultText(part),
              ...(part.isFailure ? { is_error: true } : {})
            })
          }
        }
        entries.push({ role: "user", blocks })
        break
      }
    }
  }
  return {
    system: system.length === 0 ? undefined : system.join("\n\n"),
    messages: Common.alternate(entries).map(({ role, blocks }) => ({ role, content: blocks }))
  }
}

const requestBody = (options: Options, provider: LanguageModel.ProviderOptions, stream: boolean) => {
  const { system, messages } = toMessages(provider.prompt)
  const format = Common.responseJsonSchema(provider)
  const resolved = Common.resolveTools(provider)
  const tools = resolved.tools.map((tool) => ({
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    input_schema: tool.parameters
  }))
  let toolChoice: unknown
  if (format !== undefined) {
    tools.push({ name: format.name, description: "Respond with the requested object.", input_schema: format.schema })
    toolChoice = { type: "tool", name: format.name }
  } else if (resolved.forced !== undefined) toolChoice = { type: "tool", name: resolved.forced }
  else if (tools.length > 0) {
    toolChoice = { type: resolved.mode === "required" ? "any" : resolved.mode === "none" ? "none" : "auto" }
  }
  return {
    model: options.model,
    max_tokens: options.maxTokens ?? 4096,
    ...(system === undefined ? {} : { system }),
    messages,
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(tools.length === 0 ? {} : { tools, tool_choice: toolChoice }),
    ...(stream ? { stream: true } : {}),
    ...options.extraBody
  }
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

const finishReason = (reason: string | null | undefined): Response.FinishReason => {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop"
    case "max_tokens":
      return "length"
    case "tool_use":
      return "tool-calls"
    case "pause_turn":
      return "pause"
    case null:
    case undefined:
      return "unknown"
    default:
      return "other"
  }
}

const toUsage = (usage: Usage | null | undefined) => {
  const cacheRead = usage?.cache_read_input_tokens ?? undefined
  const cacheWrite = usage?.cache_creation_input_tokens ?? undefined
  const uncached = usage?.input_tokens ?? undefined
  // Anthropic reports cached tokens beside `input_tokens`, not inside it.
  const input = uncached === undefined ? undefined : uncached + (cacheRead ?? 0) + (cacheWrite ?? 0)
  return Common.usage({ input, output: usage?.output_tokens ?? undefined, cacheRead, cacheWrite })
}

const MODULE = "AnthropicLanguageModel"

/** Builds the `LanguageModel` service; needs an `HttpClient`. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const client = yield* HttpClient.HttpClient
  const connection = Connection.resolve(options)
  const endpoint = Connection.endpoint(connection, "v1/messages")
  const headers = { "anthropic-version": apiVersion, ...Common.headers(connection, (key) => ({ "x-api-key": key })) }

  const generateText = (
    provider: LanguageModel.ProviderOptions
  ): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, IdGenerator> => {
    const site = { module: MODULE, method: "generateText" }
    const objectName = provider.responseFormat.type === "json" ? provider.responseFormat.objectName : undefined
    // Built when the call runs, not when it is described: the request is part of the call's own time.
    const post = Effect.suspend(() =>
      Http.postJson(
        client,
        { site, endpoint, headers, body: requestBody(options, provider, false), connection },
        Message
      )
    )
    return Effect.flatMap(post, (body) => {
      if (body.stop_reason === "refusal") {
        return Effect.fail(ProviderError.contentPolicy(site, "stop_reason refusal: the model declined to answer"))
      }
      const parts: Array<Response.PartEncoded> = [
        {
          type: "response-metadata",
          ...(body.id === undefined ? {} : { id: body.id }),
          ...(body.model === undefined ? {} : { modelId: body.model })
        }
      ]
      for (const block of body.content) {
        if (block.type === "text" && block.text !== undefined) parts.push({ type: "text", text: block.text })
        else if (block.type === "thinking" && block.thinking !== undefined) {
          parts.push({ type: "reasoning", text: block.thinking })
        } else if (block.type === "tool_use" && block.name !== undefined) {
          if (typeof block.input !== "object" || block.input === null) {
            return Effect.fail(
              ProviderError.malformedToolCall(site, block.name, String(block.input), connection.secrets)
            )
          }
          if (block.name === objectName) parts.push({ type: "text", text: JSON.stringify(block.input) })
          else parts.push({ type: "tool-call", id: block.id ?? block.name, name: block.name, params: block.input })
        }
      }
      const reason =
        objectName !== undefined && body.stop_reason === "tool_use" ? "stop" : finishReason(body.stop_reason)
      parts.push({ type: "finish", reason, usage: toUsage(body.usage) })
      return Effect.succeed(parts)
    })
  }

  const streamText = (
    provider: LanguageModel.ProviderOptions
  ): Stream.Stream<Response.StreamPartEncoded, AiError.AiError, IdGenerator> =>
    Stream.suspend(() => {
      const site = { module: MODULE, method: "streamText" }
      const objectName = provider.responseFormat.type === "json" ? provider.responseFormat.objectName : undefined
      const blocks = new Map<
        number,
        { kind: "text" | "reasoning" | "tool" | "object" | "other"; id: string; name: string; json: string }
      >()
      const state = {
        usage: {} as Record<string, number | null | undefined>,
        stop: undefined as string | null | undefined,
        done: false
      }
      const onEvent = (data: string): Effect.Effect<Array<Response.StreamPartEncoded>, AiError.AiError> =>
        Effect.flatMap(Http.decodeEvent(site, StreamEvent, data, connection.secrets), (event) => {
          const out: Array<Response.StreamPartEncoded> = []
          switch (event.type) {
            case "message_start": {
              Object.assign(state.usage, event.message?.usage ?? {})
              out.push({
                type: "response-metadata",
                ...(event.message?.id === undefined ? {} : { id: event.message.id }),
                ...(event.message?.model === undefined ? {} : { modelId: event.message.model })
              })
              break
            }
            case "content_block_start": {
              const index = event.index ?? blocks.size
              const block = event.content_block
              const id = `block-${index}`
              if (block?.type === "text") {
                blocks.set(index, { kind: "text", id, name: "", json: "" })
                out.push({ type: "text-start", id })
                if (block.text) out.push({ type: "text-delta", id, delta: block.text })
              } else if (block?.type === "thinking") {
                blocks.set(index, { kind: "reasoning", id, name: "", json: "" })
                out.push({ type: "reasoning-start", id })
              } else if (block?.type === "tool_use" && block.name !== undefined) {
                if (block.name === objectName) {
                  blocks.set(index, { kind: "object", id, name: block.name, json: "" })
                  out.push({ type: "text-start", id })
                } else {
                  const callId = block.id ?? id
                  blocks.set(index, { kind: "tool", id: callId, name: block.name, json: "" })
                  out.push({ type: "tool-params-start", id: callId, name: block.name })
                }
              } else blocks.set(index, { kind: "other", id, name: "", json: "" })
              break
            }
            case "content_block_delta": {
              const block = blocks.get(event.index ?? -1)
              const delta = event.delta
              if (block === undefined || delta === undefined) break
              if (block.kind === "text" && delta.text) out.push({ type: "text-delta", id: block.id, delta: delta.text })
              else if (block.kind === "reasoning" && delta.thinking) {
                out.push({ type: "reasoning-delta", id: block.id, delta: delta.thinking })
              } else if (block.kind === "object" && delta.partial_json) {
                block.json += delta.partial_json
                out.push({ type: "text-delta", id: block.id, delta: delta.partial_json })
              } else if (block.kind === "tool" && delta.partial_json) {
                block.json += delta.partial_json
                out.push({ type: "tool-params-delta", id: block.id, delta: delta.partial_json })
              }
              break
            }
            case "content_block_stop": {
              const block = blocks.get(event.index ?? -1)
              if (block === undefined) break
              if (block.kind === "text" || block.kind === "object") out.push({ type: "text-end", id: block.id })
              else if (block.kind === "reasoning") out.push({ type: "reasoning-end", id: block.id })
              else if (block.kind === "tool") {
                const params = block.json.trim() === "" ? {} : ProviderError.parseJson(block.json)
                if (params === undefined)
                  return Effect.fail(ProviderError.malformedToolCall(site, block.name, block.json, connection.secrets))
                out.push({ type: "tool-params-end", id: block.id })
                out.push({ type: "tool-call", id: block.id, name: block.name, params })
              }
              break
            }
            case "message_delta": {
              Object.assign(state.usage, event.usage ?? {})
              if (event.delta?.stop_reason !== undefined) state.stop = event.delta.stop_reason
              if (state.stop === "refusal") {
                return Effect.fail(
                  ProviderError.contentPolicy(site, "stop_reason refusal: the model declined to answer")
                )
              }
              break
            }
            case "message_stop": {
              state.done = true
              const reason = objectName !== undefined && state.stop === "tool_use" ? "stop" : finishReason(state.stop)
              out.push({ type: "finish", reason, usage: toUsage(state.usage as Usage) })
              break
            }
            case "error": {
              const kind = ProviderError.quote(event.error?.type ?? "error", connection.secrets)
              const message = ProviderError.quote(event.error?.message ?? "", connection.secrets, 500)
              return Effect.fail(
                kind === "overloaded_error" || kind === "api_error"
                  ? ProviderError.truncated(site, endpoint.display, `${kind}: ${message}`)
                  : ProviderError.invalidResponse(site, `stream error ${kind}: ${message}`)
              )
            }
          }
          return Effect.succeed(out)
        })
      return Http.postSse(client, {
        site,
        endpoint,
        headers,
        body: requestBody(options, provider, true),
        connection
      }).pipe(
        Stream.takeWhile(() => !state.done),
        Stream.mapEffect((event) => onEvent(event.data)),
        Stream.flattenIterable,
        Stream.concat(
          Stream.suspend(() =>
            state.done
              ? Stream.empty
              : Stream.fail(ProviderError.truncated(site, endpoint.display, "ended before message_stop"))
          )
        )
      )
    })

  return yield* Common.languageModel(connection, { generateText, streamText })
})

/** The `LanguageModel` layer for Anthropic; needs an `HttpClient`. */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
