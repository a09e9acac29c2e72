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
 * import * as Effect from "effect/Effect"
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
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Answer from "./internal/answer.ts"
import * as Call from "./internal/call.ts"
import * as Failure from "./internal/failure.ts"
import * as Streaming from "./internal/streaming.ts"
import type * as Mixture from "./Mixture.ts"
import * as MixtureError from "./MixtureError.ts"
import * as ProviderPool from "./ProviderPool.ts"

/** The strategy name a pooled single model reports in its decision summary. */
export const strategyName = "single"

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

  const generateText = (request: LanguageModel.ProviderOptions) =>
    pool
      .call(target, Call.generate(member.languageModel, request), {
        usageOf: Call.usageOf,
        estimatedTokens: Call.estimatedTokens(request.prompt)
      })
      .pipe(
        Effect.mapError(toAiError("generateText")),
        Effect.flatMap((accounted) =>
          Answer.encodeWith(
            accounted.value.content,
            {
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
            },
            "generateText"
          )
        )
      )

  return yield* LanguageModel.make({
    generateText,
    streamText: (request) => Stream.unwrap(Effect.map(generateText(request), Streaming.replay))
  })
})
