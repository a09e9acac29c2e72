/**
 * What every agent of one system shares about its providers — one account, one budget: a circuit breaker and
 * rate limits per provider, token and cost accounting, and the stream of mixture fan-outs for the audit log.
 *
 * Provide one pool at the edge of the program and build every mixture (every agent's `LanguageModel`) on top of
 * it; a pool per agent would let each agent spend the whole rate limit and hide the total cost.
 *
 * Breakers and limits are `effect/persistence`'s `CircuitBreaker` (its circuit store, driven by
 * `CircuitBreaker.fromStore`) and `RateLimiter`, keyed by provider name. `layer` keeps their state in this
 * process; `layerRedis` keeps it in Redis, so that several processes (runners of one cluster, CLIs sharing a key)
 * respect one provider's limits together and see its breaker open together.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { ProviderPool } from "@troupe/providers"
 *
 * const report = Effect.gen(function*() {
 *   const pool = yield* ProviderPool.ProviderPool
 *   return yield* pool.usage
 * }).pipe(Effect.provide(ProviderPool.layer({ limits: { openai: { requestsPerMinute: 500 } } })))
 * ```
 */
import type * as AiError from "effect/ai/AiError"
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as PersistedBreaker from "effect/persistence/CircuitBreaker"
import * as PersistedLimiter from "effect/persistence/RateLimiter"
import type * as Redis from "effect/persistence/Redis"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Timeout from "../internal/timeout.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import * as PooledStream from "./internal/pooledStream.ts"
import type * as MixtureEvent from "./MixtureEvent.ts"
import * as Pricing from "./Pricing.ts"
import * as RateLimiter from "./RateLimiter.ts"

/** The provider did not answer within its timeout (the call was interrupted). */
export class ProviderTimeout extends Schema.TaggedError<ProviderTimeout>()("ProviderTimeout", {
  provider: Schema.String,
  timeoutMillis: Schema.Finite
}) {
  override get message(): string {
    return `${this.provider}: no answer within ${this.timeoutMillis} ms`
  }
}

/** Every way a pooled call can fail. */
export type CallError = AiError.AiError | CircuitOpen | RateLimited | ProviderTimeout

type CircuitOpen = CircuitBreaker.CircuitOpen
type RateLimited = RateLimiter.RateLimited

/** Pool settings; every field has a default. */
export interface Settings {
  /** Rate limits by provider name (default: none). */
  readonly limits?: Readonly<Record<string, RateLimiter.Limits>>
  /** Breaker settings, the same for every provider (default: open after 5 failures, 30 s cool-down). */
  readonly breaker?: CircuitBreaker.Options
  /** Breaker settings by provider name, overriding `breaker`. */
  readonly breakers?: Readonly<Record<string, CircuitBreaker.Options>>
  /** Prices (default `Pricing.defaults`). Calls to providers named `ollama` cost nothing. */
  readonly prices?: Pricing.PriceTable
  /** How many fan-outs `recent` keeps (default 256). */
  readonly historySize?: number
}

/** Tokens, cost and outcomes of one provider since the pool started. */
export interface ProviderUsage {
  readonly provider: string
  readonly requests: number
  readonly successes: number
  readonly failures: number
  readonly cancelled: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** USD; calls to models without a price are left out (see `unpricedCalls`). */
  readonly costUsd: number
  readonly unpricedCalls: number
}

/** Token usage of one answer. */
export interface TokenUsage {
  readonly inputTokens: number
  readonly outputTokens: number
}

/** The accounted result of a pooled call. */
export interface Accounted<A> {
  readonly value: A
  readonly latencyMs: number
  readonly usage: TokenUsage | undefined
  readonly costUsd: number | undefined
}

