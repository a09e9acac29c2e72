/**
 * Client-side rate limits for one provider: at most `maxConcurrent` calls in flight, `requestsPerMinute` starts
 * in any sliding minute and `tokensPerMinute` tokens (a bucket refilled continuously, debited by an estimate
 * before the call and settled with the real usage after it). A 429 teaches the limiter: `penalize(retryAfter)`
 * holds every new call back until the provider's retry-after has passed.
 *
 * A call waits for its turn; when the wait would exceed the caller's `maxWait` (a mixture passes the provider's
 * timeout) it fails at once with `RateLimited` instead of waiting in vain. Time comes from `Clock`.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"

/** The call would have to wait longer than allowed for the provider's limits; it was not attempted. */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  provider: Schema.String,
  retryInMillis: Schema.Finite
}) {
  override get message(): string {
    return `${this.provider}: rate limited, retry in ${Math.ceil(this.retryInMillis)} ms`
  }
}

/** The limits of one provider; an absent limit is not enforced. */
export const Limits = Schema.Struct({
  maxConcurrent: Schema.optionalKey(Schema.Int),
  requestsPerMinute: Schema.optionalKey(Schema.Int),
  tokensPerMinute: Schema.optionalKey(Schema.Int)
})

/** The limits of one provider. */
export type Limits = typeof Limits.Type

/** What the limiter currently allows. */
export interface Snapshot {
  readonly inFlight: number
  readonly startsInLastMinute: number
  readonly tokensAvailable: number | undefined
  readonly blockedUntil: number
}

/** Per-call options. */
export interface CallOptions<A> {
  /** Tokens reserved before the call (default 0); settled with `tokensOf(result)` afterwards. */
  readonly estimatedTokens?: number
  /** The real token usage of a result (default: the estimate). */
  readonly tokensOf?: (a: A) => number
  /** The longest the call may wait for its turn, in milliseconds (default: unbounded). */
  readonly maxWaitMillis?: number
}

/** A rate limiter. */
export interface RateLimiter {
  readonly provider: string
  readonly limits: Limits
  /** Runs `effect` when the limits allow it. */
  readonly limit: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: CallOptions<A>
  ) => Effect.Effect<A, E | RateLimited, R>
  /** Holds new calls back for `retryAfterMillis` (from a provider's 429). */
  readonly penalize: (retryAfterMillis: number) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<Snapshot>
}

const minute = 60_000

/** Makes a limiter for `provider`. */
export const make = (provider: string, limits: Limits = {}): RateLimiter => {
  const semaphore =
    limits.maxConcurrent === undefined ? undefined : Semaphore.makeUnsafe(Math.max(1, limits.maxConcurrent))
  const rpm = limits.requestsPerMinute
  const tpm = limits.tokensPerMinute
  const starts: Array<number> = []
  let tokens = tpm ?? 0
  let refilledAt: number | undefined
  let blockedUntil = 0
  let inFlight = 0

  const refill = (now: number) => {
    if (tpm === undefined) return
    if (refilledAt !== undefined) tokens = Math.min(tpm, tokens + ((now - refilledAt) * tpm) / minute)
    refilledAt = now
  }
  const prune = (now: number) => {
    while (starts.length > 0 && starts[0]! <= now - minute) starts.shift()
  }

  // How long until a call reserving `estimate` tokens may start; 0 means it starts now (and is recorded).
  const tryStart = (now: number, estimate: number): number => {
    refill(now)
    prune(now)
    let wait = Math.max(0, blockedUntil - now)
    if (rpm !== undefined && starts.length >= rpm) wait = Math.max(wait, starts[starts.length - rpm]! + minute - now)
    if (tpm !== undefined) {
      const need = Math.min(estimate, tpm)
      if (tokens < need) wait = Math.max(wait, Math.ceil(((need - tokens) * minute) / tpm))
    }
    if (wait > 0) return wait
    starts.push(now)
    if (tpm !== undefined) tokens -= estimate
    return 0
  }

  const admit = (estimate: number, maxWait: number | undefined): Effect.Effect<void, RateLimited> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const wait = tryStart(now, estimate)
      if (wait === 0) return Effect.void
      if (maxWait !== undefined && wait > maxWait) {
        return Effect.fail(new RateLimited({ provider, retryInMillis: wait }))
      }
      return Effect.sleep(wait).pipe(
        Effect.andThen(admit(estimate, maxWait === undefined ? undefined : maxWait - wait))
      )
    })

  const limit = <A, E, R>(effect: Effect.Effect<A, E, R>, options: CallOptions<A> = {}) => {
    const estimate = options.estimatedTokens ?? 0
    const run = Effect.suspend(() => {
      inFlight++
      return effect.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            inFlight--
            if (tpm === undefined) return
            // A failed or cancelled call gives its reservation back; a success pays what it really used.
            const used = Exit.isSuccess(exit) ? (options.tokensOf?.(exit.value) ?? estimate) : 0
            tokens = Math.min(tpm, tokens + estimate - used)
          })
        )
      )
    })
    const admitted = admit(estimate, options.maxWaitMillis).pipe(Effect.andThen(run))
    return semaphore === undefined ? admitted : semaphore.withPermit(admitted)
  }

  return {
    provider,
    limits,
    limit,
    penalize: (retryAfterMillis) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        blockedUntil = Math.max(blockedUntil, now + Math.max(0, retryAfterMillis))
      }),
    snapshot: Effect.map(Clock.currentTimeMillis, (now) => {
      refill(now)
      prune(now)
      return {
        inFlight,
        startsInLastMinute: starts.length,
        tokensAvailable: tpm === undefined ? undefined : tokens,
        blockedUntil
      }
    })
  }
}
