/**
 * The `quorum(k)` strategy: every provider starts at once, the k fastest first (the k-th of them first, since the
 * decision waits for it); answers are grouped by similarity and the first group of `k` wins, represented by its
 * best answer.
 */
import type * as Mixture from "../Mixture.ts"
import type * as Scorer from "../Scorer.ts"
import * as Scorers from "../Scorers.ts"
import type * as Strategy from "./strategy.ts"

/** The rules of `quorum(k)`. */
export const rules = (strategy: Extract<Mixture.Strategy, { readonly _tag: "Quorum" }>): Strategy.Rules => ({
  screens: true,
  sequential: false,
  hedgeable: false,
  order: { awaits: strategy.k },
  persist: (call) => call,
  tally: () => {
    // Each group is compared through its first answer, so a group does not drift as similar answers join it.
    const groups: Array<Array<Scorer.Candidate>> = []
    return (candidate) => {
      const group = groups.find((g) => Scorers.similarity(g[0]!.response, candidate.response) >= strategy.threshold)
      if (group === undefined) groups.push([candidate])
      else group.push(candidate)
      const reached = groups.find((g) => g.length >= strategy.k)
      return reached?.reduce((best, c) =>
        c.weight * Scorers.quality(c.response) > best.weight * Scorers.quality(best.response) ? c : best
      )
    }
  },
  detail: (records) => (records.some((r) => r.outcome === "answered") ? `no ${strategy.k} answers agreed` : undefined)
})