/** Which provider and model a call goes to, and its time limits. */
export interface Target {
  readonly provider: string
  readonly model: string
  /** The call's time limit, its wait for the rate limits included (default: none). */
  readonly timeout?: Duration.Input | undefined
  /**
   * The longest the call may wait for the rate limits before it fails with `RateLimited` (default: its
   * `timeout`, or unbounded without one). A stream, whose whole duration no timeout bounds, sets it alone.
   */
  readonly maxWait?: Duration.Input | undefined
}

/** The pool's operations. */
export interface Service {
  /**
   * Runs one provider call through that provider's breaker, rate limiter and timeout, and accounts its
   * tokens and cost. A 429 (`RateLimitError`) holds the provider's new calls back for its retry-after and does not
   * count against the breaker; an invalid answer (`InvalidOutputError`, `StructuredOutputError`) counts as the
   * provider being up.
   */
  readonly call: <A, R>(
    target: Target,
    effect: Effect.Effect<A, AiError.AiError, R>,
    options: { readonly usageOf: (a: A) => TokenUsage | undefined; readonly estimatedTokens?: number }
  ) => Effect.Effect<Accounted<A>, CallError, R>
  /**
   * Runs one provider stream through that provider's breaker and rate limiter: admitted before its first part, its
   * outcome recorded when it ends, fails or is given up, its tokens accounted from the usage it reports (estimated
   * when it is cut short). The target's `timeout` bounds the time to the first content part, not the whole stream.
   */
  readonly stream: <A, R>(
    target: Target,
    stream: Stream.Stream<A, AiError.AiError, R>,
    options: PooledStream.Options<A>
  ) => Stream.Stream<A, CallError, R>
  /** Publishes one fan-out (its `id` is assigned here) and keeps it for `recent`. */
  readonly record: (event: Omit<MixtureEvent.FanOut, "id" | "_tag">) => Effect.Effect<MixtureEvent.FanOut>
  /** Every fan-out recorded from now on. */
  readonly events: Stream.Stream<MixtureEvent.FanOut>
  /** The last `n` fan-outs, oldest first. */
  readonly recent: (n: number) => Effect.Effect<ReadonlyArray<MixtureEvent.FanOut>>
  /** Usage per provider, in the order providers were first called. */
  readonly usage: Effect.Effect<ReadonlyArray<ProviderUsage>>
  /** The breaker of a provider (created on first use). */
  readonly breaker: (provider: string) => CircuitBreaker.CircuitBreaker
  /** The rate limiter of a provider (created on first use). */
  readonly limiter: (provider: string) => RateLimiter.RateLimiter
  readonly prices: Pricing.PriceTable
  /**
   * The provider's typical latency in milliseconds (an exponentially weighted mean of its successful calls),
   * or undefined before its first success. The mixture uses it to decide which provider to start first.
   */
  readonly expectedLatency: (provider: string) => number | undefined
}

/** The provider pool shared by all agents of one system. */
export class ProviderPool extends Context.Service<ProviderPool, Service>()("@troupe/providers/ProviderPool") {}

interface MutableUsage {
  provider: string
  requests: number
  successes: number
  failures: number
  cancelled: number
  inputTokens: number
  outputTokens: number
  costUsd: number
  unpricedCalls: number
}

// Only failures that say something about the provider's health move its breaker: a call our own limiter refused
// never reached it, a 429 is the limiter's business, and an answer that did not parse came from a provider that is up.
const verdict = (error: CallError): CircuitBreaker.Verdict => {
  if (error._tag === "RateLimited" || error._tag === "CircuitOpen") return "ignored"
  if (error._tag === "AiError") {
    const tag = error.reason._tag
    if (tag === "RateLimitError") return "ignored"
    if (tag === "InvalidOutputError" || tag === "StructuredOutputError") return "success"
  }
  return "failure"
}

// A 429 without a retry-after still holds new calls back a little.
const heldBackBy = (error: CallError): Duration.Duration | undefined =>
  error._tag === "AiError" && error.reason._tag === "RateLimitError"
    ? (error.retryAfter ?? Duration.seconds(1))
    : undefined

