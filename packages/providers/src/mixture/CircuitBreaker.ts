/**
 * A circuit breaker for one provider: after `failureThreshold` consecutive failures it opens and calls fail
 * fast with `CircuitOpen`; after `cooldown` it lets one probe through (half-open); the probe's success closes it,
 * its failure opens it again for another cool-down.
 *
 * Interrupted calls (a mixture cancelling a loser) count neither as success nor failure; an interrupted probe
 * frees the half-open slot for the next caller. Time comes from `Clock`, so `TestClock` drives the cool-down.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"

/** The breaker of `provider` is open: the call was not attempted. */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", {
  provider: Schema.String,
  retryInMillis: Schema.Finite
}) {
  override get message(): string {
    return `${this.provider}: circuit open after repeated failures, retry in ${Math.ceil(this.retryInMillis)} ms`
  }
}

/** The breaker's state: `Closed` counts consecutive failures, `Open` waits until `until` (epoch ms). */
export type State =
  | { readonly _tag: "Closed"; readonly failures: number }
  | { readonly _tag: "Open"; readonly until: number }
  | { readonly _tag: "HalfOpen"; readonly probing: boolean }

/** Breaker settings. */
export interface Options {
  /** Consecutive failures that open the breaker (default 5). */
  readonly failureThreshold?: number
  /** How long the breaker stays open before a probe (default 30 seconds). */
  readonly cooldown?: Duration.Input
}

/** A circuit breaker. */
export interface CircuitBreaker {
  readonly provider: string
  /** The current state (an `Open` breaker whose cool-down has passed reads as `HalfOpen`). */
  readonly state: Effect.Effect<State>
  /**
   * Runs `effect` through the breaker. `isFailure` decides which failures count against the provider
   * (by default every failure does).
   */
  readonly protect: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    isFailure?: (error: E) => boolean
  ) => Effect.Effect<A, E | CircuitOpen, R>
}

/** Makes a closed breaker for `provider`. */
export const make = (provider: string, options: Options = {}): CircuitBreaker => {
  const threshold = Math.max(1, options.failureThreshold ?? 5)
  const cooldownMillis = Duration.toMillis(options.cooldown ?? Duration.seconds(30))
  let state: State = { _tag: "Closed", failures: 0 }

  const current = (now: number): State =>
    state._tag === "Open" && now >= state.until ? { _tag: "HalfOpen", probing: false } : state

  // Decides, atomically with respect to other fibers (no suspension in between), whether a call may start.
  const admit = (
    now: number
  ): { readonly ok: true; readonly probe: boolean } | { readonly ok: false; readonly wait: number } => {
    state = current(now)
    switch (state._tag) {
      case "Closed":
        return { ok: true, probe: false }
      case "Open":
        return { ok: false, wait: state.until - now }
      case "HalfOpen":
        if (state.probing) return { ok: false, wait: 0 }
        state = { _tag: "HalfOpen", probing: true }
        return { ok: true, probe: true }
    }
  }

  const succeeded = () => {
    state = { _tag: "Closed", failures: 0 }
  }
  const failed = (now: number, probe: boolean) => {
    if (probe || state._tag === "HalfOpen") {
      state = { _tag: "Open", until: now + cooldownMillis }
      return
    }
    const failures = state._tag === "Closed" ? state.failures + 1 : threshold
    state = failures >= threshold ? { _tag: "Open", until: now + cooldownMillis } : { _tag: "Closed", failures }
  }
  const released = (probe: boolean) => {
    if (probe && state._tag === "HalfOpen") state = { _tag: "HalfOpen", probing: false }
  }

  return {
    provider,
    state: Effect.map(Clock.currentTimeMillis, current),
    protect: <A, E, R>(effect: Effect.Effect<A, E, R>, isFailure?: (error: E) => boolean) =>
      Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<A, E | CircuitOpen, R> => {
        const admitted = admit(now)
        if (!admitted.ok) return Effect.fail(new CircuitOpen({ provider, retryInMillis: Math.max(0, admitted.wait) }))
        return Effect.onExit(effect, (exit) =>
          Effect.flatMap(Clock.currentTimeMillis, (end) =>
            Effect.sync(() => {
              if (Exit.isSuccess(exit)) return succeeded()
              const error = exit.cause.reasons.find((r) => r._tag === "Fail")
              if (error !== undefined) {
                if (isFailure === undefined || isFailure(error.error)) return failed(end, admitted.probe)
                return admitted.probe ? succeeded() : undefined
              }
              if (exit.cause.reasons.some((r) => r._tag === "Die")) return failed(end, admitted.probe)
              return released(admitted.probe)
            })
          )
        )
      })
  }
}
