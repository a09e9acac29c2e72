/**
 * The mixture's `generateText` for a request without a toolkit: what `LanguageModel.make` does for one (the span
 * and its attributes, the prompt, the `IdGenerator`, the span transformer) without encoding the winner's answer
 * for `LanguageModel` to decode it again. The winner's parts were decoded once, when it answered; `LanguageModel`
 * compiles a new parts decoder for every such request, and that round trip was the larger part of the mixture's
 * own cost on the path of every answer. Requests it does not cover (a toolkit, tool calls left undecided, a
 * `ResponseIdTracker`, approvals in the prompt) go through `LanguageModel` as before.
 */
import type * as AiError from "effect/ai/AiError"
import * as IdGenerator from "effect/ai/IdGenerator"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as ResponseIdTracker from "effect/ai/ResponseIdTracker"
import * as Telemetry from "effect/ai/Telemetry"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Mixture from "../Mixture.ts"
import * as Answer from "./answer.ts"

/** The options of `LanguageModel.generateText` this module reads. */
interface Options {
  readonly prompt: Prompt.RawInput
  readonly toolkit?: unknown
  readonly toolChoice?: LanguageModel.ToolChoice<string> | undefined
  readonly concurrency?: unknown
  readonly disableToolCallResolution?: boolean | undefined
  readonly toolCallValidation?: "strict" | "deferred" | undefined
}

type GenerateText = (options: Options) => Effect.Effect<LanguageModel.GenerateTextResponse<{}>, AiError.AiError>

// `LanguageModel` resolves approvals in the prompt only against a toolkit (and fails without one): left to it.
const hasApprovals = (prompt: Prompt.Prompt): boolean =>
  prompt.content.some(
    (message) => message.role === "tool" && message.content.some((part) => part.type === "tool-approval-response")
  )

/**
 * `model` (the mixture's `LanguageModel`) with a `generateText` that decides requests without a toolkit through
 * `decide` directly and answers with the winner's decoded parts.
 */
export const around = Effect.fnUntraced(function* (
  model: LanguageModel.LanguageModel,
  decide: (request: LanguageModel.ProviderOptions) => Effect.Effect<Mixture.Decision, AiError.AiError>,
  strategy: string
) {
  // As `LanguageModel.make` does: the generator and span transformer of the context it was made in.
  const ids = Option.getOrElse(
    yield* Effect.serviceOption(IdGenerator.IdGenerator),
    () => IdGenerator.defaultIdGenerator
  )
  const parentTransformer = yield* Effect.serviceOption(Telemetry.CurrentSpanTransformer)
  const slow = model.generateText as unknown as GenerateText

  const direct = (options: Options, prompt: Prompt.Prompt) =>
    Effect.useSpan("LanguageModel.generateText", { kind: "client" }, (span) => {
      const toolChoice = options.toolChoice ?? "auto"
      span.attribute("gen_ai.output.type", "text")
      span.attribute("effect.ai.tool_choice", typeof toolChoice === "string" ? toolChoice : JSON.stringify(toolChoice))
      span.attribute("effect.ai.concurrency", options.concurrency ?? "unbounded")
      const request: LanguageModel.ProviderOptions = {
        prompt,
        tools: [],
        toolChoice: "none",
        responseFormat: { type: "text" },
        span,
        previousResponseId: undefined,
        incrementalPrompt: undefined
      }
      return decide(request).pipe(
        Effect.flatMap((decision) => Answer.decoded(decision, strategy)),
        Effect.flatMap((content) =>
          Effect.map(Effect.serviceOption(Telemetry.CurrentSpanTransformer), (transformer) => {
            const apply = Option.orElse(transformer, () => parentTransformer)
            if (Option.isSome(apply)) apply.value({ ...request, response: content })
            return new LanguageModel.GenerateTextResponse<{}>(content as Array<Response.Part<{}>>)
          })
        ),
        Effect.withParentSpan(span, { captureStackTrace: false }),
        Effect.provideService(IdGenerator.IdGenerator, ids)
      )
    })

  const generateText: GenerateText = (options) => {
    if (
      options.toolkit !== undefined ||
      (options.disableToolCallResolution === true && options.toolCallValidation === "deferred")
    ) {
      return slow(options)
    }
    return Effect.flatMap(Effect.serviceOption(ResponseIdTracker.ResponseIdTracker), (tracker) => {
      if (Option.isSome(tracker)) return slow(options)
      const prompt = Prompt.make(options.prompt)
      return hasApprovals(prompt) ? slow({ ...options, prompt }) : direct(options, prompt)
    })
  }

  return { ...model, generateText } as unknown as LanguageModel.LanguageModel
})
