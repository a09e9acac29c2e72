/**
 * The circuit breaker of one provider, as the `ProviderPool` uses it: a circuit of `effect/persistence`'s
 * `CircuitBreaker`, keyed by the provider's name, in a memory store by default or a Redis store shared between
 * processes.
 *
 * After `failureThreshold` consecutive failures the circuit opens and calls fail fast with `CircuitOpen`; after
 * `cooldown` one probe goes through (half-open) and other calls are refused meanwhile; the probe's success closes
 * it, its failure opens it again for another cool-down.
 *
 * Which outcomes count is the caller's choice (`classify`): by default a success is healthy and any failure,
 * defects included, counts against the provider. Interrupted calls (a mixture cancelling a loser) count neither
 * way, and an interrupted or ignored probe frees the half-open slot for the next caller. Time comes from `Clock`,
 * so `TestClock` drives the cool-down.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as Persisted from "effect/persistence/CircuitBreaker"
 * import { CircuitBreaker } from "@troupe/providers"
 *
 * const program = Effect.gen(function*() {
 *   const circuits = yield* Persisted.make(CircuitBreaker.policy({ failureThreshold: 3, cooldown: "10 seconds" }))
 *   const breaker = CircuitBreaker.make("openai", circuits)
 *   return yield* breaker.protect(Effect.succeed("answer"))
 * }).pipe(Effect.scoped, Effect.provide(Persisted.layerStoreMemory()))
 * ```
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Persisted from "effect/persistence/CircuitBreaker"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"

/** The breaker of `provider` is open (or probing): the call was not attempted. */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", {
  provider: Schema.String,
  retryInMillis: Schema.Finite
}) {
  override get message(): string {
    return `${this.provider}: circuit open after repeated failures, retry in ${Math.ceil(this.retryInMillis)} ms`
  }
}

/** Breaker settings. */
export interface Options {
  /** Consecutive failures that open the breaker (default 5). */
  readonly failureThreshold?: number
  /** How long the breaker stays open before a probe (default 30 seconds). */
  readonly cooldown?: Duration.Input
}

/** The default settings: open after 5 consecutive failures, probe after 30 seconds. */
export const defaults = { failureThreshold: 5, cooldown: Duration.seconds(30) } as const

/** The state of a provider's circuit, as `effect/persistence` reports it. */
export type State = Persisted.State

/** How a call's outcome counts: for the provider (`success`), against it (`failure`), or not at all. */
export type Verdict = "success" | "failure" | "ignored"

/** The breaker of one provider. */
export interface CircuitBreaker {
  readonly provider: string
  /** The circuit's current state (read from the store, so shared with other processes on Redis). */
  readonly state: Effect.Effect<State>
  /**
   * Runs `effect` through the breaker. `classify` decides how each failure counts (by default every failure
   * counts against the provider).
   */
  readonly protect: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    classify?: (error: E) => Verdict
  ) => Effect.Effect<A, E | CircuitOpen, R>
}

/** The `effect/persistence` breaker settings for these options. */
export const policy = (
  options: Options = {}
): { readonly tripPolicy: Persisted.TripPolicy; readonly openDuration: Duration.Input } => {
  const threshold = options.failureThreshold ?? defaults.failureThreshold
  return {
    tripPolicy: Persisted.consecutive(Number.isFinite(threshold) ? Math.max(1, Math.floor(threshold)) : 1),
    openDuration: options.cooldown ?? defaults.cooldown
  }
}

const outcome = <A, E>(exit: Exit.Exit<A, E>, classify: ((error: E) => Verdict) | undefined): Persisted.Outcome => {
  if (Exit.isSuccess(exit)) return Persisted.success
  const error = Cause.findErrorOption(exit.cause)
  // A defect is the provider's failure too: an adapter that dies on its answers is not healthy.
  if (error._tag === "None") return Persisted.failure()
  const verdict = classify === undefined ? "failure" : classify(error.value)
  if (verdict === "success") return Persisted.success
  return verdict === "ignored" ? Persisted.ignored : Persisted.failure()
}

const isBreakerError = (u: unknown): u is Persisted.CircuitBreakerError => u instanceof Persisted.CircuitBreakerError

