/**
 * One provider stream through the pool (`ProviderPool.stream`): the provider's rate limiter and breaker admit the
 * stream before its first part, and its outcome is recorded when it ends, fails or is given up by its reader.
 *
 * - Deadline: the target's `timeout` bounds the time to the first content part (rate-limit wait included), not the
 *   whole stream, so that a long answer streams to its end; after that the adapter's own between-events timeout
 *   holds. A stream silent past it fails with `ProviderTimeout` and counts against the breaker.
 * - Accounting: tokens and cost come from the usage the stream reports (its finish part). A stream cut short — it
 *   failed midway, or its reader stopped reading — after it had sent something is charged an estimate: the input
 *   estimate and about four characters a token of what it sent. One that never sent anything is charged nothing.
 * - Outcomes: a stream that ended is a success; a failure counts as for `call` (a 429 holds the provider back and
 *   is not held against it); a stream given up by its reader is cancelled, and counts neither way on the breaker.
 */
import * as AiError from "effect/ai/AiError"
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type * as CircuitBreaker from "../CircuitBreaker.ts"
import type * as ProviderPool from "../ProviderPool.ts"
import type * as RateLimiter from "../RateLimiter.ts"

/** How the pool reads a stream's parts. */
export interface Options<A> {
  /** The usage a part reports (a finish part), or undefined. */
  readonly usageOf: (part: A) => ProviderPool.TokenUsage | undefined
  /** Characters of answer a part carries, for the estimate of a stream cut short (default: none). */
  readonly charactersOf?: ((part: A) => number) | undefined
  /** Whether a part is content (text, reasoning, a tool call), which ends the wait the `timeout` bounds. */
  readonly isContent: (part: A) => boolean
  /** Input tokens reserved before the stream starts. */
  readonly estimatedTokens?: number | undefined
  /**
   * Told the stream's accounting before its last part is read (when it ends, not when it fails); `estimated` when the
   * stream reported no usage and its tokens are the estimate.
   */
  readonly settled?: ((accounted: ProviderPool.Accounted<void>, estimated: boolean) => void) | undefined
}

/** What the wrapper needs of the pool that made it. */
export interface Ledger {
  readonly breaker: (provider: string) => CircuitBreaker.CircuitBreaker
  readonly limiter: (provider: string) => RateLimiter.RateLimiter
  readonly verdict: (error: ProviderPool.CallError) => CircuitBreaker.Verdict
  readonly heldBackBy: (error: ProviderPool.CallError) => Duration.Duration | undefined
  /** The pool's `ProviderTimeout` (passed in: this module is imported by the pool's). */
  readonly timedOut: (provider: string, timeoutMillis: number) => ProviderPool.CallError
  /** Records one stream's outcome, its latency and tokens (when known) for `provider`; returns its cost. */
  readonly record: (
    target: ProviderPool.Target,
    outcome: "success" | "failure" | "cancelled",
    latencyMs: number,
    tokens: ProviderPool.TokenUsage | undefined
  ) => number | undefined
}

// Parts waiting for the reader: enough to smooth bursts, few enough that a reader that stops early stops the read.
const bufferSize = 64

/** `ProviderPool.stream` over `ledger`. */
export const make =
  (ledger: Ledger) =>
  <A, R>(
    target: ProviderPool.Target,
    stream: Stream.Stream<A, AiError.AiError, R>,
    options: Options<A>
  ): Stream.Stream<A, ProviderPool.CallError, R> =>
    Stream.callback<A, ProviderPool.CallError, R>(
      (out) =>
        Effect.gen(function* () {
          const start = yield* Clock.currentTimeMillis
          const estimatedTokens = options.estimatedTokens ?? 0
          const timeoutMillis = target.timeout === undefined ? undefined : Duration.toMillis(target.timeout)
          const maxWaitMillis = target.maxWait === undefined ? timeoutMillis : Duration.toMillis(target.maxWait)
          let usage: ProviderPool.TokenUsage | undefined
          let received = false
          let answered = false
          let characters = 0

          const body = Stream.runForEach(stream, (part) => {
            received = true
            if (!answered && options.isContent(part)) answered = true
            characters += options.charactersOf?.(part) ?? 0
            usage = options.usageOf(part) ?? usage
            return Queue.offer(out, part)
          })
          // What a stream cut short is charged: nothing if it sent nothing.
          const estimate = (): ProviderPool.TokenUsage | undefined =>
            received ? { inputTokens: estimatedTokens, outputTokens: Math.ceil(characters / 4) } : undefined

          // The silence deadline runs inside the breaker, so a silent provider counts as failed; it fails with a
          // stand-in `AiError` (all a limited effect may fail with) that becomes the `ProviderTimeout` on the way out.
          const silent = AiError.make({
            module: "ProviderPool",
            method: "stream",
            reason: new AiError.UnknownError({ description: `no content within ${timeoutMillis} ms` })
          })
          const bounded =
            timeoutMillis === undefined
              ? body
              : Effect.raceFirst(
                  body,
                  Effect.flatMap(Clock.currentTimeMillis, (now) =>
                    Effect.sleep(Math.max(0, start + timeoutMillis - now))
                  ).pipe(Effect.andThen(Effect.suspend(() => (answered ? Effect.never : Effect.fail(silent)))))
                )
          const limited = ledger.limiter(target.provider).limit(bounded, {
            estimatedTokens,
            tokensOf: () => (usage === undefined ? estimatedTokens : usage.inputTokens + usage.outputTokens),
            heldBackBy: ledger.heldBackBy,
            ...(maxWaitMillis === undefined ? {} : { maxWaitMillis })
          })
          const exit = yield* ledger
            .breaker(target.provider)
            .protect(limited, ledger.verdict)
            .pipe(
              Effect.mapError(
                (error): ProviderPool.CallError =>
                  error === silent ? ledger.timedOut(target.provider, timeoutMillis ?? 0) : error
              ),
              Effect.onInterrupt(() =>
                Effect.flatMap(Clock.currentTimeMillis, (end) =>
                  Effect.sync(() => ledger.record(target, "cancelled", end - start, estimate()))
                )
              ),
              Effect.exit
            )
          const end = yield* Clock.currentTimeMillis
          if (Exit.isFailure(exit)) {
            ledger.record(target, "failure", end - start, estimate())
            return yield* Queue.failCause(out, exit.cause as Cause.Cause<ProviderPool.CallError>)
          }
          const tokens = usage ?? estimate()
          const costUsd = ledger.record(target, "success", end - start, tokens)
          options.settled?.({ value: undefined, latencyMs: end - start, usage: tokens, costUsd }, usage === undefined)
          yield* Queue.end(out)
        }),
      { bufferSize }
    )
