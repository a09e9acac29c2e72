/**
 * How a strategy steers the fan-out: the rules the fan-out asks of it (who starts when, what counts as an
 * answer, when the race is decided), one implementation per strategy.
 */
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Effect from "effect/Effect"
import type * as Mixture from "../Mixture.ts"
import type * as MixtureEvent from "../MixtureEvent.ts"
import type * as ProviderPool from "../ProviderPool.ts"
import type * as Scorer from "../Scorer.ts"
import type * as Attempts from "./attempts.ts"
import * as Fallback from "./fallback.ts"
import * as FirstValid from "./firstValid.ts"
import * as Quorum from "./quorum.ts"
import * as WeightedScore from "./weightedScore.ts"

/** The winner, if any, and the scores of every answer that was scored. */
export interface Verdict {
  readonly winner: Scorer.Candidate | undefined
  readonly scores: Mixture.Decision["scores"]
  /** The billable calls the scorers made (a judge model's). */
  readonly scoring?: ReadonlyArray<MixtureEvent.Attempt>
}

/** What the fan-out asks of a strategy. */
export interface Rules {
  /** Whether answers go through the rejection gate as they arrive (a rejected answer is out of the race). */
  readonly screens: boolean
  /** Whether providers are asked one at a time, the next as soon as one fails or is rejected. */
  readonly sequential: boolean
  /** Whether `hedge` applies. */
  readonly hedgeable: boolean
  /**
   * The launch order when not hedged: as configured, or by the latency the pool has observed, given how many of
   * the fastest answers the strategy waits for (`awaits`: 1 for the first answer, every member for all of them).
   */
  readonly order: "configured" | { readonly awaits: number }
  /** Wraps each member's call (where retries go). */
  readonly persist: <A>(call: Effect.Effect<A, ProviderPool.CallError>) => Effect.Effect<A, ProviderPool.CallError>
  /** A fresh tally per fan-out: takes each accepted answer as it arrives, returns the winner once decided. */
  readonly tally: () => (candidate: Scorer.Candidate) => Scorer.Candidate | undefined
  /** Decides once every call has ended, for strategies that wait for all the answers. */
  readonly conclude?: (
    candidates: ReadonlyArray<Scorer.Candidate | undefined>,
    records: ReadonlyArray<Attempts.AttemptRecord>,
    request: LanguageModel.ProviderOptions
  ) => Effect.Effect<Verdict>
  /** Why nobody won beyond the providers' own failures, for `MixtureFailed.detail`. */
  readonly detail?: (records: ReadonlyArray<Attempts.AttemptRecord>) => string | undefined
}

/** The rules of a strategy. */
export const rulesOf = (strategy: Mixture.Strategy): Rules => {
  switch (strategy._tag) {
    case "WeightedScore":
      return WeightedScore.rules(strategy)
    case "FirstValid":
      return FirstValid.rules
    case "Quorum":
      return Quorum.rules(strategy)
    case "Fallback":
      return Fallback.rules(strategy)
  }
}

/** The name of a strategy, as reported in events and answers. */
export const strategyName = (strategy: Mixture.Strategy): string => {
  switch (strategy._tag) {
    case "WeightedScore":
      return "weighted-score"
    case "FirstValid":
      return "first-valid"
    case "Quorum":
      return `quorum(${strategy.k})`
    case "Fallback":
      return "fallback"
  }
}
