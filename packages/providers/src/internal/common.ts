/**
 * Provider-neutral pieces of request building and response reading shared by the adapters.
 */

import * as AiError from "effect/ai/AiError"
import type * as EmbeddingModel from "effect/ai/EmbeddingModel"
import type { IdGenerator } from "effect/ai/IdGenerator"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import type * as JsonSchema from "effect/JsonSchema"
import * as Stream from "effect/Stream"
import type * as Connection from "../Connection.ts"
import * as ProviderError from "../ProviderError.ts"

/** A function tool as every provider needs it: name, description, JSON Schema of the parameters. */
export interface FunctionTool {
  readonly name: string
  readonly description: string | undefined
  readonly parameters: JsonSchema.JsonSchema
}

/** The resolved tool choice: a mode and the tools the model may call. */
export interface ResolvedTools {
  readonly tools: ReadonlyArray<FunctionTool>
  readonly mode: "auto" | "none" | "required"
  /** Set when exactly one tool is forced. */
  readonly forced: string | undefined
}

// A tool's JSON Schema is the same on every call that offers it (an agent offers the same tool objects turn after
// turn), and generating it was a measurable part of each call: it is made once per tool object.
const functionTools = new WeakMap<object, FunctionTool>()

const functionTool = (tool: Tool.Any): FunctionTool => {
  let made = functionTools.get(tool)
  if (made === undefined) {
    made = { name: tool.name, description: Tool.getDescription(tool), parameters: Tool.getJsonSchema(tool) }
    functionTools.set(tool, made)
  }
  return made
}

/** Converts `LanguageModel` tools and tool choice into provider-neutral function tools. */
export const resolveTools = (options: LanguageModel.ProviderOptions): ResolvedTools => {
  let tools: Array<FunctionTool> = []
  for (const tool of options.tools) {
    if (Tool.isUserDefined(tool) || Tool.isDynamic(tool)) tools.push(functionTool(tool))
  }
  const choice = options.toolChoice
  if (tools.length === 0) return { tools: [], mode: "none", forced: undefined }
  // With "none" the tools are still declared: some APIs reject tool calls in the history otherwise.
  if (choice === "auto" || choice === "required" || choice === "none") return { tools, mode: choice, forced: undefined }
  if ("tool" in choice) return { tools, mode: "required", forced: choice.tool }
  const allowed = new Set(choice.oneOf)
  tools = tools.filter((tool) => allowed.has(tool.name))
  return { tools, mode: choice.mode ?? "auto", forced: undefined }
}

// Likewise a structured output's codec and JSON Schema: an agent asks for the same schema objects (its plan, its
// reflection) call after call, and `LanguageModel` transforms the schema on every `generateObject`.
const transformed = new WeakMap<object, ReturnType<LanguageModel.CodecTransformer>>()

/**
 * `LanguageModel.defaultCodecTransformer`, made once per schema object (it is a function of the schema alone). A
 * schema it rejects is not kept: it throws again on the next call, as `LanguageModel` expects.
 */
export const codecTransformer: LanguageModel.CodecTransformer = (schema) => {
  let made = transformed.get(schema)
  if (made === undefined) {
    made = LanguageModel.defaultCodecTransformer(schema)
    transformed.set(schema, made)
  }
  return made as any
}

/** The JSON Schema sent for structured output, consistent with how `LanguageModel` decodes it. */
export const responseJsonSchema = (
  options: LanguageModel.ProviderOptions
): { readonly name: string; readonly schema: JsonSchema.JsonSchema } | undefined => {
  if (options.responseFormat.type !== "json") return undefined
  return {
    name: options.responseFormat.objectName,
    schema: codecTransformer(options.responseFormat.schema as any).jsonSchema
  }
}

/** Text of a tool result as the model should read it: strings as-is, anything else as JSON. */
export const toolResultText = (part: Prompt.ToolResultPart): string =>
  typeof part.result === "string" ? part.result : JSON.stringify(part.result ?? null)

