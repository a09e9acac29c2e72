/**
 * Hedging (`hedge: { after }`): providers start one by one, the next when the running ones have not answered
 * within `after`. Each launch re-arms the timer; a tick from an earlier arming is stale and ignored.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Mixture from "../Mixture.ts"
import type * as Strategy from "./strategy.ts"

/** The timer's message to the fan-out: `after` has passed since the launch that armed it. */
export interface Tick {
  readonly _tag: "Hedge"
  readonly generation: number
}

/** The hedge delay in milliseconds, or `undefined` when not hedging (unset, or a strategy that ignores it). */
export const delayOf = (options: Mixture.Options, rules: Strategy.Rules): number | undefined =>
  options.hedge !== undefined && rules.hedgeable ? Duration.toMillis(options.hedge.after) : undefined

/** The hedge timer of one fan-out. */
export interface Hedge {
  /** Starts a timer (a child of the calling fiber) that posts a `Tick` after the delay. */
  readonly arm: Effect.Effect<void>
  /** Whether a tick comes from the latest arming. */
  readonly isCurrent: (tick: Tick) => boolean
}

/** A hedge timer posting its ticks with `post`. */
export const make = (millis: number, post: (tick: Tick) => Effect.Effect<void>): Hedge => {
  let generation = 0
  return {
    arm: Effect.sync(() => ++generation).pipe(
      Effect.flatMap((armed) =>
        Effect.sleep(millis).pipe(Effect.andThen(post({ _tag: "Hedge", generation: armed })), Effect.forkChild)
      ),
      Effect.asVoid
    ),
    isCurrent: (tick) => tick.generation === generation
  }
}
