/**
 * `LanguageModel` over OpenAI-compatible chat completions (`POST {baseUrl}/chat/completions`): OpenAI,
 * Ollama, vLLM, llama.cpp server, LM Studio, OpenRouter, Groq, xAI, DeepSeek.
 *
 * ```ts
 * const program = LanguageModel.generateText({ prompt: "Hello" }).pipe(
 *   Effect.provide(OpenAiLanguageModel.layer({ baseUrl: "https://api.openai.com/v1", apiKey, model: "gpt-4o-mini" })),
 *   Effect.provide(NodeHttpClient.layerUndici)
 * )
 * ```
 *
 * Supports system and multi-turn messages, tools with `tool_choice` and parallel calls, structured output
 * (`response_format: json_schema`) for `generateObject`, SSE streaming with tool-call deltas assembled,
 * usage, finish reasons and `reasoning_content`. `finish_reason: content_filter` and `refusal` fail with
 * `ContentPolicyError`; a stream that ends before any `finish_reason` and `[DONE]` fails as truncated
 * (retryable). One that ends after `finish_reason` without `[DONE]` (seen in some compatible servers)
 * completes normally.
 */

import type * as AiError from "effect/ai/AiError"
import { IdGenerator } from "effect/ai/IdGenerator"
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

/** Options of the OpenAI-compatible adapter: connection, model, and generation settings. */
export interface Options extends Connection.Options {
  readonly model: string
  /**
   * Sent as `max_tokens`, the field compatible servers understand. OpenAI's reasoning models want
   * `max_completion_tokens` instead: pass it in `extraBody`.
   */
  readonly maxTokens?: number | undefined
  readonly temperature?: number | undefined
  /** Extra top-level body fields merged into every request (e.g. `{ seed: 1 }`, `reasoning_effort`). */
  readonly extraBody?: Readonly<Record<string, unknown>> | undefined
}

// ---------------------------------------------------------------------------------------------
// Wire types (only the fields we read; others are ignored)
// ---------------------------------------------------------------------------------------------

const Usage = Schema.Struct({
  prompt_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  completion_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  prompt_tokens_details: Schema.optional(
    Schema.NullOr(Schema.Struct({ cached_tokens: Schema.optional(Schema.NullOr(Schema.Number)) }))
  ),
  completion_tokens_details: Schema.optional(
    Schema.NullOr(Schema.Struct({ reasoning_tokens: Schema.optional(Schema.NullOr(Schema.Number)) }))
  )
})
type Usage = typeof Usage.Type

const ToolCall = Schema.Struct({
  id: Schema.optional(Schema.NullOr(Schema.String)),
  function: Schema.Struct({ name: Schema.String, arguments: Schema.optional(Schema.NullOr(Schema.String)) })
})

// The fields a message and a streamed delta share.
const MessageFields = {
  content: Schema.optional(Schema.NullOr(Schema.String)),
  reasoning_content: Schema.optional(Schema.NullOr(Schema.String)),
  reasoning: Schema.optional(Schema.NullOr(Schema.String)),
  refusal: Schema.optional(Schema.NullOr(Schema.String))
}

/** A chat completion response body. */
export const ChatCompletion = Schema.Struct({
  id: Schema.optional(Schema.NullOr(Schema.String)),
  model: Schema.optional(Schema.NullOr(Schema.String)),
  created: Schema.optional(Schema.NullOr(Schema.Number)),
  choices: Schema.Array(
    Schema.Struct({
      message: Schema.Struct({ ...MessageFields, tool_calls: Schema.optional(Schema.NullOr(Schema.Array(ToolCall))) }),
      finish_reason: Schema.optional(Schema.NullOr(Schema.String))
    })
  ),
  usage: Schema.optional(Schema.NullOr(Usage))
})