/** A file part's bytes as base64, or `undefined` for a URL reference. */
export const fileBase64 = (part: Prompt.FilePart): string | undefined => {
  if (part.data instanceof URL) return undefined
  if (typeof part.data === "string") {
    // A string is either a data URL, a web URL, or already base64.
    if (part.data.startsWith("data:")) return part.data.slice(part.data.indexOf(",") + 1)
    if (/^https?:\/\//.test(part.data)) return undefined
    return part.data
  }
  return Base64.encode(part.data)
}

/** A file part as a URL (data URL when inline). */
export const fileUrl = (part: Prompt.FilePart): string => {
  if (part.data instanceof URL) return part.data.href
  if (typeof part.data === "string" && (part.data.startsWith("data:") || /^https?:\/\//.test(part.data))) {
    return part.data
  }
  return `data:${part.mediaType};base64,${fileBase64(part) ?? ""}`
}

/** One message of a prompt being rendered: its wire role and its content blocks (or parts). */
export interface Entry {
  readonly role: string
  readonly blocks: ReadonlyArray<unknown>
}

/**
 * Joins consecutive entries of the same role and drops empty ones: the Anthropic and Gemini APIs reject two
 * messages of one role in a row (a tool result is a user message there, so it often follows one).
 */
export const alternate = (entries: ReadonlyArray<Entry>): Array<{ readonly role: string; blocks: Array<unknown> }> => {
  const out: Array<{ readonly role: string; blocks: Array<unknown> }> = []
  for (const { role, blocks } of entries) {
    if (blocks.length === 0) continue
    const last = out[out.length - 1]
    if (last !== undefined && last.role === role) last.blocks.push(...blocks)
    else out.push({ role, blocks: [...blocks] })
  }
  return out
}

/** Builds the encoded `Usage` of a finish part. */
export const usage = (params: {
  readonly input: number | undefined
  readonly output: number | undefined
  readonly cacheRead?: number | undefined
  readonly cacheWrite?: number | undefined
  readonly reasoning?: number | undefined
}): Response.FinishPartEncoded["usage"] => ({
  inputTokens: {
    ...(params.input === undefined ? {} : { total: params.input }),
    ...(params.input === undefined
      ? {}
      : { uncached: Math.max(0, params.input - (params.cacheRead ?? 0) - (params.cacheWrite ?? 0)) }),
    ...(params.cacheRead === undefined ? {} : { cacheRead: params.cacheRead }),
    ...(params.cacheWrite === undefined ? {} : { cacheWrite: params.cacheWrite })
  },
  outputTokens: {
    ...(params.output === undefined ? {} : { total: params.output }),
    ...(params.output === undefined ? {} : { text: Math.max(0, params.output - (params.reasoning ?? 0)) }),
    ...(params.reasoning === undefined ? {} : { reasoning: params.reasoning })
  }
})

/**
 * The open text and reasoning blocks of a stream whose provider sends bare deltas (OpenAI, Gemini) rather
 * than block events. A block starts on its first delta, text ends an open reasoning block, and `close` ends
 * whatever is still open. Ids are `reasoning-N` and `text-N`, numbered in order of appearance.
 */
export interface DeltaBlocks {
  readonly reasoning: (delta: string, out: Array<Response.StreamPartEncoded>) => void
  readonly text: (delta: string, out: Array<Response.StreamPartEncoded>) => void
  readonly close: (out: Array<Response.StreamPartEncoded>) => void
}

/** A fresh {@link DeltaBlocks} for one stream. */
export const deltaBlocks = (): DeltaBlocks => {
  let text: string | undefined
  let reasoning: string | undefined
  let blocks = 0
  const endReasoning = (out: Array<Response.StreamPartEncoded>) => {
    if (reasoning !== undefined) out.push({ type: "reasoning-end", id: reasoning })
    reasoning = undefined
  }
  return {
    reasoning: (delta, out) => {
      if (reasoning === undefined) {
        reasoning = `reasoning-${blocks++}`
        out.push({ type: "reasoning-start", id: reasoning })
      }
      out.push({ type: "reasoning-delta", id: reasoning, delta })
    },
    text: (delta, out) => {
      endReasoning(out)
      if (text === undefined) {
        text = `text-${blocks++}`
        out.push({ type: "text-start", id: text })
      }
      out.push({ type: "text-delta", id: text, delta })
    },
    close: (out) => {
      endReasoning(out)
      if (text !== undefined) out.push({ type: "text-end", id: text })
      text = undefined
    }
  }
}

/**
 * The headers of every request: basic authentication from the base URL's credentials (when it had some), the key
 * under the provider's own header (when there is a key), then the configured extra headers, which win.
 */
export const headers = (
  connection: Connection.Resolved,
  key: (apiKey: string) => Record<string, string>
): Record<string, string> => ({
  ...(connection.basicAuth === undefined ? {} : { authorization: connection.basicAuth }),
  ...(connection.apiKey === undefined ? {} : key(connection.apiKey)),
  ...connection.headers
})

/** The methods an adapter hands to `LanguageModel.make`. */
export interface LanguageModelMethods {
  readonly generateText: (
    options: LanguageModel.ProviderOptions
  ) => Effect.Effect<Array<Response.PartEncoded>, AiError.AiError, IdGenerator>
  readonly streamText: (
    options: LanguageModel.ProviderOptions
  ) => Stream.Stream<Response.StreamPartEncoded, AiError.AiError, IdGenerator>
}

/**
 * The adapter's `LanguageModel`, with the connection's secrets and terminal controls removed from every error its
 * methods fail with. The boundary is the finished service, not the adapter's methods, so it also covers the
 * errors `LanguageModel` raises itself after the adapter returned (a tool call whose parameters do not decode
 * quotes them): no call site has to remember to scrub what a server or a model echoed back.
 */
export const languageModel = (
  connection: Connection.Resolved,
  methods: LanguageModelMethods
): Effect.Effect<LanguageModel.LanguageModel> =>
  Effect.map(LanguageModel.make({ ...methods, codecTransformer }), (model) => {
    const clean = (error: unknown) =>
      AiError.isAiError(error) ? ProviderError.redact(error, connection.secrets) : error
    const cleanAi = (error: AiError.AiError) => ProviderError.redact(error, connection.secrets)
    // The methods are generic over their options; the wrappers only change the error values, not the types.
    const loose = model as unknown as {
      readonly generateText: (options: unknown) => Effect.Effect<unknown, unknown, unknown>
      readonly generateObject: (options: unknown) => Effect.Effect<unknown, unknown, unknown>
      readonly streamText: (options: unknown) => Stream.Stream<unknown, unknown, unknown>
    }
    return {
      ...model,
      generateText: (options: unknown) => Effect.mapError(loose.generateText(options), clean),
      generateObject: (options: unknown) => Effect.mapError(loose.generateObject(options), clean),
      streamText: (options: unknown) => Stream.mapError(loose.streamText(options), clean),
      [methodsKey]: {
        generateText: (options: LanguageModel.ProviderOptions) =>
          Effect.mapError(methods.generateText(options), cleanAi),
        streamText: (options: LanguageModel.ProviderOptions) => Stream.mapError(methods.streamText(options), cleanAi)
      } satisfies LanguageModelMethods
    } as unknown as LanguageModel.LanguageModel
  })

const methodsKey = "~@troupe/providers/LanguageModelMethods"

/**
 * The adapter methods behind one of our adapters' `LanguageModel`s (errors already scrubbed), for a wrapper that
 * hands them to its own `LanguageModel.make` rather than decoding the adapter's answer and encoding it again;
 * `undefined` for any other `LanguageModel`.
 */
export const methodsOf = (model: LanguageModel.LanguageModel): LanguageModelMethods | undefined =>
  (model as unknown as { readonly [methodsKey]?: LanguageModelMethods })[methodsKey]

/** `model` with `methods` as the adapter methods `methodsOf` returns (for a wrapper that keeps them in step). */
export const withMethods = (
  model: LanguageModel.LanguageModel,
  methods: LanguageModelMethods
): LanguageModel.LanguageModel => ({ ...model, [methodsKey]: methods }) as unknown as LanguageModel.LanguageModel

/** The embedding counterpart of {@link redactLanguageModel}. */
export const redactEmbedMany =
  (
    connection: Connection.Resolved,
    embedMany: (
      options: EmbeddingModel.ProviderOptions
    ) => Effect.Effect<EmbeddingModel.ProviderResponse, AiError.AiError>
  ) =>
  (options: EmbeddingModel.ProviderOptions): Effect.Effect<EmbeddingModel.ProviderResponse, AiError.AiError> =>
    Effect.mapError(embedMany(options), (error) => ProviderError.redact(error, connection.secrets))
