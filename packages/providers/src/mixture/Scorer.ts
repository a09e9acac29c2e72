/**
 * Scorers rate the answers of one mixture fan-out. A scorer sees every answer at once (so it can measure
 * agreement, or ask a judge model about all of them in one call) and gives each a score in [0, 1].
 *
 * A `gate` scorer is a validity check: an answer it scores 0 is rejected, whatever its other scores (an answer
 * that does not match the requested schema, or calls a tool with bad arguments, cannot win). The final score of
 * an answer is its provider's weight times the weighted mean of its scores.
 */
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import type * as MixtureEvent from "./MixtureEvent.ts"

/** One provider's answer, as the scorers see it. */
export interface Candidate {
  readonly provider: string
  readonly model: string
  /** The provider's weight in the mixture (default 1). */
  readonly weight: number
  // Tool-call parameters are kept as the model sent them (unknown) until the winner is decoded.
  readonly response: LanguageModel.GenerateTextResponse<any, "deferred">
}

/**
 * How a scorer reports a call it made that a provider may bill (a judge model's), so that the fan-out's event and
 * the answer's charges count it beside the members' calls.
 */
export type Report = (call: MixtureEvent.Attempt) => void

/** A scorer. */
export interface Scorer {
  readonly name: string
  /** Its weight in the mean (default 1). A weight of 0 makes a pure gate. */
  readonly weight?: number
  /** When true, an answer scored 0 is rejected. */
  readonly gate?: boolean
  /**
   * True for a scorer that waits on something outside the process (a judge model). Scorers run one after another
   * unless one of them waits: starting a fiber for each costs more than the built-in scorers' own work.
   */
  readonly waits?: boolean
  /** One score in [0, 1] per candidate, in order; `report` receives every billable call it made. */
  readonly score: (
    candidates: ReadonlyArray<Candidate>,
    request: LanguageModel.ProviderOptions,
    report?: Report
  ) => Effect.Effect<ReadonlyArray<number>>
  /**
   * The same scores computed at once, for a scorer that needs no effect (the built-in ones but the judge): when
   * every scorer has it, scoring runs as one plain computation on the path of the answer.
   */
  readonly scoreNow?: (
    candidates: ReadonlyArray<Candidate>,
    request: LanguageModel.ProviderOptions
  ) => ReadonlyArray<number>
}

/** The scores of one candidate. */
export interface Scored {
  readonly candidate: Candidate
  /** Weight × weighted mean of the scores. */
  readonly total: number
  readonly byScorer: Readonly<Record<string, number>>
  /** The gate scorer that rejected it, if any. */
  readonly rejectedBy: string | undefined
}

const clamp = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0)

const ignore: Report = () => {}

/**
 * Scores every candidate with every scorer (concurrently when one of them `waits`); `report` receives the
 * billable calls the scorers made.
 */
export const scoreAll = (
  scorers: ReadonlyArray<Scorer>,
  candidates: ReadonlyArray<Candidate>,
  request: LanguageModel.ProviderOptions,
  report: Report = ignore
): Effect.Effect<ReadonlyArray<Scored>> => {
  const combine = (results: ReadonlyArray<ReadonlyArray<number>>): ReadonlyArray<Scored> =>
    candidates.map((candidate, i) => {
      const byScorer: Record<string, number> = {}
      let sum = 0
      let weights = 0
      let rejectedBy: string | undefined
      scorers.forEach((scorer, j) => {
        const value = clamp(results[j]?.[i] ?? 0)
        byScorer[scorer.name] = value
        const w = scorer.weight ?? 1
        sum += w * value
        weights += w
        if (scorer.gate === true && value === 0 && rejectedBy === undefined) rejectedBy = scorer.name
      })
      const mean = weights === 0 ? 1 : sum / weights
      return { candidate, total: candidate.weight * mean, byScorer, rejectedBy }
    })
  if (scorers.every((s) => s.scoreNow !== undefined)) {
    return Effect.sync(() => combine(scorers.map((s) => s.scoreNow!(candidates, request))))
  }
  return Effect.map(
    Effect.forEach(scorers, (s) => s.score(candidates, request, report), {
      concurrency: scorers.some((s) => s.waits === true) ? "unbounded" : 1
    }),
    combine
  )
}

/** A scorer from a function of one answer (for checks that do not compare answers). */
export const make = (
  name: string,
  f: (candidate: Candidate, request: LanguageModel.ProviderOptions) => number,
  options: { readonly weight?: number; readonly gate?: boolean } = {}
): Scorer => {
  const scoreNow = (candidates: ReadonlyArray<Candidate>, request: LanguageModel.ProviderOptions) =>
    candidates.map((c) => f(c, request))
  return {
    name,
    ...options,
    score: (candidates, request) => Effect.sync(() => scoreNow(candidates, request)),
    scoreNow
  }
}