const ToolCallDelta = Schema.Struct({
  index: Schema.optional(Schema.NullOr(Schema.Number)),
  id: Schema.optional(Schema.NullOr(Schema.String)),
  function: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        name: Schema.optional(Schema.NullOr(Schema.String)),
        arguments: Schema.optional(Schema.NullOr(Schema.String))
      })
    )
  )
})

const Delta = Schema.Struct({
  ...MessageFields,
  tool_calls: Schema.optional(Schema.NullOr(Schema.Array(ToolCallDelta)))
})

/** One streamed chat completion chunk. */
export const ChatCompletionChunk = Schema.Struct({
  id: Schema.optional(Schema.NullOr(Schema.String)),
  model: Schema.optional(Schema.NullOr(Schema.String)),
  created: Schema.optional(Schema.NullOr(Schema.Number)),
  choices: Schema.optional(
    Schema.NullOr(
      Schema.Array(
        Schema.Struct({
          delta: Schema.optional(Schema.NullOr(Delta)),
          finish_reason: Schema.optional(Schema.NullOr(Schema.String))
        })
      )
    )
  ),
  usage: Schema.optional(Schema.NullOr(Usage)),
  error: Schema.optional(Schema.NullOr(Schema.Struct({ message: Schema.optional(Schema.NullOr(Schema.String)) })))
})

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

const userContent = (parts: ReadonlyArray<Prompt.UserMessagePart>): unknown => {
  if (parts.length === 1 && parts[0]!.type === "text") return parts[0]!.text
  return parts.map((part) => {
    if (part.type === "text") return { type: "text", text: part.text }
    if (part.mediaType.startsWith("image/")) return { type: "image_url", image_url: { url: Common.fileUrl(part) } }
    return { type: "file", file: { filename: part.fileName ?? "file", file_data: Common.fileUrl(part) } }
  })
}

/** Converts a `Prompt` into chat-completions `messages`. */
export const toMessages = (prompt: Prompt.Prompt): Array<unknown> => {
  const messages: Array<unknown> = []
  for (const message of prompt.content) {
    switch (message.role) {
      case "system":
        messages.push({ role: "system", content: message.content })
        break
      case "user":
        messages.push({ role: "user", content: userContent(message.content) })
        break
      case "assistant": {
        let text = ""
        const toolCalls: Array<unknown> = []
        for (const part of message.content) {
          if (part.type === "text") text += part.text
          else if (part.type === "tool-call" && !part.providerExecuted) {
            toolCalls.push({
              id: part.id,
              type: "function",
              function: { name: part.name, arguments: JSON.stringify(part.params ?? {}) }
            })
          }
        }
        messages.push({
          role: "assistant",
          content: text.length > 0 ? text : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {})
        })
        break
      }
      case "tool":
        for (const part of message.content) {
          if (part.type === "tool-result") {
            messages.push({ role: "tool", tool_call_id: part.id, content: Common.toolResultText(part) })
          }
        }
        break
    }
  }
  return messages
}

