/**
 * Edit distance between two strings, compared case-insensitively, where swapping two neighbouring letters counts
 * as one edit (optimal string alignment), since that is the commonest typo.
 */
export const distance = (a: string, b: string): number => {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  if (s === t) return 0
  let before: Array<number> = []
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j)
  for (let i = 1; i <= s.length; i++) {
    const current = [i]
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, before[j - 2]! + 1)
      current[j] = best
    }
    before = previous
    previous = current
  }
  return previous[t.length]!
}

/**
 * The candidate closest to `word`, when it is close enough to be a plausible typo: within a third of the word's
 * length (at least 1, at most 3 edits), or equal ignoring `_`/`-` and case.
 */
export const closest = (word: string, candidates: Iterable<string>): string | undefined => {
  const normal = (s: string) => s.toLowerCase().replace(/[-_]/g, "")
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  const normalWord = normal(word)
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    if (candidate === word) continue
    if (normal(candidate) === normalWord) return candidate
    // The distance is at least the difference in length: most candidates are ruled out without computing it.
    if (Math.abs(candidate.length - word.length) > Math.min(limit, bestDistance - 1)) continue
    const d = distance(word, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= limit ? best : undefined
}

/** ` (did you mean "x"?)` when a close candidate exists, otherwise the empty string. */
export const didYouMean = (word: string, candidates: Iterable<string>): string => {
  const best = closest(word, candidates)
  return best === undefined ? "" : ` (did you mean "${best}"?)`
}
