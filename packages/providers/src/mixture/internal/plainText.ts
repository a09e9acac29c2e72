/**
 * The mixture's `generateText` for a request without a toolkit (and a pooled model's `generateText` and
 * `generateObject`): what `LanguageModel.make` does for one (the span and its attributes, the prompt, the
 * `IdGenerator`, the span transformer, for an object its codec and the parse of the answer's text) without a
 * parts decoder compiled for the request. The winner's parts were decoded once, when it answered; a pooled
 * model's are decoded with decoders compiled once. `LanguageModel` compiles a new parts decoder for every such
 * request (and a new JSON decoder for every object), and that was the larger part of the wrapper's own cost on
 * the path of every answer. Requests it does not cover (a toolkit, tool calls left undecided, a
 * `ResponseIdTracker`, approvals in the prompt, an object without a name) go through `LanguageModel` as before.
 */
import * as AiError from "effect/ai/AiError"
import * as IdGenerator from "effect/ai/IdGenerator"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as ResponseIdTracker from "effect/ai/ResponseIdTracker"
import * as Telemetry from "effect/ai/Telemetry"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Mixture from "../Mixture.ts"
import * as Answer from "./answer.ts"

/** The options of `LanguageModel.generateText` and `generateObject` this module reads. */
interface Options {
  readonly prompt: Prompt.RawInput
  readonly toolkit?: unknown
  readonly toolChoice?: LanguageModel.ToolChoice<string> | undefined
  readonly concurrency?: unknown
  readonly disableToolCallResolution?: boolean | undefined
  readonly toolCallValidation?: "strict" | "deferred" | undefined
}

interface ObjectOptions extends Options {
  readonly objectName?: string | undefined
  readonly schema: Schema.Top
}

type GenerateText = (options: Options) => Effect.Effect<LanguageModel.GenerateTextResponse<{}>, AiError.AiError>

type GenerateObject = (
  options: ObjectOptions
) => Effect.Effect<LanguageModel.GenerateObjectResponse<{}, unknown>, AiError.AiError>

/** The decoded parts of the answer to `request`, a request without tools, for `method`. */
export type Answering = (
  request: LanguageModel.ProviderOptions,
  method: "generateText" | "generateObject"
) => Effect.Effect<Array<Response.AnyPart>, AiError.AiError, IdGenerator.IdGenerator>

// `LanguageModel` resolves approvals in the prompt only against a toolkit (and fails without one): left to it.
const hasApprovals = (prompt: Prompt.Prompt): boolean =>
  prompt.content.some(
    (message) => message.role === "tool" && message.content.some((part) => part.type === "tool-approval-response")
  )

// A structured output's JSON decoder, compiled once per codec (`LanguageModel` compiles one per call).
const jsonDecoders = new WeakMap<object, (text: string) => Effect.Effect<unknown, Schema.SchemaError>>()

const jsonDecoderOf = (codec: Schema.Codec<unknown, unknown>) => {
  let decode = jsonDecoders.get(codec)
  if (decode === undefined) {
    decode = Schema.decodeEffect(Schema.fromJsonString(codec)) as (
      text: string
    ) => Effect.Effect<unknown, Schema.SchemaError>
    jsonDecoders.set(codec, decode)
  }
  return decode
}

const objectFailure = (reason: AiError.AiErrorReason) =>
  AiError.make({ module: "LanguageModel", method: "generateObject", reason })

// The object in the answer's text, as `LanguageModel.generateObject` reads it.
const structuredOutput = (content: ReadonlyArray<Response.AnyPart>, codec: Schema.Codec<unknown, unknown>) => {
  let text = ""
  for (const part of content) if (part.type === "text") text += part.text
  if (text.length === 0) {
    return Effect.fail(
      objectFailure(
        new AiError.StructuredOutputError({ description: "No text content in response", responseText: text })
      )
    )
  }
  return Effect.mapError(jsonDecoderOf(codec)(text), (error) =>
    objectFailure(AiError.StructuredOutputError.fromSchemaError(error, text))
  )
}

/**
 * `model` (the mixture's `LanguageModel`) with a `generateText` that decides requests without a toolkit through
 * `decide` directly and answers with the winner's decoded parts.
 */
export const around = (
  model: LanguageModel.LanguageModel,
  decide: (request: LanguageModel.ProviderOptions) => Effect.Effect<Mixture.Decision, AiError.AiError>,
  strategy: string
) =>
  aroundAnswers(model, (request) => Effect.flatMap(decide(request), (decision) => Answer.decoded(decision, strategy)))

/**
 * `model` with a `generateText` (and, given the `codecTransformer` `model` was made with, a `generateObject`) that
 * answers a request without a toolkit with `answer`'s parts.
 */
