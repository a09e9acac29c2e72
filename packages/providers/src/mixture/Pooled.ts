/**
 * One provider's model through the `ProviderPool`, without the mixture's fan-out: every call passes the provider's
 * breaker, rate limiter and timeout, and is accounted in the pool. What an agent with a single `model:` uses, so
 * that breakers, limits and accounting hold for it as for a mixture.
 *
 * The answer reports its billing like a mixture's (`Mixture.decisionOf(response)`, strategy `single`, one charge).
 * Failures of the provider pass through as they are; the pool's own refusals (open breaker, rate limit, timeout)
 * become an `AiError` whose metadata holds a one-provider `MixtureFailed` (`Mixture.failureOf`).
 *
 * `streamText` streams as the provider generates (`ProviderPool.stream`): the breaker and rate limiter admit the
 * stream before its first part, the member's `timeout` bounds the wait for its first content (not the whole answer),
 * and the outcome and tokens are recorded when it ends; a stream cut short is charged an estimate. The decision
 * summary (one charge) is only known at the end, so the answer's `response-metadata` part comes last, just before
 * its `finish`: `Mixture.decisionOf` reads it from the collected parts as from a `generateText` answer. (A mixture's
 * own `streamText` mostly decides first and replays the winner: it cannot know the winner before the answers.)
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
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Response from "effect/ai/Response"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Common from "../internal/common.ts"
import * as Answer from "./internal/answer.ts"
import * as Call from "./internal/call.ts"
import * as Failure from "./internal/failure.ts"
import * as PlainText from "./internal/plainText.ts"
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

const encodeStreamPart = Schema.encodeUnknownEffect(Response.StreamPart())

// What the pool reads of an encoded stream part: the finish part's usage, content, and its characters for an estimate.
const streamReading = {
  usageOf: (part: Response.StreamPartEncoded): ProviderPool.TokenUsage | undefined =>
    part.type === "finish" ? encodedUsage([part as Response.PartEncoded]) : undefined,
  isContent: (part: Response.StreamPartEncoded): boolean =>
    part.type === "text-delta" ||
    part.type === "reasoning-delta" ||
    part.type === "tool-call" ||
    part.type === "tool-params-start" ||
    part.type === "file",
  charactersOf: (part: Response.StreamPartEncoded): number =>
    part.type === "text-delta" || part.type === "reasoning-delta" || part.type === "tool-params-delta"
      ? part.delta.length
      : 0
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

  const summaryOf = (
    accounted: ProviderPool.Accounted<unknown>,
    estimated = accounted.usage === undefined
  ): MixtureEvent.DecisionSummary => ({
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
        estimated
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

  // The provider's stream, encoded: one of our adapters' as it sends it, any other model's parts encoded here.
  const providerStream = (request: LanguageModel.ProviderOptions) =>
    methods === undefined
      ? (Stream.mapEffect(Call.stream(member.languageModel, request), (part) =>
          Effect.mapError(encodeStreamPart(part), Answer.schemaFailure("streamText"))
        ) as Stream.Stream<Response.StreamPartEncoded, AiError.AiError>)
      : methods.streamText(request)

  // The answer's metadata and finish wait for the end of the stream, when the pool has accounted it: the decision
  // summary goes in the metadata part, which then comes just before the finish.
  const streamText = (request: LanguageModel.ProviderOptions) =>
    Stream.suspend(() => {
      let summary: MixtureEvent.DecisionSummary | undefined
      const held: Array<Response.StreamPartEncoded> = []
      return pool
        .stream(target, providerStream(request), {
          ...streamReading,
          estimatedTokens: Call.estimatedTokens(request.prompt),
          settled: (accounted, estimated) => {
            summary = summaryOf(accounted, estimated)
          }
        })
        .pipe(
          Stream.mapError(toAiError("streamText")),
          Stream.filter((part) => {
            if (part.type !== "response-metadata" && part.type !== "finish") return true
            held.push(part)
            return false
          }),
          Stream.concat(
            Stream.suspend(() => Stream.fromIterable(summary === undefined ? held : Answer.annotate(held, summary)))
          )
        )
    })

  // A request without tools is answered without `LanguageModel`'s decoder compiled per request: the answer's parts
  // are decoded here with decoders compiled once, as `LanguageModel` would decode them.
  const answer: PlainText.Answering = (request, method) =>
    Effect.flatMap(generateText(request), (parts) =>
      Effect.mapError(Answer.decodeParts(parts), (error) =>
        AiError.make({ module: "LanguageModel", method, reason: AiError.InvalidOutputError.fromSchemaError(error) })
      )
    )

  const model = yield* LanguageModel.make({ generateText, streamText, codecTransformer: Common.codecTransformer })
  return yield* PlainText.aroundAnswers(model, answer, Common.codecTransformer)
})