/** The breaker of `provider`: its circuit in `circuits`, keyed by the provider's name. */
export const make = (provider: string, circuits: Persisted.CircuitBreaker): CircuitBreaker => ({
  provider,
  // A store that cannot be read (Redis down) reads as closed: the breaker lets calls through then too.
  state: Effect.orElseSucceed(circuits.state(provider), (): State => ({ _tag: "Closed", key: provider })),
  protect: <A, E, R>(effect: Effect.Effect<A, E, R>, classify?: (error: E) => Verdict) =>
    circuits.execute(effect, { key: provider, classify: (exit: Exit.Exit<A, E>) => outcome(exit, classify) }).pipe(
      Effect.catchIf(isBreakerError, (error) => {
        const reason = error.reason
        switch (reason._tag) {
          case "CircuitOpen":
            return Effect.fail(new CircuitOpen({ provider, retryInMillis: Duration.toMillis(reason.retryAfter) }))
          case "CircuitHalfOpen":
            return Effect.fail(new CircuitOpen({ provider, retryInMillis: 0 }))
          case "CircuitBreakerStoreError":
            // Circuits are made with `onStoreError: "allow"`: a store failure lets the call through unrecorded
            // and never reaches here.
            return Effect.die(error)
        }
      })
    )
})

/** A circuit breaker store of `effect/persistence` (memory, Redis, or one of your own). */
export type Store = Persisted.CircuitBreakerStore["Service"]

// As `effect/persistence` reports what no caller receives: at the `UnhandledLogLevel`, or not at all.
const reportUnhandled = (message: string, cause: Cause.Cause<unknown>) =>
  Effect.withFiber((fiber) => {
    const level = fiber.getRef(References.UnhandledLogLevel)
    return level === undefined ? Effect.void : Effect.logWithLevel(level)(message, cause)
  })

const toCircuitOpen = (provider: string, error: Persisted.CircuitBreakerError) => {
  const reason = error.reason
  switch (reason._tag) {
    case "CircuitOpen":
      return new CircuitOpen({ provider, retryInMillis: Duration.toMillis(reason.retryAfter) })
    case "CircuitHalfOpen":
      return new CircuitOpen({ provider, retryInMillis: 0 })
    case "CircuitBreakerStoreError":
      return undefined
  }
}

/**
 * The breaker of `provider` with these settings, on `store` directly: what `make` does through `effect/persistence`'s
 * `CircuitBreaker.execute` (the store admits the call within a scope that lasts as long as it, its outcome is
 * recorded whatever becomes of it, and a store that cannot be reached lets the call through unrecorded), in a few
 * steps instead of `execute`'s generator, its exits and an effect per outcome. It runs on the path of every
 * provider call of the pool and of every answer of the mixture: 5.6 µs a call against 12.8 µs through `execute`
 * (one-off microbenchmark, memory store). `execute`'s stream of circuit transitions is not fed: nothing here reads
 * it. The circuits are the store's, so breakers of either kind on one store share them.
 */
export const fromStore = (provider: string, store: Store, options: Options = {}): CircuitBreaker => {
  const { tripPolicy, openDuration } = policy(options)
  const openFor = Duration.fromInputUnsafe(openDuration)
  const record = (generation: number, counted: Persisted.Outcome) =>
    Effect.catch(
      store.record({
        key: provider,
        generation,
        outcome: counted._tag,
        tripPolicy,
        // With a `consecutive` policy only a failure can open the circuit, for the cool-down.
        openFor: counted._tag === "Failure" ? openFor : Duration.zero
      }),
      (error) => reportUnhandled("CircuitBreaker failed to record an outcome", Cause.fail(error))
    )
  return {
    provider,
    state: Effect.orElseSucceed(store.state(provider), (): State => ({ _tag: "Closed", key: provider })),
    protect: <A, E, R>(effect: Effect.Effect<A, E, R>, classify?: (error: E) => Verdict) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.scopedWith((scope) =>
          Effect.matchCauseEffect(Scope.provide(store.admit(provider), scope), {
            onFailure: (cause): Effect.Effect<A, E | CircuitOpen, R> => {
              const error = Cause.findErrorOption(cause)
              // No failure in the cause: a defect or an interruption, passed on as it is.
              if (error._tag === "None") return Effect.failCause(cause as Cause.Cause<never>)
              const refused = toCircuitOpen(provider, error.value)
              return refused === undefined
                ? Effect.andThen(
                    reportUnhandled("CircuitBreaker store unavailable, running the call unrecorded", cause),
                    restore(effect)
                  )
                : Effect.fail(refused)
            },
            onSuccess: (admission) =>
              Effect.onExit(restore(effect), (exit) =>
                record(
                  admission.generation,
                  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
                    ? Persisted.ignored
                    : outcome(exit, classify)
                )
              )
          })
        )
      )
  }
}
