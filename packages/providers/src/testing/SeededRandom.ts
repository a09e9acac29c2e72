/**
 * A tiny seedable pseudo-random generator (mulberry32) for fakes and benchmarks that must repeat exactly.
 *
 * ```ts
 * const next = SeededRandom.make(42)
 * next() // a number in [0, 1), the same sequence on every run and machine
 * ```
 *
 * Not for anything secret, and not a replacement for Effect's `Random` in library code: it exists so that
 * fake servers and benchmark corpora decide faults, jitter and text reproducibly outside any Effect.
 */

/** Returns a generator of numbers in `[0, 1)`; the same seed gives the same sequence. */
export const make = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
