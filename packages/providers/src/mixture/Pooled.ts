/**
 * One provider's model through the `ProviderPool`, without the mixture's fan-out: every call passes the provider's
 * breaker, rate limiter and timeout, and is accounted in the pool. What an agent with a single `model:` uses, so
 * that breakers, limits and accounting hold for it as for a mixture.
 *
 * The answer reports its billing like a mixture's (`Mixture.decisionOf(response)`, strategy `single`, one charge).
 * Failures of the provider pass through as they are; the pool's own refusals (open breaker, rate limit, timeout)
 * become an `AiError` whose metadata holds a one-provider `MixtureFailed` (`Mixture.failureOf`).
 *
 * Gotcha: `streamText` decides first and then replays the answer, so text arrives at once rather than as it is
 * generated.
 *
 * @example
 * ```ts
 * import type * as Response from "effect/ai/Response"
import * as Effect from "effect/Effect"
 * import { Pooled, ProviderConfig } from "@troupe/providers"
 *
 * const model = Effect.gen(function* () {
 *   const languageModel = yield* ProviderConfig.languageModel("openai", "gpt-5-mini")
 *   return yield* Pooled.make({ provider: "openai", model: "gpt-5-mini", languageModel })
 * })
 * ```
 */
import type * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Response from "effect/ai/Response"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Common from "../internal/common.ts"
import * as Answer from "./internal/answer.ts"
import * as Call from "./internal/call.ts"
import * as Failure from "./internal/failure.ts"
import * as Streaming from "./internal/streaming.ts"
import type * as Mixture from "./Mixture.ts"
import * as MixtureError from "./MixtureError.ts"
import type * as MixtureEvent from "./MixtureEvent.ts"
import * as ProviderPool from "./ProviderPool.ts"

/** The strategy name a pooled single model reports in its decision summary. */
export const strategyName = "single"

// The usage in an encoded answer's finish part.
const encodedUsage = (parts: ReadonlyArray<Response.PartEncoded>): ProviderPool.TokenUsage | undefined => {
  const finish = parts.find((p) => p.type === "finish") as
    | {
        readonly usage?: {
          readonly inputTokens?: { readonly total?: number }
          readonly outputTokens?: { readonly total?: number }
        }
      }
    | undefined
  return finish?.usage === undefined
    ? undefined
    : { inputTokens: finish.usage.inputTokens?.total ?? 0, outputTokens: finish.usage.outputTokens?.total ?? 0 }
}

/** Builds the pooled `LanguageModel` of one member (its `weight` is ignored). */
export const make = Effect.fnUntraced(function* (member: Mixture.Member) {
  const pool = yield* ProviderPool.ProviderPool
  const target = Call.target(member)

  const toAiError =
    (method: string) =>
    (error: ProviderPool.CallError): AiError.AiError =>
      error._tag === "AiError"
        ? error
        : Failure.toAiError(
            new MixtureError.MixtureFailed({
              strategy: strategyName,
              failures: [Failure.providerFailure(member, error)]
            }),
            method
          )

  const summaryOf = (accounted: ProviderPool.Accounted<unknown>): MixtureEvent.DecisionSummary => ({
    provider: member.provider,
    model: member.model,
    strategy: strategyName,
    scores: [],
    charges: [
      {
        provider: member.provider,
        model: member.model,
        inputTokens: accounted.usage?.inputTokens ?? 0,
        outputTokens: accounted.usage?.outputTokens ?? 0,
        ...(accounted.costUsd === undefined ? {} : { costUsd: accounted.costUsd }),
        estimated: accounted.usage === undefined
      }
    ]
  })

  // One of our adapters hands over its own methods, whose answer is already encoded: the pool wraps them
  // directly, sparing a decode and an encode of every answer. Any other model is called as a LanguageModel.
  const methods = Common.methodsOf(member.languageModel)
  const generateText = (request: LanguageModel.ProviderOptions) =>
    methods === undefined
      ? pool
          .call(target, Call.generate(member.languageModel, request), {
            usageOf: Call.usageOf,
            estimatedTokens: Call.estimatedTokens(request.prompt)
          })
          .pipe(
            Effect.mapError(toAiError("generateText")),
            Effect.flatMap((accounted) =>
              Answer.encodeWith(accounted.value.content, summaryOf(accounted), "generateText")
            )
          )
      : pool
          .call(target, methods.generateText(request), {
            usageOf: encodedUsage,
            estimatedTokens: Call.estimatedTokens(request.prompt)
          })
          .pipe(
            Effect.mapError(toAiError("generateText")),
            Effect.map((accounted) => Answer.annotate(accounted.value, summaryOf(accounted)))
          )

  return yield* LanguageModel.make({
    generateText,
    streamText: (request) => Stream.unwrap(Effect.map(generateText(request), Streaming.replay))
  })
})
