/**
 * The `fallback` strategy: providers in the configured order, one at a time, each retried on retryable failures;
 * the first acceptable answer wins.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Mixture from "../Mixture.ts"
import type * as ProviderPool from "../ProviderPool.ts"
import type * as Strategy from "./strategy.ts"

// Narrower than `ProviderFailure.retryable`: the pool's own refusals (open breaker, rate limit) are reported as
// retryable for a later request, but are not retried within this one.
const isRetryable = (error: ProviderPool.CallError): boolean =>
  error._tag === "AiError" ? error.isRetryable : error._tag === "ProviderTimeout"

/** The rules of `fallback`. */
export const rules = (strategy: Extract<Mixture.Strategy, { readonly _tag: "Fallback" }>): Strategy.Rules => ({
  screens: true,
  sequential: true,
  hedgeable: true,
  order: "configured",
  // The retry machinery is only built once a call has failed: the common, successful path stays cheap.
  persist: (once) =>
    strategy.retries > 0
      ? once.pipe(
          Effect.catch((error) =>
            isRetryable(error)
              ? Effect.sleep(strategy.backoff).pipe(
                  Effect.andThen(
                    strategy.retries === 1
                      ? once
                      : once.pipe(
                          Effect.retry({
                            schedule: Schedule.exponential(
                              Duration.times(Duration.fromInputUnsafe(strategy.backoff), 2)
                            ),
                            times: strategy.retries - 1,
                            while: isRetryable
                          })
                        )
                  )
                )
              : Effect.fail(error)
          )
        )
      : once,
  tally: () => (candidate) => candidate
})
