/**
 * The Mixture of Providers: one `LanguageModel` that asks several providers and returns the best answer.
 *
 * Every request is fanned out to the members (each with its own timeout, through the shared `ProviderPool`'s
 * breakers, rate limits and accounting). A failing provider is excluded and recorded, never fatal while one
 * answers. Strategies:
 * - `weightedScore` — wait for every answer, score each with pluggable scorers (quality, schema validity,
 *   tool-call validity, agreement, optionally a judge model) times the provider's weight; the best wins.
 * - `firstValid` — the first acceptable answer wins and the other calls are interrupted.
 * - `quorum(k)` — the first answer that k providers agree on wins; the other calls are interrupted.
 * - `fallback` — providers in order, each retried on retryable failures, until one gives an acceptable answer.
 *
 * Hedging (`hedge: { after }`, for `firstValid` and `fallback`) starts providers one by one: the next one starts
 * when the running ones have not answered within `after`, or at once when one fails.
 *
 * Losing calls are interrupted in the background right after the decision (their HTTP requests are aborted
 * once the caller has its answer). Without hedging, members start slowest-first when every answer is awaited,
 * fastest-first when the first answers win, and the k fastest (the k-th first) ahead of the others for `quorum(k)`,
 * by the latency the pool has observed.
 *
 * Failure: when no provider gives an acceptable answer the mixture fails with `MixtureFailed`, which carries every
 * provider's reason. `LanguageModel`'s error channel only admits `AiError`, so the mixture's service surfaces it
 * as an `AiError` (module "Mixture") whose reason is the providers' common reason when they all failed alike
 * (so `isRetryable`, `retryAfter` and `catchReason("AuthenticationError")` keep working), or `UnknownError`
 * otherwise; either way `reason.metadata.mixture` holds the encoded `MixtureFailed` and `failureOf(error)`
 * gives it back. `decide` returns `MixtureFailed` directly.
 *
 * The winner is reported in the answer's `response-metadata` part (`metadata.mixture`: provider, model,
 * strategy, scores); `decisionOf(response)` reads it. Every fan-out is also published by the pool as a
 * `MixtureEvent.FanOut`.
 *
 * Streaming: `firstValid` on a plain text request streams the first provider to produce content and interrupts the
 * others, skipping a provider whose opening text is a refusal; with tools or a structured output it decides first,
 * like the other strategies (and hedged `firstValid`), then streams the winner's answer. While streaming, a
 * member's `timeout` bounds its time to the first content part only.
 *
 * @example
 * ```ts
 * import type * as LanguageModel from "effect/ai/LanguageModel"
 * import * as Layer from "effect/Layer"
 * import { Mixture, ProviderPool } from "@troupe/providers"
 *
 * const model = (openai: LanguageModel.LanguageModel, anthropic: LanguageModel.LanguageModel) =>
 *   Mixture.layer({
 *     members: [
 *       { provider: "openai", model: "gpt-4o-mini", languageModel: openai, timeout: "20 seconds" },
 *       { provider: "anthropic", model: "claude-3-5-haiku-latest", languageModel: anthropic, weight: 1.2 }
 *     ],
 *     strategy: Mixture.weightedScore()
 *   }).pipe(Layer.provide(ProviderPool.layer()))
 * ```
 */
import type * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Answer from "./internal/answer.ts"
import * as Call from "./internal/call.ts"
import * as Failure from "./internal/failure.ts"
import * as FanOut from "./internal/fanOut.ts"
import * as PlainText from "./internal/plainText.ts"
import * as Strategies from "./internal/strategy.ts"
import * as Streaming from "./internal/streaming.ts"
import type * as MixtureError from "./MixtureError.ts"
import type * as MixtureEvent from "./MixtureEvent.ts"
import * as ProviderPool from "./ProviderPool.ts"
import type * as Scorer from "./Scorer.ts"
import * as Scorers from "./Scorers.ts"
import { strategyNames } from "./StrategyNames.ts"