// Each provider's breaker, limiter and usage are created on its first call.
const getOrCreate = <V>(map: Map<string, V>, key: string, create: () => V): V => {
  let value = map.get(key)
  if (value === undefined) {
    value = create()
    map.set(key, value)
  }
  return value
}

/** Builds a pool on the breaker and limiter stores of the context; its breakers live as long as the scope. */
export const make = Effect.fnUntraced(function* (settings: Settings = {}) {
  const prices = settings.prices ?? Pricing.defaults
  const historySize = Math.max(1, settings.historySize ?? 256)
  // Each provider's breaker works on the circuit store directly (`CircuitBreaker.fromStore` says why), its circuit
  // keyed by the provider's name, with the provider's own settings over the default ones.
  const circuits = yield* PersistedBreaker.CircuitBreakerStore
  const store = yield* PersistedLimiter.make
  const breakers = new Map<string, CircuitBreaker.CircuitBreaker>()
  const limiters = new Map<string, RateLimiter.RateLimiter>()
  const usage = new Map<string, MutableUsage>()
  const latency = new Map<string, number>()
  const history: Array<MixtureEvent.FanOut> = []
  const pubsub = yield* PubSub.unbounded<MixtureEvent.FanOut>()
  let sequence = 0

  const breaker = (provider: string) =>
    getOrCreate(breakers, provider, () =>
      CircuitBreaker.fromStore(provider, circuits, { ...settings.breaker, ...settings.breakers?.[provider] })
    )
  const limiter = (provider: string) =>
    getOrCreate(limiters, provider, () => RateLimiter.make(provider, settings.limits?.[provider] ?? {}, store))
  const usageOf = (provider: string) =>
    getOrCreate(
      usage,
      provider,
      (): MutableUsage => ({
        provider,
        requests: 0,
        successes: 0,
        failures: 0,
        cancelled: 0,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        unpricedCalls: 0
      })
    )
  const costOf = (target: Target, tokens: TokenUsage) =>
    target.provider === "ollama" ? 0 : Pricing.cost(prices, target.model, tokens.inputTokens, tokens.outputTokens)

  const call: Service["call"] = (target, effect, options) =>
    Effect.gen(function* () {
      const start = yield* Clock.currentTimeMillis
      const timeoutMillis = target.timeout === undefined ? undefined : Duration.toMillis(target.timeout)
      const maxWaitMillis = target.maxWait === undefined ? timeoutMillis : Duration.toMillis(target.maxWait)
      const limited = limiter(target.provider).limit(effect, {
        estimatedTokens: options.estimatedTokens ?? 0,
        tokensOf: (a) => {
          const u = options.usageOf(a)
          return u === undefined ? (options.estimatedTokens ?? 0) : u.inputTokens + u.outputTokens
        },
        heldBackBy,
        ...(maxWaitMillis === undefined ? {} : { maxWaitMillis })
      })
      const timed: Effect.Effect<unknown, CallError, unknown> =
        timeoutMillis === undefined
          ? limited
          : Timeout.timeoutOrElse(limited, {
              duration: timeoutMillis,
              orElse: () => Effect.fail(new ProviderTimeout({ provider: target.provider, timeoutMillis }))
            })
      const u = usageOf(target.provider)
      const exit = yield* breaker(target.provider)
        .protect(timed, verdict)
        .pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              u.requests++
              u.cancelled++
            })
          ),
          Effect.exit
        )
      const end = yield* Clock.currentTimeMillis
      u.requests++
      if (Exit.isFailure(exit)) {
        u.failures++
        return yield* Effect.failCause(exit.cause as Cause.Cause<CallError>)
      }
      const value = exit.value as Effect.Success<typeof effect>
      u.successes++
      const previous = latency.get(target.provider)
      latency.set(target.provider, previous === undefined ? end - start : 0.8 * previous + 0.2 * (end - start))
      const tokens = options.usageOf(value)
      let costUsd: number | undefined
      if (tokens !== undefined) {
        u.inputTokens += tokens.inputTokens
        u.outputTokens += tokens.outputTokens
        costUsd = costOf(target, tokens)
        if (costUsd === undefined) u.unpricedCalls++
        else u.costUsd += costUsd
      }
      return { value, latencyMs: end - start, usage: tokens, costUsd }
    }) as never

  // A stream's outcome, booked as `call` books a call's.
  const record: PooledStream.Ledger["record"] = (target, outcome, latencyMs, tokens) => {
    const u = usageOf(target.provider)
    u.requests++
    if (outcome === "success") {
      u.successes++
      const previous = latency.get(target.provider)
      latency.set(target.provider, previous === undefined ? latencyMs : 0.8 * previous + 0.2 * latencyMs)
    } else if (outcome === "failure") u.failures++
    else u.cancelled++
    if (tokens === undefined) return undefined
    u.inputTokens += tokens.inputTokens
    u.outputTokens += tokens.outputTokens
    const costUsd = costOf(target, tokens)
    if (costUsd === undefined) u.unpricedCalls++
    else u.costUsd += costUsd
    return costUsd
  }

  return ProviderPool.of({
    call,
    stream: PooledStream.make({
      breaker,
      limiter,
      verdict,
      heldBackBy,
      timedOut: (provider, timeoutMillis) => new ProviderTimeout({ provider, timeoutMillis }),
      record
    }),
    record: (event) =>
      Effect.suspend(() => {
        const full: MixtureEvent.FanOut = { _tag: "MixtureFanOut", id: ++sequence, ...event }
        history.push(full)
        if (history.length > historySize) history.splice(0, history.length - historySize)
        return PubSub.publish(pubsub, full).pipe(Effect.as(full))
      }),
    events: Stream.fromPubSub(pubsub),
    recent: (n) => Effect.sync(() => history.slice(Math.max(0, history.length - n))),
    usage: Effect.sync(() => [...usage.values()].map((u) => ({ ...u }))),
    breaker,
    limiter,
    prices,
    expectedLatency: (provider) => latency.get(provider)
  })
})

