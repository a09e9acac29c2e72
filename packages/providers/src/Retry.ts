/**
 * Bounded, jittered exponential backoff for provider calls that retries only retryable `AiError`s and
 * never earlier than a provider's `Retry-After`.
 *
 * ```ts
 * const policy = Retry.policy({ maxRetries: 2, base: "100 millis" })
 * const response = yield* LanguageModel.generateText({ prompt }).pipe(Retry.retry(policy))
 * ```
 *
 * Every adapter applies its configured policy to each HTTP request (streams only until the first byte
 * of the body arrives, so no part is ever emitted twice).
 */

import type * as AiError from "effect/ai/AiError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** How to retry: attempts after the first, backoff base and factor, the largest delay, and jitter. */
export interface Policy {
  readonly maxRetries: number
  readonly base: Duration.Duration
  readonly factor: number
  /** Largest delay between attempts. A `Retry-After` longer than this fails at once instead of waiting. */
  readonly maxDelay: Duration.Duration
  /** Scale each delay randomly into [0.8, 1.2] × delay so many clients do not retry in lock-step. */
  readonly jitter: boolean
}

/** Options accepted by {@link policy}; every field has a default. */
export interface PolicyInput {
  readonly maxRetries?: number | undefined
  readonly base?: Duration.Input | undefined
  readonly factor?: number | undefined
  readonly maxDelay?: Duration.Input | undefined
  readonly jitter?: boolean | undefined
}

/** The default: 3 retries, 250 ms base, factor 2, at most 30 s between attempts, jittered. */
export const defaultPolicy: Policy = {
  maxRetries: 3,
  base: Duration.millis(250),
  factor: 2,
  maxDelay: Duration.seconds(30),
  jitter: true
}

/** No retries at all: use where a caller (such as the mixture) does its own fallback. */
export const none: Policy = { ...defaultPolicy, maxRetries: 0 }

/** Builds a policy from partial options over {@link defaultPolicy}. */
export const policy = (input: PolicyInput = {}): Policy => ({
  maxRetries: input.maxRetries ?? defaultPolicy.maxRetries,
  base: input.base === undefined ? defaultPolicy.base : Duration.fromInputUnsafe(input.base),
  factor: input.factor ?? defaultPolicy.factor,
  maxDelay: input.maxDelay === undefined ? defaultPolicy.maxDelay : Duration.fromInputUnsafe(input.maxDelay),
  jitter: input.jitter ?? defaultPolicy.jitter
})

/** True when the error is worth another attempt under this policy. */
export const shouldRetry = (self: Policy, error: AiError.AiError): boolean => {
  if (!error.isRetryable) return false
  const after = error.retryAfter
  return after === undefined || Duration.isLessThanOrEqualTo(after, self.maxDelay)
}

/**
 * The backoff `Schedule` fed with the failing `AiError`: exponential (optionally jittered), capped at
 * `maxDelay`, stretched up to the error's `retryAfter`, and limited to `maxRetries` recurrences.
 */
export const schedule = (self: Policy): Schedule.Schedule<Duration.Duration, AiError.AiError> => {
  const backoff = self.jitter
    ? Schedule.jittered(Schedule.exponential(self.base, self.factor))
    : Schedule.exponential(self.base, self.factor)
  return Schedule.max([backoff, Schedule.recurs(self.maxRetries)]).pipe(
    Schedule.setInputType<AiError.AiError>(),
    Schedule.modifyDelay(({ duration, input }) => {
      const capped = Duration.min(duration, self.maxDelay)
      const after = input.retryAfter
      return Effect.succeed(after === undefined ? capped : Duration.max(capped, after))
    })
  )
}

// Goes on after `effect` failed once with `first` (a retryable error) as a schedule running from the start would:
// `first` is the schedule's first input, so its backoff and `Retry-After` set the first delay.
const retryFrom =
  (self: Policy, first: AiError.AiError) =>
  <A, R>(effect: Effect.Effect<A, AiError.AiError, R>): Effect.Effect<A, AiError.AiError, R> =>
    Effect.suspend(() => {
      let replayed = false
      const again = Effect.suspend(() => {
        if (replayed) return effect
        replayed = true
        return Effect.fail(first)
      })
      return Effect.retry(again, { schedule: schedule(self), while: (error) => shouldRetry(self, error) })
    })

/** What wraps the retries of a call, once its first attempt has failed with a retryable error. */
export type Retrying = <A, R>(retries: Effect.Effect<A, AiError.AiError, R>) => Effect.Effect<A, AiError.AiError, R>

/**
 * Retries an effect failing with `AiError` according to the policy. The schedule is only built and stepped once an
 * attempt fails with a retryable error: nearly every call succeeds at once, and stepping a schedule is not free.
 * The retries then see the same sequence of errors (that first one included) as a schedule running from the start;
 * `retrying` wraps them (a deadline for what is left of the call, say).
 */
export const retry =
  (self: Policy, retrying: Retrying = (retries) => retries) =>
  <A, R>(effect: Effect.Effect<A, AiError.AiError, R>): Effect.Effect<A, AiError.AiError, R> =>
    self.maxRetries <= 0
      ? effect
      : Effect.catchIf(
          effect,
          (error) => shouldRetry(self, error),
          (first) => retrying(retryFrom(self, first)(effect))
        )
