/**
 * What an actor's handler decides after a message: continue with a new state, or stop.
 *
 * Stopping with `fail` is an abnormal exit (a `transient` child is restarted); `stop` is a normal one.
 */
import * as ExitReason from "./ExitReason.ts"

/** Continue processing messages with `state`. */
export interface Continue<S> {
  readonly _tag: "Continue"
  readonly state: S
}

/** Stop this actor with `reason`. */
export interface Stop {
  readonly _tag: "Stop"
  readonly reason: ExitReason.ExitReason
}

/** The outcome of handling one message. */
export type Next<S> = Continue<S> | Stop

// `continue` is a reserved word, so the constructor is named after what it does to the state.
/** Keep going with `state`. */
export const continueWith = <S>(state: S): Next<S> => ({ _tag: "Continue", state })

/** Stop normally: watchers see `Normal`; `transient` and `temporary` children are not restarted. */
export const stop: Next<never> = { _tag: "Stop", reason: ExitReason.normal }

/** Stop abnormally with `error`: watchers see `Failed`; `permanent` and `transient` children are restarted. */
export const fail = (error: unknown): Next<never> => ({ _tag: "Stop", reason: ExitReason.failed(error) })