/**
 * A pool with these settings on the breaker and limiter stores the program provides: `effect/persistence`'s
 * `CircuitBreaker.layerStoreRedis()` and `RateLimiter.layerStoreRedis()`, or stores of your own.
 */
export const layerFromStores = (
  settings: Settings = {}
): Layer.Layer<ProviderPool, never, PersistedBreaker.CircuitBreakerStore | PersistedLimiter.RateLimiterStore> =>
  Layer.effect(ProviderPool, make(settings))

/** A pool with these settings, its breakers and limits kept in this process. */
export const layer = (settings: Settings = {}): Layer.Layer<ProviderPool> =>
  layerFromStores(settings).pipe(
    Layer.provide(Layer.merge(PersistedBreaker.layerStoreMemory(), PersistedLimiter.layerStoreMemory))
  )

/**
 * A pool with these settings, its breakers and limits kept in Redis (keys under `prefix`, default `troupe:`), so
 * that every process on the same Redis shares them. Needs a `Redis` service, e.g. `@effect/platform-node`'s
 * `NodeRedis.layer({ url })`.
 */
export const layerRedis = (
  settings: Settings = {},
  options: { readonly prefix?: string } = {}
): Layer.Layer<ProviderPool, never, Redis.Redis> => {
  const prefix = options.prefix ?? "troupe:"
  return layerFromStores(settings).pipe(
    Layer.provide(
      Layer.merge(
        PersistedBreaker.layerStoreRedis({ prefix: `${prefix}circuit:` }),
        PersistedLimiter.layerStoreRedis({ prefix: `${prefix}limit:` })
      )
    )
  )
}

/** A pool with default settings, for tests. */
export const layerTest: Layer.Layer<ProviderPool> = layer()
