// Letter counts for `unmatched`, indexed by UTF-16 code unit and left all zero after each use, so that checking a
// word against every known key allocates nothing.
const counts = new Int32Array(0x10000)

/**
 * A lower bound of the distance: the letters of one string that the other does not have, counted with
 * multiplicity (every edit fixes at most one; a swap fixes none). It rules out most candidates in one pass.
 */
const unmatched = (s: string, t: string): number => {
  for (let i = 0; i < s.length; i++) counts[s.charCodeAt(i)]!++
  for (let i = 0; i < t.length; i++) counts[t.charCodeAt(i)]!--
  let extra = 0
  let missing = 0
  // Each letter's net count is read at its first occurrence in either string, then cleared.
  for (const text of [s, t]) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      const n = counts[c]!
      if (n > 0) extra += n
      else missing -= n
      counts[c] = 0
    }
  }
  return Math.max(extra, missing)
}

/**
 * Edit distance between two strings, compared case-insensitively, where swapping two neighbouring letters counts
 * as one edit (optimal string alignment), since that is the commonest typo. With `max`, any distance over `max`
 * is reported as `max + 1`, and computing it stops as soon as that is sure.
 */
export const distance = (a: string, b: string, max = Number.POSITIVE_INFINITY): number => {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  if (s === t) return 0
  if (Math.abs(s.length - t.length) > max) return max + 1
  if (max < Math.max(s.length, t.length) && unmatched(s, t) > max) return max + 1
  let before: Array<number> = []
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j)
  let previousMin = 0
  for (let i = 1; i <= s.length; i++) {
    const current = [i]
    let currentMin = i
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, before[j - 2]! + 1)
      current[j] = best
      if (best < currentMin) currentMin = best
    }
    // Every alignment goes through one of the last two rows (a swap can step over one), so when both are over
    // `max`, so is the distance.
    if (currentMin > max && previousMin > max) return max + 1
    before = previous
    previous = current
    previousMin = currentMin
  }
  return Math.min(previous[t.length]!, max + 1)
}

/**
 * How many candidates a suggestion looks at. Suggestions are for typos among a schema's keys or a team's members;
 * a spec defining thousands of names, each misspelt, would otherwise cost the square of their number.
 */
export const maxCandidates = 256

/**
 * The candidate closest to `word`, when it is close enough to be a plausible typo: within a third of the word's
 * length (at least 1, at most 3 edits), or equal ignoring `_`/`-` and case. Only the first {@link maxCandidates}
 * candidates are considered.
 */
export const closest = (word: string, candidates: Iterable<string>): string | undefined => {
  const normal = (s: string) => s.toLowerCase().replace(/[-_]/g, "")
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  const normalWord = normal(word)
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  let examined = 0
  for (const candidate of candidates) {
    if (examined++ === maxCandidates) break
    if (candidate === word) continue
    if (normal(candidate) === normalWord) return candidate
    const d = distance(word, candidate, Math.min(limit, bestDistance - 1))
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
