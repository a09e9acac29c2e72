/**
 * The `firstValid` strategy: every provider starts at once, fastest first, and the first acceptable answer wins.
 */
import type * as Strategy from "./strategy.ts"

/** The rules of `firstValid`. */
export const rules: Strategy.Rules = {
  screens: true,
  sequential: false,
  hedgeable: true,
  order: { awaits: 1 },
  persist: (call) => call,
  tally: () => (candidate) => candidate
}