export const aroundAnswers = Effect.fnUntraced(function* (
  model: LanguageModel.LanguageModel,
  answer: Answering,
  codecTransformer?: LanguageModel.CodecTransformer
) {
  // As `LanguageModel.make` does: the generator and span transformer of the context it was made in.
  const ids = Option.getOrElse(
    yield* Effect.serviceOption(IdGenerator.IdGenerator),
    () => IdGenerator.defaultIdGenerator
  )
  const parentTransformer = yield* Effect.serviceOption(Telemetry.CurrentSpanTransformer)
  const slowText = model.generateText as unknown as GenerateText
  const slowObject = model.generateObject as unknown as GenerateObject

  // The request `LanguageModel` would hand to the provider, its span annotated as `LanguageModel` does.
  const requestOf = (
    options: Options,
    prompt: Prompt.Prompt,
    span: LanguageModel.ProviderOptions["span"],
    responseFormat: LanguageModel.ProviderOptions["responseFormat"]
  ): LanguageModel.ProviderOptions => {
    const toolChoice = options.toolChoice ?? "auto"
    span.attribute("gen_ai.output.type", responseFormat.type)
    span.attribute("effect.ai.tool_choice", typeof toolChoice === "string" ? toolChoice : JSON.stringify(toolChoice))
    span.attribute("effect.ai.concurrency", options.concurrency ?? "unbounded")
    return {
      prompt,
      tools: [],
      toolChoice: "none",
      responseFormat,
      span,
      previousResponseId: undefined,
      incrementalPrompt: undefined
    }
  }

  const answered = (request: LanguageModel.ProviderOptions, method: "generateText" | "generateObject") =>
    Effect.flatMap(answer(request, method), (content) =>
      Effect.map(Effect.serviceOption(Telemetry.CurrentSpanTransformer), (transformer) => {
        const apply = Option.orElse(transformer, () => parentTransformer)
        if (Option.isSome(apply)) apply.value({ ...request, response: content })
        return content
      })
    )

  const directText = (options: Options, prompt: Prompt.Prompt) =>
    Effect.useSpan("LanguageModel.generateText", { kind: "client" }, (span) =>
      answered(requestOf(options, prompt, span, { type: "text" }), "generateText").pipe(
        Effect.map((content) => new LanguageModel.GenerateTextResponse<{}>(content as Array<Response.Part<{}>>)),
        Effect.withParentSpan(span, { captureStackTrace: false }),
        Effect.provideService(IdGenerator.IdGenerator, ids)
      )
    )

  const directObject = (
    options: ObjectOptions,
    prompt: Prompt.Prompt,
    objectName: string,
    transform: LanguageModel.CodecTransformer
  ) =>
    Effect.useSpan(
      "LanguageModel.generateObject",
      { kind: "client", attributes: { "effect.ai.object_name": objectName } },
      (span) =>
        answered(
          requestOf(options, prompt, span, { type: "json", objectName, schema: options.schema }),
          "generateObject"
        ).pipe(
          Effect.flatMap((content) =>
            Effect.try({
              try: () =>
                transform(options.schema as Schema.Codec<unknown, unknown>).codec as Schema.Codec<unknown, unknown>,
              catch: (error) =>
                objectFailure(
                  new AiError.UnsupportedSchemaError({
                    description: error instanceof Error ? error.message : String(error)
                  })
                )
            }).pipe(
              Effect.flatMap((codec) => structuredOutput(content, codec)),
              Effect.map(
                (value) =>
                  new LanguageModel.GenerateObjectResponse<{}, unknown>(value, content as Array<Response.Part<{}>>)
              )
            )
          ),
          Effect.withParentSpan(span, { captureStackTrace: false }),
          Effect.provideService(IdGenerator.IdGenerator, ids)
        )
    )

  // Whether this module may answer `options` itself (it still checks for a tracker and approvals in the prompt).
  const plain = (options: Options): boolean =>
    options.toolkit === undefined &&
    !(options.disableToolCallResolution === true && options.toolCallValidation === "deferred")

  const generateText: GenerateText = (options) => {
    if (!plain(options)) return slowText(options)
    return Effect.flatMap(Effect.serviceOption(ResponseIdTracker.ResponseIdTracker), (tracker) => {
      if (Option.isSome(tracker)) return slowText(options)
      const prompt = Prompt.make(options.prompt)
      return hasApprovals(prompt) ? slowText({ ...options, prompt }) : directText(options, prompt)
    })
  }

  const generateObject: GenerateObject = (options) => {
    const objectName = options.objectName
    if (codecTransformer === undefined || objectName === undefined || !plain(options)) return slowObject(options)
    return Effect.flatMap(Effect.serviceOption(ResponseIdTracker.ResponseIdTracker), (tracker) => {
      if (Option.isSome(tracker)) return slowObject(options)
      const prompt = Prompt.make(options.prompt)
      return hasApprovals(prompt)
        ? slowObject({ ...options, prompt })
        : directObject(options, prompt, objectName, codecTransformer)
    })
  }

  return { ...model, generateText, generateObject } as unknown as LanguageModel.LanguageModel
})