// -----------------------------------------------------------------------------
// Model
// -----------------------------------------------------------------------------

/** One provider of the mixture. */
export interface Member {
  /** The provider's name, the key of its breaker, limits and accounting in the pool (`openai`, `anthropic`...). */
  readonly provider: string
  /** The model id, for pricing and reports. */
  readonly model: string
  /** Its weight in `weightedScore` (default 1). */
  readonly weight?: number
  /**
   * Its time limit per call, rate-limit wait included (default {@link defaultMemberTimeout}). A streamed call is bounded only up to
   * its first content part; the adapter's own between-events timeout takes over from there.
   */
  readonly timeout?: Duration.Input
  readonly languageModel: LanguageModel.LanguageModel
}

/** How the mixture picks its answer. */
export type Strategy =
  | {
      readonly _tag: "WeightedScore"
      readonly scorers: ReadonlyArray<Scorer.Scorer>
    }
  | { readonly _tag: "FirstValid" }
  | { readonly _tag: "Quorum"; readonly k: number; readonly threshold: number }
  | { readonly _tag: "Fallback"; readonly retries: number; readonly backoff: Duration.Input }

/** A mixture. */
export interface Options {
  readonly members: ReadonlyArray<Member>
  readonly strategy: Strategy
  /** Start providers one by one (`firstValid` and `fallback` only): the next after `after` without an answer. */
  readonly hedge?: { readonly after: Duration.Input }
}

/** The mixture's answer and how it was chosen. */
export interface Decision {
  readonly winner: Scorer.Candidate
  /** The scores of every answer that was scored (scoring strategies), winner included. */
  readonly scores: ReadonlyArray<{ readonly provider: string; readonly score: number; readonly rejectedBy?: string }>
  readonly event: MixtureEvent.FanOut
}

/** A member's time limit per call when it sets none: 60 seconds. */
export const defaultMemberTimeout: Duration.Duration = Call.defaultTimeout

// -----------------------------------------------------------------------------
// Strategies
// -----------------------------------------------------------------------------

/** The names of the strategies, as configurations write them (`--strategy`, a spec's `mixture.strategy`). */
export { strategyNames }

/** The name of a strategy. */
export const StrategyName = Schema.Literals(strategyNames)

/** The name of a strategy. */
export type StrategyName = typeof StrategyName.Type

/** Retries per provider under `fallback` when a configuration sets none. */
export const defaultRetries = 1

/**
 * The strategy a configuration names. `quorum` needs `quorum` providers to agree (a majority of `members` when
 * absent); `retries` is how often `fallback` retries each provider on a retryable failure (default
 * {@link defaultRetries}). The other strategies ask every provider once: a failing one is dropped, not retried,
 * as the others are already asked.
 */
export const strategyNamed = (
  name: StrategyName,
  options: {
    readonly members: number
    readonly quorum?: number | undefined
    readonly retries?: number | undefined
    /** The judge model of `weighted-score` (ignored by the other strategies, which score nothing). */
    readonly judge?: Scorers.JudgeModel | undefined
  }
): Strategy => {
  switch (name) {
    case "weighted-score":
      return weightedScore(options.judge === undefined ? {} : { judge: options.judge })
    case "first-valid":
      return firstValid
    case "quorum":
      return quorum(options.quorum ?? Math.floor(options.members / 2) + 1)
    case "fallback":
      return fallback({ retries: options.retries ?? defaultRetries })
  }
}

/**
 * Score every answer and return the best. `scorers` default to `Scorers.defaults`; `judge` adds a judge model
 * scorer (one extra call per fan-out, billed in the answer's charges; through the pool when named by provider
 * and model), which scores neutrally when it has not answered within `judgeTimeout` (default 30 seconds).
 */
