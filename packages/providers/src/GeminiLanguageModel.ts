/**
 * `LanguageModel` over Google Gemini (`POST {baseUrl}/models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`, key in `x-goog-api-key`).
 *
 * ```ts
 * const layer = GeminiLanguageModel.layer({
 *   baseUrl: "https://generativelanguage.googleapis.com/v1beta", apiKey, model: "gemini-2.5-flash"
 * })
 * ```
 *
 * Maps `contents`/`parts`, `systemInstruction`, `functionDeclarations` (as `parametersJsonSchema`) with
 * `toolConfig`, `functionCall`/`functionResponse`, structured output (`responseMimeType` +
 * `responseJsonSchema`), thought parts, `usageMetadata` and finish reasons. `SAFETY`, `PROHIBITED_CONTENT`
 * and similar stops, and a blocked prompt, fail with `ContentPolicyError`; a stream whose last chunk
 * has no `finishReason` fails as truncated. Gemini may omit call ids, so ids are generated then.
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

/** Options of the Gemini adapter. `baseUrl` includes the API version, e.g. `.../v1beta`. */
export interface Options extends Connection.Options {
  readonly model: string
  readonly maxTokens?: number | undefined
  readonly temperature?: number | undefined
  /** Extra top-level body fields merged into every request (e.g. `safetySettings`). */
  readonly extraBody?: Readonly<Record<string, unknown>> | undefined
}

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

const Part = Schema.Struct({
  text: Schema.optional(Schema.String),
  thought: Schema.optional(Schema.Boolean),
  functionCall: Schema.optional(
    Schema.Struct({ id: Schema.optional(Schema.String), name: Schema.String, args: Schema.optional(Schema.Unknown) })
  )
})

const UsageMetadata = Schema.Struct({
  promptTokenCount: Schema.optional(Schema.Number),
  candidatesTokenCount: Schema.optional(Schema.Number),
  thoughtsTokenCount: Schema.optional(Schema.Number),
  cachedContentTokenCount: Schema.optional(Schema.Number),
  totalTokenCount: Schema.optional(Schema.Number)
})
type UsageMetadata = typeof UsageMetadata.Type

/** A `GenerateContentResponse` (also each streamed chunk). */
export const GenerateContentResponse = Schema.Struct({
  candidates: Schema.optional(
    Schema.Array(
      Schema.Struct({
        content: Schema.optional(
          Schema.Struct({ role: Schema.optional(Schema.String), parts: Schema.optional(Schema.Array(Part)) })
        ),
        finishReason: Schema.optional(Schema.String)
      })
    )
  ),
  promptFeedback: Schema.optional(Schema.Struct({ blockReason: Schema.optional(Schema.String) })),
  usageMetadata: Schema.optional(UsageMetadata),
  modelVersion: Schema.optional(Schema.String),
  responseId: Schema.optional(Schema.String)
})
type GenerateContentResponse = typeof GenerateContentResponse.Type

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

const responseObject = (part: Prompt.ToolResultPart): unknown =>
  typeof part.result === "object" && part.result !== null && !Array.isArray(part.result)
    ? part.result
    : { result: part.result ?? null }

/** Converts a `Prompt` into `systemInstruction` and `contents`. */
export const toContents = (
  prompt: Prompt.Prompt
): { readonly system: string | undefined; readonly contents: Array<{ role: string; parts: Array<unknown> }> } => {
  const system: Array<string> = []
  const entries: Array<Common.Entry> = []
  for (const message of prompt.content) {
    switch (message.role) {
      case "system":
        system.push(message.content)
        break
      case "user":
        entries.push({
          role: "user",
          blocks: message.content.map((part) => {
            if (part.type === "text") return { text: part.text }
            const data = Common.fileBase64(part)
            return data === undefined
              ? { fileData: { mimeType: part.mediaType, fileUri: Common.fileUrl(part) } }
              : { inlineData: { mimeType: part.mediaType, data } }
          })
        })
        break
      case "assistant": {
        const parts: Array<unknown> = []
        for (const part of message.content) {
          if (part.type === "text" && part.text.length > 0) parts.push({ text: part.text })
          else if (part.type === "tool-call" && !part.providerExecuted) {
            parts.push({ functionCall: { id: part.id, name: part.name, args: part.params ?? {} } })
          }
        }
        entries.push({ role: "model", blocks: parts })
        break
      }
      case "tool": {
        const parts: Array<unknown> = []
        for (const part of message.content) {
          if (part.type === "tool-result") {
            parts.push({ functionResponse: { id: part.id, name: part.name, response: responseObject(part) } })
          }
        }
        entries.push({ role: "user", blocks: parts })
        break
      }
    }
  }
  return {
    system: system.length === 0 ? undefined : system.join("\n\n"),
    contents: Common.alternate(entries).map(({ role, blocks }) => ({ role, parts: blocks }))
  }
}

