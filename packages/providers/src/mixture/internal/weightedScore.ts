/**
 * The `weightedScore` strategy: every provider starts at once, slowest first; once all have answered, each
 * answer is scored (the scorers' total, the provider's weight included) and the best acceptable one wins.
 */
import * as Effect from "effect/Effect"
import type * as Mixture from "../Mixture.ts"
import type * as MixtureEvent from "../MixtureEvent.ts"
import * as Scorer from "../Scorer.ts"
import * as Scorers from "../Scorers.ts"
import * as Attempts from "./attempts.ts"
import type * as Strategy from "./strategy.ts"

/** The rules of `weightedScore`. */
export const rules = (strategy: Extract<Mixture.Strategy, { readonly _tag: "WeightedScore" }>): Strategy.Rules => ({
  // Answers are judged while scoring instead, where a refusal keeps its (low) score rather than being dropped.
  screens: false,
  sequential: false,
  hedgeable: false,
  order: { awaits: Number.POSITIVE_INFINITY },
  persist: (call) => call,
  // Nothing is decided before every answer is in, but each answer's own measures (its quality, its words and
  // agreement key) are taken as it arrives, while slower providers still work: only the comparison waits for the
  // last answer.
  tally: () => (candidate) => {
    Scorers.quality(candidate.response)
    Scorers.agreementKey(candidate.response)
    return undefined
  },
  conclude: (candidates, records, request) => {
    const scoring: Array<MixtureEvent.Attempt> = []
    return Effect.map(
      Scorer.scoreAll(
        strategy.scorers,
        candidates.filter((c): c is Scorer.Candidate => c !== undefined),
        request,
        (call) => {
          scoring.push(call)
        }
      ),
      (scored): Strategy.Verdict => {
        let best: Scorer.Scored | undefined
        for (const s of scored) {
          const record = records[candidates.indexOf(s.candidate)]!
          record.score = s.total
          const rejected = s.rejectedBy ?? Scorers.rejection(s.candidate, request)
          if (rejected !== undefined && rejected !== "refusal") {
            Attempts.reject(record, s.candidate, rejected)
            continue
          }
          if (best === undefined || s.total > best.total) best = s
        }
        return {
          winner: best?.candidate,
          scores: scored.map((s) => ({
            provider: s.candidate.provider,
            score: s.total,
            ...(s.rejectedBy === undefined ? {} : { rejectedBy: s.rejectedBy })
          })),
          scoring
        }
      }
    )
  }
})