const requestBody = (options: Options, provider: LanguageModel.ProviderOptions, stream: boolean) => {
  const tools = Common.resolveTools(provider)
  const format = Common.responseJsonSchema(provider)
  return {
    model: options.model,
    messages: toMessages(provider.prompt),
    ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(tools.tools.length === 0
      ? {}
      : {
          tools: tools.tools.map((tool) => ({
            type: "function",
            function: {
              name: tool.name,
              ...(tool.description === undefined ? {} : { description: tool.description }),
              parameters: tool.parameters
            }
          })),
          tool_choice: tools.forced === undefined ? tools.mode : { type: "function", function: { name: tools.forced } }
        }),
    ...(format === undefined
      ? {}
      : { response_format: { type: "json_schema", json_schema: { name: format.name, schema: format.schema } } }),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    ...options.extraBody
  }
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

const finishReason = (reason: string | null | undefined): Response.FinishReason => {
  switch (reason) {
    case "stop":
      return "stop"
    case "length":
      return "length"
    case "tool_calls":
    case "function_call":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    case null:
    case undefined:
      return "unknown"
    default:
      return "other"
  }
}

const toUsage = (usage: Usage | null | undefined) =>
  Common.usage({
    input: usage?.prompt_tokens ?? undefined,
    output: usage?.completion_tokens ?? undefined,
    cacheRead: usage?.prompt_tokens_details?.cached_tokens ?? undefined,
    reasoning: usage?.completion_tokens_details?.reasoning_tokens ?? undefined
  })

const metadata = (body: {
  readonly id?: string | null | undefined
  readonly model?: string | null | undefined
  readonly created?: number | null | undefined
}): Response.ResponseMetadataPartEncoded => ({
  type: "response-metadata",
  ...(typeof body.id === "string" ? { id: body.id } : {}),
  ...(typeof body.model === "string" ? { modelId: body.model } : {}),
  ...(typeof body.created === "number" ? { timestamp: new Date(body.created * 1000).toISOString() } : {})
})

const parseArguments = (
  site: ProviderError.Site,
  name: string,
  raw: string | null | undefined,
  secrets: ReadonlyArray<string>
) => {
  const text = raw ?? ""
  if (text.trim() === "") return Effect.succeed({} as unknown)
  const parsed = ProviderError.parseJson(text)
  return parsed === undefined
    ? Effect.fail(ProviderError.malformedToolCall(site, name, text, secrets))
    : Effect.succeed(parsed)
}

const MODULE = "OpenAiLanguageModel"

/** Builds the `LanguageModel` service; needs an `HttpClient`. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const client = yield* HttpClient.HttpClient
  const connection = Connection.resolve(options)
  const endpoint = Connection.endpoint(connection, "chat/completions")
  const headers = Common.headers(connection, (key) => ({ authorization: `Bearer ${key}` }))

  const generateText = (
    provider: LanguageModel.ProviderOptions
  ): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, IdGenerator> => {
    const site = { module: MODULE, method: "generateText" }
    // Built when the call runs, not when it is described: the request is part of the call's own time.
    const post = Effect.suspend(() =>
      Http.postJson(
        client,
        { site, endpoint, headers, body: requestBody(options, provider, false), connection },
        ChatCompletion
      )
    )
    return Effect.flatMap(post, (body) =>
      Effect.gen(function* () {
        const choice = body.choices[0]
        if (choice === undefined) return yield* ProviderError.invalidResponse(site, "response has no choices")
        const message = choice.message
        if (typeof message.refusal === "string" && message.refusal.length > 0) {
          return yield* ProviderError.contentPolicy(
            site,
            `model refused: ${ProviderError.quote(message.refusal, connection.secrets)}`
          )
        }
        if (choice.finish_reason === "content_filter") {
          return yield* ProviderError.contentPolicy(site, "finish_reason content_filter: output was filtered")
        }
        const parts: Array<Response.PartEncoded> = [metadata(body)]
        const reasoning = message.reasoning_content ?? message.reasoning
        if (typeof reasoning === "string" && reasoning.length > 0) parts.push({ type: "reasoning", text: reasoning })
        if (typeof message.content === "string" && message.content.length > 0) {
          parts.push({ type: "text", text: message.content })
        }
        for (const call of message.tool_calls ?? []) {
          const params = yield* parseArguments(site, call.function.name, call.function.arguments, connection.secrets)
          const id = call.id ?? (yield* (yield* IdGenerator).generateId())
          parts.push({ type: "tool-call", id, name: call.function.name, params })
        }
        parts.push({ type: "finish", reason: finishReason(choice.finish_reason), usage: toUsage(body.usage) })
        return parts
      })
    )
  }

  const streamText = (
    provider: LanguageModel.ProviderOptions
  ): Stream.Stream<Response.StreamPartEncoded, AiError.AiError, IdGenerator> =>
    Stream.suspend(() => {
      const site = { module: MODULE, method: "streamText" }
      const blocks = Common.deltaBlocks()
      const state = {
        metadata: false,
        calls: new Map<number, { id: string; name: string; args: string }>(),
        finish: undefined as string | null | undefined,
        usage: undefined as Usage | null | undefined,
        done: false
      }
      const finish = Effect.gen(function* () {
        const out: Array<Response.StreamPartEncoded> = []
        blocks.close(out)
        for (const call of state.calls.values()) {
          const params = yield* parseArguments(site, call.name, call.args, connection.secrets)
          out.push({ type: "tool-params-end", id: call.id })
          out.push({ type: "tool-call", id: call.id, name: call.name, params })
        }
        out.push({ type: "finish", reason: finishReason(state.finish), usage: toUsage(state.usage) })
        state.done = true
        return out
      })
      const onChunk = (data: string) =>
        Effect.gen(function* () {
          if (data.trim() === "[DONE]") return yield* finish
          const chunk = yield* Http.decodeEvent(site, ChatCompletionChunk, data, connection.secrets)
          if (chunk.error?.message) {
            return yield* ProviderError.invalidResponse(
              site,
              `stream error: ${ProviderError.quote(chunk.error.message, connection.secrets, 500)}`
            )
          }
          const out: Array<Response.StreamPartEncoded> = []
          if (!state.metadata) {
            state.metadata = true
            out.push(metadata(chunk))
          }
          if (chunk.usage) state.usage = chunk.usage
          const choice = chunk.choices?.[0]
          if (choice === undefined) return out
          const delta = choice.delta
          if (typeof delta?.refusal === "string" && delta.refusal.length > 0) {
            return yield* ProviderError.contentPolicy(
              site,
              `model refused: ${ProviderError.quote(delta.refusal, connection.secrets)}`
            )
          }
          const reasoning = delta?.reasoning_content ?? delta?.reasoning
          if (typeof reasoning === "string" && reasoning.length > 0) blocks.reasoning(reasoning, out)
          if (typeof delta?.content === "string" && delta.content.length > 0) blocks.text(delta.content, out)
          for (const [position, call] of (delta?.tool_calls ?? []).entries()) {
            const index = call.index ?? position
            let entry = state.calls.get(index)
            if (entry === undefined) {
              const id = call.id ?? (yield* (yield* IdGenerator).generateId())
              entry = { id, name: call.function?.name ?? "", args: "" }
              state.calls.set(index, entry)
              out.push({ type: "tool-params-start", id, name: entry.name })
            }
            const args = call.function?.arguments
            if (typeof args === "string" && args.length > 0) {
              entry.args += args
              out.push({ type: "tool-params-delta", id: entry.id, delta: args })
            }
          }
          if (choice.finish_reason) {
            if (choice.finish_reason === "content_filter") {
              return yield* ProviderError.contentPolicy(site, "finish_reason content_filter: output was filtered")
            }
            state.finish = choice.finish_reason
          }
          return out
        })
      return Http.postSse(client, {
        site,
        endpoint,
        headers,
        body: requestBody(options, provider, true),
        connection
      }).pipe(
        Stream.takeWhile(() => !state.done),
        Stream.mapEffect((event) => onChunk(event.data)),
        Stream.flattenIterable,
        Stream.concat(
          Stream.unwrap(
            Effect.suspend(() => {
              if (state.done) return Effect.succeed(Stream.empty)
              // Some compatible servers end after the finish_reason chunk without `[DONE]`: complete then.
              if (state.finish) return Effect.map(finish, Stream.fromIterable)
              return Effect.fail(
                ProviderError.truncated(site, endpoint.display, "ended before finish_reason and [DONE]")
              )
            })
          )
        )
      )
    })

  return yield* Common.languageModel(connection, { generateText, streamText })
})

/** The `LanguageModel` layer for an OpenAI-compatible server; needs an `HttpClient`. */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