export const weightedScore = (
  options: {
    readonly scorers?: ReadonlyArray<Scorer.Scorer>
    readonly judge?: LanguageModel.LanguageModel | Scorers.JudgeModel
    readonly judgeTimeout?: Duration.Input
  } = {}
): Strategy => ({
  _tag: "WeightedScore",
  scorers: [
    ...(options.scorers ?? Scorers.defaults),
    ...(options.judge === undefined
      ? []
      : [Scorers.judge(options.judge, options.judgeTimeout === undefined ? {} : { timeout: options.judgeTimeout })])
  ]
})

/**
 * Return the first acceptable answer and interrupt the other calls. Streamed, a plain text answer is screened for
 * refusals on its opening only (see the module docs).
 */
export const firstValid: Strategy = { _tag: "FirstValid" }

/**
 * Return the first answer that `k` providers agree on (similarity ≥ `threshold`, default 0.8: identical tool
 * calls or JSON, or texts sharing most of their words), interrupting the other calls.
 */
export const quorum = (k: number, options: { readonly threshold?: number } = {}): Strategy => ({
  _tag: "Quorum",
  k: Math.max(1, k),
  threshold: options.threshold ?? 0.8
})

/** Ask providers in order, retrying each `retries` times (default 1) on retryable failures with `backoff`. */
export const fallback = (options: { readonly retries?: number; readonly backoff?: Duration.Input } = {}): Strategy => ({
  _tag: "Fallback",
  retries: Math.max(0, options.retries ?? defaultRetries),
  backoff: options.backoff ?? Duration.millis(200)
})

/** The name of a strategy, as reported in events and answers. */
export const strategyName: (strategy: Strategy) => string = Strategies.strategyName

// -----------------------------------------------------------------------------
// Deciding
// -----------------------------------------------------------------------------

/**
 * Runs one fan-out and returns the winner, or `MixtureFailed` with every provider's reason. The fan-out is
 * recorded in the pool either way.
 */
export const decide: (
  options: Options
) => (
  request: LanguageModel.ProviderOptions
) => Effect.Effect<Decision, MixtureError.MixtureFailed, ProviderPool.ProviderPool> = FanOut.decide

// -----------------------------------------------------------------------------
// Surfacing through LanguageModel
// -----------------------------------------------------------------------------

/** The `AiError` the mixture's `LanguageModel` fails with for a `MixtureFailed` (see the module docs). */
export const toAiError: (failed: MixtureError.MixtureFailed, method: string) => AiError.AiError = Failure.toAiError

/** The `MixtureFailed` carried by an `AiError` from a mixture, if it is one. */
export const failureOf: (error: AiError.AiError) => MixtureError.MixtureFailed | undefined = Failure.failureOf

/** The decision of the mixture that produced `response`, if a mixture did. */
export const decisionOf: (response: {
  readonly content: ReadonlyArray<{ readonly type: string }>
}) => MixtureEvent.DecisionSummary | undefined = Answer.decisionOf

/** Builds the mixture's `LanguageModel`. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const pool = yield* ProviderPool.ProviderPool
  const run = FanOut.decideOn(options)
  const name = strategyName(options.strategy)

  const decideText = (request: LanguageModel.ProviderOptions) =>
    Effect.mapError(run(pool, request), (failed) => toAiError(failed, "generateText"))
  const generateText = (request: LanguageModel.ProviderOptions) =>
    Effect.flatMap(decideText(request), (decision) => Answer.encode(decision, name))

  const streamFirst = Streaming.first(options, pool, name)
  const streamDecided = (request: LanguageModel.ProviderOptions) =>
    Stream.unwrap(Effect.map(generateText(request), Streaming.replay))

  const model = yield* LanguageModel.make({
    generateText,
    streamText: (request) =>
      options.strategy._tag === "FirstValid" && options.hedge === undefined && !Streaming.decidesFirst(request)
        ? streamFirst(request)
        : streamDecided(request)
  })
  return yield* PlainText.around(model, decideText, name)
})

/** The mixture as the program's `LanguageModel`, on the shared `ProviderPool`. */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, ProviderPool.ProviderPool> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
