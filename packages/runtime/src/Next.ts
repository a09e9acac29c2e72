/**
 * What an actor's handler decides after a message: continue with a new state (possibly answering a request on
 * the way), or stop.
 *
 * Stopping with `fail` is an abnormal exit (a `transient` child is restarted); `stop` is a normal one.
 *
 * @example
 * ```ts
 * // Answering a request without running an effect: the fast path for `ask`.
 * receive: (count, message) => Effect.succeed(Next.reply(message.replyTo, count, count))
 * ```
 */
import * as Exit from "effect/Exit"
import * as ExitReason from "./ExitReason.ts"
import type * as ReplyTo from "./ReplyTo.ts"

/** Continue processing messages with `state`; with `reply`, the runtime answers that request first. */
export interface Continue<S> {
  readonly _tag: "Continue"
  readonly state: S
  readonly reply?: { readonly to: ReplyTo.ReplyTo<any, any>; readonly exit: Exit.Exit<unknown, unknown> } | undefined
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

/**
 * Keep going with `state` after answering `replyTo` with `value`, the runtime doing the answering. It is data,
 * so a handler can return it synchronously (`Effect.succeed(Next.reply(...))`), which spares the handler an
 * effect: an `ask` answered so costs about what a bare queue round trip does (`pnpm bench runtime`).
 */
export const reply = <A, E, S>(replyTo: ReplyTo.ReplyTo<A, E>, value: A, state: S): Next<S> => ({
  _tag: "Continue",
  state,
  reply: { to: replyTo, exit: Exit.succeed(value) }
})

/** Stop normally: watchers see `Normal`; `transient` and `temporary` children are not restarted. */
export const stop: Next<never> = { _tag: "Stop", reason: ExitReason.normal }

/** Stop abnormally with `error`: watchers see `Failed`; `permanent` and `transient` children are restarted. */
export const fail = (error: unknown): Next<never> => ({ _tag: "Stop", reason: ExitReason.failed(error) })
