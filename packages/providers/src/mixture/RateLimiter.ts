/**
 * Client-side rate limits of one provider, as the `ProviderPool` uses them, on `effect/persistence`'s
 * `RateLimiter` (keyed by the provider's name, in a memory store by default or a Redis store shared between
 * processes, so that several processes spend one account's limits together):
 *
 * - `requestsPerMinute` and `tokensPerMinute`: token buckets refilled continuously, as the providers enforce theirs
 *   (a full minute's worth may go at once, then the rate holds). A call reserves one request and an estimate of its
 *   tokens before it starts, and pays for the tokens its answer really used beyond the estimate afterwards.
 * - server feedback: a 429 with `retry-after` holds every new call back until then, after which the limiter
 *   learns how much the provider accepts (the store's adaptive mode) and paces calls to it.
 * - `maxConcurrent`: calls in flight in this process.
 *
 * A call waits for its turn; when the wait would exceed its `maxWaitMillis` it fails at once with `RateLimited`
 * instead of waiting in vain. Time comes from `Clock`.
 *
 * Gotchas: nothing is given back. A failed call keeps its reservation, a call that used fewer tokens than its
 * estimate is not refunded, and a call refused for lack of tokens after it took its request keeps that request:
 * the limiter errs towards waiting, never towards a provider's 429.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Persisted from "effect/persistence/RateLimiter"
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
  /** Requests that may start now, or `undefined` without a `requestsPerMinute` limit. */
  readonly requestsAvailable: number | undefined
  /** Tokens that may be reserved now, or `undefined` without a `tokensPerMinute` limit. */
  readonly tokensAvailable: number | undefined
  /** How long a 429 still holds new calls back, in milliseconds (0 when it does not). */
  readonly heldBackMillis: number
}

/** Per-call options. */
export interface CallOptions<A, E> {
  /** Tokens reserved before the call (default 0); `tokensOf(result)` beyond it is paid afterwards. */
  readonly estimatedTokens?: number
  /** The real token usage of a result (default: the estimate). */
  readonly tokensOf?: (a: A) => number
  /** The longest the call may wait for its turn, in milliseconds (default: unbounded). */
  readonly maxWaitMillis?: number
  /**
   * When the call fails because the provider limited it (a 429), how long the provider asked to be left alone;
   * `undefined` for other failures. Every new call is held back that long.
   */
  readonly heldBackBy?: (error: E) => Duration.Duration | undefined
}

/** The rate limiter of one provider. */
export interface RateLimiter {
  readonly provider: string
  readonly limits: Limits
  /** Runs `effect` when the limits allow it. */
  readonly limit: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: CallOptions<A, E>
  ) => Effect.Effect<A, E | RateLimited, R>
  readonly snapshot: Effect.Effect<Snapshot>
}

const window = Duration.minutes(1)

/** The key prefix of every limit in the store, so that a shared Redis store can hold other applications' too. */
export const keyPrefix = "troupe/provider/"