const requestBody = (options: Options, provider: LanguageModel.ProviderOptions) => {
  const { system, contents } = toContents(provider.prompt)
  const tools = Common.resolveTools(provider)
  const format = Common.responseJsonSchema(provider)
  const generationConfig = {
    ...(options.maxTokens === undefined ? {} : { maxOutputTokens: options.maxTokens }),
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(format === undefined ? {} : { responseMimeType: "application/json", responseJsonSchema: format.schema })
  }
  return {
    contents,
    ...(system === undefined ? {} : { systemInstruction: { parts: [{ text: system }] } }),
    ...(tools.tools.length === 0
      ? {}
      : {
          tools: [
            {
              functionDeclarations: tools.tools.map((tool) => ({
                name: tool.name,
                ...(tool.description === undefined ? {} : { description: tool.description }),
                parametersJsonSchema: tool.parameters
              }))
            }
          ],
          toolConfig: {
            functionCallingConfig: {
              mode: tools.mode === "required" ? "ANY" : tools.mode === "none" ? "NONE" : "AUTO",
              ...(tools.forced === undefined ? {} : { allowedFunctionNames: [tools.forced] })
            }
          }
        }),
    ...(Object.keys(generationConfig).length === 0 ? {} : { generationConfig }),
    ...options.extraBody
  }
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

const blockedReasons = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"])

const finishReason = (reason: string | undefined, hasToolCalls: boolean): Response.FinishReason => {
  if (hasToolCalls && (reason === "STOP" || reason === undefined)) return "tool-calls"
  switch (reason) {
    case "STOP":
      return "stop"
    case "MAX_TOKENS":
      return "length"
    case "MALFORMED_FUNCTION_CALL":
      return "error"
    case undefined:
      return "unknown"
    default:
      return "other"
  }
}

const toUsage = (usage: UsageMetadata | undefined) =>
  Common.usage({
    input: usage?.promptTokenCount,
    output:
      usage?.candidatesTokenCount === undefined && usage?.thoughtsTokenCount === undefined
        ? undefined
        : (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
    cacheRead: usage?.cachedContentTokenCount,
    reasoning: usage?.thoughtsTokenCount
  })

const policyCheck = (site: ProviderError.Site, body: GenerateContentResponse, secrets: ReadonlyArray<string>) => {
  const blocked = body.promptFeedback?.blockReason
  if (blocked !== undefined)
    return ProviderError.contentPolicy(site, `prompt blocked: ${ProviderError.quote(blocked, secrets)}`)
  const reason = body.candidates?.[0]?.finishReason
  if (reason !== undefined && blockedReasons.has(reason)) {
    return ProviderError.contentPolicy(site, `finishReason ${ProviderError.quote(reason, secrets)}: output was blocked`)
  }
  if (reason === "MALFORMED_FUNCTION_CALL") {
    return ProviderError.malformedToolCall(site, "(unknown)", "finishReason MALFORMED_FUNCTION_CALL", secrets)
  }
  return undefined
}

const MODULE = "GeminiLanguageModel"

const modelPath = (model: string) => (model.startsWith("models/") ? model : `models/${model}`)

/** Builds the `LanguageModel` service; needs an `HttpClient`. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const client = yield* HttpClient.HttpClient
  const connection = Connection.resolve(options)
  const generateEndpoint = Connection.endpoint(connection, `${modelPath(options.model)}:generateContent`)
  const streamEndpoint = Connection.endpoint(connection, `${modelPath(options.model)}:streamGenerateContent?alt=sse`)
  const headers = Common.headers(connection, (key) => ({ "x-goog-api-key": key }))

  const partsOf = (
    body: GenerateContentResponse,
    out: Array<Response.PartEncoded>
  ): Effect.Effect<boolean, never, IdGenerator> =>
    Effect.gen(function* () {
      let calls = false
      for (const part of body.candidates?.[0]?.content?.parts ?? []) {
        if (part.functionCall !== undefined) {
          calls = true
          const id = part.functionCall.id ?? (yield* (yield* IdGenerator).generateId())
          out.push({ type: "tool-call", id, name: part.functionCall.name, params: part.functionCall.args ?? {} })
        } else if (part.text !== undefined && part.text.length > 0) {
          out.push(part.thought === true ? { type: "reasoning", text: part.text } : { type: "text", text: part.text })
        }
      }
      return calls
    })

  const generateText = (
    provider: LanguageModel.ProviderOptions
  ): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, IdGenerator> => {
    const site = { module: MODULE, method: "generateText" }
    // Built when the call runs, not when it is described: the request is part of the call's own time.
    const post = Effect.suspend(() =>
      Http.postJson(
        client,
        { site, endpoint: generateEndpoint, headers, body: requestBody(options, provider), connection },
        GenerateContentResponse
      )
    )
    return Effect.flatMap(post, (body) =>
      Effect.gen(function* () {
        const failure = policyCheck(site, body, connection.secrets)
        if (failure !== undefined) return yield* failure
        const parts: Array<Response.PartEncoded> = [
          {
            type: "response-metadata",
            ...(body.responseId === undefined ? {} : { id: body.responseId }),
            ...(body.modelVersion === undefined ? {} : { modelId: body.modelVersion })
          }
        ]
        const calls = yield* partsOf(body, parts)
        parts.push({
          type: "finish",
          reason: finishReason(body.candidates?.[0]?.finishReason, calls),
          usage: toUsage(body.usageMetadata)
        })
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
        started: false,
        calls: false,
        usage: undefined as UsageMetadata | undefined,
        finish: undefined as string | undefined
      }
      const onChunk = (data: string) =>
        Effect.gen(function* () {
          const chunk = yield* Http.decodeEvent(site, GenerateContentResponse, data, connection.secrets)
          const failure = policyCheck(site, chunk, connection.secrets)
          if (failure !== undefined) return yield* failure
          const out: Array<Response.StreamPartEncoded> = []
          if (!state.started) {
            state.started = true
            out.push({
              type: "response-metadata",
              ...(chunk.responseId === undefined ? {} : { id: chunk.responseId }),
              ...(chunk.modelVersion === undefined ? {} : { modelId: chunk.modelVersion })
            })
          }
          if (chunk.usageMetadata !== undefined) state.usage = chunk.usageMetadata
          for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
            if (part.functionCall !== undefined) {
              state.calls = true
              const id = part.functionCall.id ?? (yield* (yield* IdGenerator).generateId())
              const params = part.functionCall.args ?? {}
              out.push({ type: "tool-params-start", id, name: part.functionCall.name })
              out.push({ type: "tool-params-delta", id, delta: JSON.stringify(params) })
              out.push({ type: "tool-params-end", id })
              out.push({ type: "tool-call", id, name: part.functionCall.name, params })
            } else if (part.text !== undefined && part.text.length > 0) {
              if (part.thought === true) blocks.reasoning(part.text, out)
              else blocks.text(part.text, out)
            }
          }
          const reason = chunk.candidates?.[0]?.finishReason
          if (reason !== undefined) state.finish = reason
          return out
        })
      // Gemini ends the SSE body after the chunk that carries `finishReason`; no terminator event.
      const end = Stream.suspend(() => {
        if (state.finish === undefined) {
          return Stream.fail(
            ProviderError.truncated(site, streamEndpoint.display, "ended before a chunk with finishReason")
          )
        }
        const out: Array<Response.StreamPartEncoded> = []
        blocks.close(out)
        out.push({ type: "finish", reason: finishReason(state.finish, state.calls), usage: toUsage(state.usage) })
        return Stream.fromIterable(out)
      })
      return Http.postSse(client, {
        site,
        endpoint: streamEndpoint,
        headers,
        body: requestBody(options, provider),
        connection
      }).pipe(
        Stream.mapEffect((event) => onChunk(event.data)),
        Stream.flattenIterable,
        Stream.concat(end)
      )
    })

  return yield* Common.languageModel(connection, { generateText, streamText })
})

/** The `LanguageModel` layer for Gemini; needs an `HttpClient`. */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