/** The limiter of `provider`: its keys in `limiter`'s store. */
export const make = (provider: string, limits: Limits, limiter: Persisted.RateLimiter): RateLimiter => {
  const semaphore =
    limits.maxConcurrent === undefined ? undefined : Semaphore.makeUnsafe(Math.max(1, limits.maxConcurrent))
  const rpm = limits.requestsPerMinute
  const tpm = limits.tokensPerMinute
  const adaptiveKey = `${keyPrefix}${provider}`
  const requestsKey = `${keyPrefix}${provider}/requests`
  const tokensKey = `${keyPrefix}${provider}/tokens`
  let inFlight = 0

  const refused = (waitMillis: number) => new RateLimited({ provider, retryInMillis: waitMillis })

  // Takes `tokens` from the bucket at `key`, waiting while the bucket refills as long as the budget allows. A
  // refused take reserves nothing, so asking again after the wait is exact.
  const take = (key: string, limit: number, tokens: number, deadline: number | undefined) => {
    const attempt: Effect.Effect<void, RateLimited> = Effect.flatMap(
      Effect.result(limiter.consume({ key, algorithm: "token-bucket", onExceeded: "fail", window, limit, tokens })),
      (result) => {
        if (result._tag === "Success") return Effect.void
        const reason = result.failure.reason
        // A store that cannot be reached (Redis down) lets the call through: its limits are advice, a provider
        // that is called anyway still answers 429 itself.
        if (reason._tag === "RateLimitStoreError") return Effect.void
        return waitOrRefuse(Duration.toMillis(reason.retryAfter), deadline, attempt)
      }
    )
    return attempt
  }

  const waitOrRefuse = <E>(
    waitMillis: number,
    deadline: number | undefined,
    then: Effect.Effect<void, E | RateLimited>
  ): Effect.Effect<void, E | RateLimited> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      deadline !== undefined && now + waitMillis > deadline
        ? Effect.fail(refused(waitMillis))
        : Effect.andThen(Effect.sleep(waitMillis), then)
    )

  // Waits out a 429's hold (the adaptive cool-down, which reserves nothing) and, once the limiter has learned the
  // provider's rate, its pacing (which does reserve). Returns the epoch the call's own 429 must report.
  const adapt = (deadline: number | undefined): Effect.Effect<number, RateLimited> =>
    Effect.flatMap(
      Effect.orElseSucceed(
        limiter.adaptiveConsume({ key: adaptiveKey, tokens: 1, fallbackLimit: rpm ?? 60, fallbackWindow: window }),
        () => ({ delay: Duration.zero, epoch: 0, phase: "inactive" as const })
      ),
      (result) => {
        const delay = Duration.toMillis(result.delay)
        if (delay === 0) return Effect.succeed(result.epoch)
        if (result.phase === "cooldown")
          return waitOrRefuse(delay, deadline, Effect.void).pipe(Effect.andThen(adapt(deadline)))
        return Effect.as(waitOrRefuse(delay, deadline, Effect.void), result.epoch)
      }
    )

  const admit = (estimate: number, maxWait: number | undefined): Effect.Effect<number, RateLimited> =>
    Effect.flatMap(Clock.currentTimeMillis, (start) => {
      const deadline = maxWait === undefined ? undefined : start + maxWait
      // Without request or token limits only a 429's hold applies (the common case, on the path of every call).
      if (rpm === undefined && (tpm === undefined || estimate <= 0)) return adapt(deadline)
      return Effect.flatMap(adapt(deadline), (epoch) =>
        Effect.as(
          Effect.andThen(
            rpm === undefined ? Effect.void : take(requestsKey, rpm, 1, deadline),
            tpm === undefined || estimate <= 0 ? Effect.void : take(tokensKey, tpm, Math.min(estimate, tpm), deadline)
          ),
          epoch
        )
      )
    })

  // After the call: the tokens used beyond the estimate become debt that later calls wait for; a 429 holds back
  // every new call for the time the provider asked.
  const settle = <A, E>(exit: Exit.Exit<A, E>, epoch: number, options: CallOptions<A, E>, estimate: number) => {
    if (Exit.isSuccess(exit)) {
      const extra = tpm === undefined ? 0 : (options.tokensOf?.(exit.value) ?? estimate) - estimate
      if (extra <= 0) return Effect.void
      return Effect.ignore(
        limiter.consume({
          key: tokensKey,
          algorithm: "token-bucket",
          onExceeded: "delay",
          window,
          limit: tpm!,
          tokens: extra
        })
      )
    }
    const error = exit.cause.reasons.find((r) => r._tag === "Fail")
    const heldBack = error === undefined ? undefined : options.heldBackBy?.(error.error)
    if (heldBack === undefined) return Effect.void
    return Effect.ignore(
      limiter.adaptiveFeedback({ key: adaptiveKey, epoch, tokens: 1, status: 429, retryAfter: heldBack })
    )
  }

  const limit = <A, E, R>(effect: Effect.Effect<A, E, R>, options: CallOptions<A, E> = {}) => {
    const estimate = options.estimatedTokens ?? 0
    const admitted = Effect.flatMap(admit(estimate, options.maxWaitMillis), (epoch) =>
      Effect.suspend(() => {
        inFlight++
        return effect.pipe(
          Effect.onExit((exit) => {
            inFlight--
            return settle(exit, epoch, options, estimate)
          })
        )
      })
    )
    return semaphore === undefined ? admitted : semaphore.withPermit(admitted)
  }

  // Reading a bucket takes nothing from it; one in debt reads as empty.
  const available = (key: string, limit: number | undefined) =>
    limit === undefined
      ? Effect.succeed(undefined)
      : Effect.match(
          limiter.consume({ key, algorithm: "token-bucket", onExceeded: "fail", window, limit, tokens: 0 }),
          { onFailure: () => 0, onSuccess: (result) => result.remaining }
        )

  return {
    provider,
    limits,
    limit,
    snapshot: Effect.gen(function* () {
      const requestsAvailable = yield* available(requestsKey, rpm)
      const tokensAvailable = yield* available(tokensKey, tpm)
      const adaptive = yield* Effect.orElseSucceed(
        limiter.adaptiveConsume({ key: adaptiveKey, tokens: 0, fallbackLimit: rpm ?? 60, fallbackWindow: window }),
        () => ({ delay: Duration.zero, phase: "inactive" as const })
      )
      return {
        inFlight,
        requestsAvailable,
        tokensAvailable,
        heldBackMillis: adaptive.phase === "cooldown" ? Duration.toMillis(adaptive.delay) : 0
      }
    })
  }
}
