/**
 * The Mixture of Providers: one `LanguageModel` that asks several providers and returns the best answer.
 *
 * Every request is fanned out to the members (each with its own timeout, through the shared `ProviderPool`'s
 * breakers, rate limits and accounting). A failing provider is excluded and recorded, never fatal while one
 * answers. Strategies:
 * - `weightedScore` — wait for every answer, score each with pluggable scorers (quality, schema validity,
 *   tool-call validity, agreement, optionally a judge model) times the provider's weight; the best wins.
 * - `firstValid` — the first acceptable answer wins and the other calls are interrupted.
 * - `quorum(k)` — the first answer that k providers agree on wins; the other calls are interrupted.
 * - `fallback` — providers in order, each retried on retryable failures, until one gives an acceptable answer.
 *
 * Hedging (`hedge: { after }`, for `firstValid` and `fallback`) starts providers one by one: the next one starts
 * when the running ones have not answered within `after`, or at once when one fails.
 *
 * Losing calls are interrupted in the background right after the decision (their HTTP requests are aborted
 * once the caller has its answer). Without hedging, members start slowest-first when every answer is awaited and
 * fastest-first when the first answers win, by the latency the pool has observed.
 *
 * Failure: when no provider gives an acceptable answer the mixture fails with `MixtureFailed`, which carries every
 * provider's reason. `LanguageModel`'s error channel only admits `AiError`, so the mixture's service surfaces it
 * as an `AiError` (module "Mixture") whose reason is the providers' common reason when they all failed alike
 * (so `isRetryable`, `retryAfter` and `catchReason("AuthenticationError")` keep working), or `UnknownError`
 * otherwise; either way `reason.metadata.mixture` holds the encoded `MixtureFailed` and `failureOf(error)`
 * gives it back. `decide` returns `MixtureFailed` directly.
 *
 * The winner is reported in the answer's `response-metadata` part (`metadata.mixture`: provider, model,
 * strategy, scores); `decisionOf(response)` reads it. Every fan-out is also published by the pool as a
 * `MixtureEvent.FanOut`.
 *
 * Streaming: `firstValid` streams the first provider to produce content and interrupts the others; the other
 * strategies (and hedged `firstValid`) decide first, then stream the winner's answer.
 *
 * @example
 * ```ts
 * import type * as LanguageModel from "effect/ai/LanguageModel"
 * import * as Layer from "effect/Layer"
 * import { Mixture, ProviderPool } from "@troupe/providers"
 *
 * const model = (openai: LanguageModel.LanguageModel, anthropic: LanguageModel.LanguageModel) =>
 *   Mixture.layer({
 *     members: [
 *       { provider: "openai", model: "gpt-4o-mini", languageModel: openai, timeout: "20 seconds" },
 *       { provider: "anthropic", model: "claude-3-5-haiku-latest", languageModel: anthropic, weight: 1.2 }
 *     ],
 *     strategy: Mixture.weightedScore()
 *   }).pipe(Layer.provide(ProviderPool.layer()))
 * ```
 */
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import * as Response from "effect/ai/Response"
import type * as Tool from "effect/ai/Tool"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as MixtureEvent from "./MixtureEvent.ts"
import * as ProviderPool from "./ProviderPool.ts"
import * as Scorer from "./Scorer.ts"
import * as Scorers from "./Scorers.ts"

// -----------------------------------------------------------------------------
// Model
// -----------------------------------------------------------------------------

/** One provider of the mixture. */
export interface Member {
  /** The provider's name, the key of its breaker, limits and accounting in the pool (`openai`, `anthropic`...). */
  readonly provider: string
  /** The model id, for pricing and reports. */
  readonly model: string
  /** Its weight in `weightedScore` (default 1). */
  readonly weight?: number
  /** Its time limit per call, rate-limit wait included (default 60 seconds). */
  readonly timeout?: Duration.Input
  readonly languageModel: LanguageModel.LanguageModel
}

/** How the mixture picks its answer. */
export type Strategy =
  | {
      readonly _tag: "WeightedScore"
      readonly scorers: ReadonlyArray<Scorer.Scorer>
    }
  | { readonly _tag: "FirstValid" }
  | { readonly _tag: "Quorum"; readonly k: number; readonly threshold: number }
  | { readonly _tag: "Fallback"; readonly retries: number; readonly backoff: Duration.Input }

/**
 * Score every answer and return the best. `scorers` default to `Scorers.defaults`; `judge` adds a judge model
 * scorer (one extra call per fan-out).
 */
export const weightedScore = (
  options: { readonly scorers?: ReadonlyArray<Scorer.Scorer>; readonly judge?: LanguageModel.LanguageModel } = {}
): Strategy => ({
  _tag: "WeightedScore",
  scorers: [
    ...(options.scorers ?? Scorers.defaults),
    ...(options.judge === undefined ? [] : [Scorers.judge(options.judge)])
  ]
})

/** Return the first acceptable answer and interrupt the other calls. */
export const firstValid: Strategy = { _tag: "FirstValid" }

/**
 * Return the first answer that `k` providers agree on (similarity ≥ `threshold`, default 0.8: identical tool
 * calls or JSON, or texts sharing most of their words), interrupting the other calls.
 */
export const quorum = (k: number, options: { readonly threshold?: number } = {}): Strategy => ({
  _tag: "Quorum",
  k: Math.max(1, k),
  threshold: options.threshold ?? 0.8
})

/** Ask providers in order, retrying each `retries` times (default 1) on retryable failures with `backoff`. */
export const fallback = (options: { readonly retries?: number; readonly backoff?: Duration.Input } = {}): Strategy => ({
  _tag: "Fallback",
  retries: Math.max(0, options.retries ?? 1),
  backoff: options.backoff ?? Duration.millis(200)
})

/** The name of a strategy, as reported in events and answers. */
export const strategyName = (strategy: Strategy): string => {
  switch (strategy._tag) {
    case "WeightedScore":
      return "weighted-score"
    case "FirstValid":
      return "first-valid"
    case "Quorum":
      return `quorum(${strategy.k})`
    case "Fallback":
      return "fallback"
  }
}

/** A mixture. */
export interface Options {
  readonly members: ReadonlyArray<Member>
  readonly strategy: Strategy
  /** Start providers one by one (`firstValid` and `fallback` only): the next after `after` without an answer. */
  readonly hedge?: { readonly after: Duration.Input }
}

/** One provider's failure, as `MixtureFailed` reports it. */
export const ProviderFailure = Schema.Struct({
  provider: Schema.String,
  model: Schema.String,
  /** The failure's tag (`AuthenticationError`, `ProviderTimeout`, `CircuitOpen`, ...) or a rejection (`Rejected:schema`). */
  reason: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean
})

/** One provider's failure. */
export type ProviderFailure = typeof ProviderFailure.Type

/** No provider gave an acceptable answer. `failures` has one entry per provider, in member order. */
export class MixtureFailed extends Schema.TaggedError<MixtureFailed>()("MixtureFailed", {
  strategy: Schema.String,
  failures: Schema.Array(ProviderFailure),
  detail: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    const each = this.failures.map((f) => `${f.provider}: ${f.message}`).join("; ")
    return `every provider failed (${this.strategy})${this.detail === undefined ? "" : `, ${this.detail}`}: ${each}`
  }
}

/** The mixture's answer and how it was chosen. */
export interface Decision {
  readonly winner: Scorer.Candidate
  /** The scores of every answer that was scored (scoring strategies), winner included. */
  readonly scores: ReadonlyArray<{ readonly provider: string; readonly score: number; readonly rejectedBy?: string }>
  readonly event: MixtureEvent.FanOut
}

/** The winner as reported in `response-metadata` (`metadata.mixture`). */
export const DecisionSummary = Schema.Struct({
  provider: Schema.String,
  model: Schema.String,
  strategy: Schema.String,
  scores: Schema.Array(
    Schema.Struct({ provider: Schema.String, score: Schema.Finite, rejectedBy: Schema.optionalKey(Schema.String) })
  )
})

/** The winner as reported in `response-metadata`. */
export type DecisionSummary = typeof DecisionSummary.Type

// -----------------------------------------------------------------------------
// Calling one member
// -----------------------------------------------------------------------------

type AnyResponse = LanguageModel.GenerateTextResponse<any, "deferred">

// The member is called with the request as the mixture received it, tool calls left unresolved and unvalidated:
// the mixture validates them itself (tool-call gate) and the outer `LanguageModel` decodes and runs only the
// winner's. The toolkit needs no handlers since nothing is resolved.
const innerOptions = (request: LanguageModel.ProviderOptions) => {
  const tools: Record<string, Tool.Any> = {}
  for (const tool of request.tools) tools[tool.name] = tool
  return {
    prompt: request.prompt,
    toolChoice: request.toolChoice,
    disableToolCallResolution: true as const,
    toolCallValidation: "deferred" as const,
    ...(request.tools.length === 0
      ? {}
      : { toolkit: { tools, handle: () => Effect.die("the mixture never resolves tool calls itself") } })
  }
}

interface LooseModel {
  readonly generateText: (options: unknown) => Effect.Effect<AnyResponse, AiError.AiError>
  readonly generateObject: (options: unknown) => Effect.Effect<AnyResponse, AiError.AiError>
  readonly streamText: (options: unknown) => Stream.Stream<Response.StreamPart<any, "deferred">, AiError.AiError>
}

const invoke = (model: LanguageModel.LanguageModel, request: LanguageModel.ProviderOptions) => {
  const loose = model as unknown as LooseModel
  const base = innerOptions(request)
  return request.responseFormat.type === "json"
    ? loose.generateObject({
        ...base,
        schema: request.responseFormat.schema,
        objectName: request.responseFormat.objectName
      })
    : loose.generateText(base)
}

const usageOf = (response: AnyResponse): ProviderPool.TokenUsage | undefined => {
  const finish = response.content.find((p) => p.type === "finish")
  if (finish === undefined) return undefined
  return {
    inputTokens: finish.usage.inputTokens.total ?? 0,
    outputTokens: finish.usage.outputTokens.total ?? 0
  }
}

const promptChars = (prompt: Prompt.Prompt): number => {
  let n = 0
  for (const message of prompt.content) {
    if (message.role === "system") n += message.content.length
    else for (const part of message.content) if (part.type === "text") n += part.text.length
  }
  return n
}

const providerFailure = (member: Member, error: ProviderPool.CallError): ProviderFailure => {
  switch (error._tag) {
    case "AiError":
      return {
        provider: member.provider,
        model: member.model,
        reason: error.reason._tag,
        message: error.reason.message,
        retryable: error.isRetryable
      }
    case "ProviderTimeout":
      return {
        provider: member.provider,
        model: member.model,
        reason: error._tag,
        message: error.message,
        retryable: true
      }
    case "CircuitOpen":
    case "RateLimited":
      return {
        provider: member.provider,
        model: member.model,
        reason: error._tag,
        message: error.message,
        retryable: true
      }
  }
}

const isRetryable = (error: ProviderPool.CallError): boolean =>
  error._tag === "AiError" ? error.isRetryable : error._tag === "ProviderTimeout"

// -----------------------------------------------------------------------------
// The fan-out engine
// -----------------------------------------------------------------------------

interface AttemptRecord {
  outcome: MixtureEvent.Outcome
  startedAt?: number
  latencyMs?: number
  score?: number
  reason?: string
  message?: string
  inputTokens?: number
  outputTokens?: number
  costUsd?: number
  failure?: ProviderFailure
  aiReason?: AiError.AiErrorReason
}

type Event =
  | {
      readonly _tag: "Done"
      readonly index: number
      readonly exit: Exit.Exit<Scorer.Candidate, ProviderPool.CallError>
    }
  | { readonly _tag: "Hedge"; readonly generation: number }

const defaultTimeout = Duration.seconds(60)

/**
 * Runs one fan-out and returns the winner, or `MixtureFailed` with every provider's reason. The fan-out is
 * recorded in the pool either way.
 */
export const decide = (
  options: Options
): ((request: LanguageModel.ProviderOptions) => Effect.Effect<Decision, MixtureFailed, ProviderPool.ProviderPool>) => {
  const members = options.members
  const strategy = options.strategy
  const name = strategyName(strategy)
  const hedgeMillis =
    options.hedge !== undefined && (strategy._tag === "FirstValid" || strategy._tag === "Fallback")
      ? Duration.toMillis(options.hedge.after)
      : undefined

  return (request) =>
    Effect.gen(function* () {
      const pool = yield* ProviderPool.ProviderPool
      const startedAt = yield* Clock.currentTimeMillis
      const estimatedTokens = Math.ceil(promptChars(request.prompt) / 4)
      const records: Array<AttemptRecord> = members.map(() => ({ outcome: "skipped" }))
      const candidates: Array<Scorer.Candidate | undefined> = members.map(() => undefined)
      // Completions and hedge timers arrive here. A Deferred resumes the waiting loop directly, where a Queue
      // would wake it a turn of the event loop later — on the path of every answer.
      const inbox: Array<Event> = []
      let wake = Deferred.makeUnsafe<void>()
      const post = (event: Event) =>
        Effect.sync(() => {
          inbox.push(event)
          Deferred.doneUnsafe(wake, Effect.void)
        })
      const next: Effect.Effect<Event> = Effect.suspend(() =>
        inbox.length > 0
          ? Effect.succeed(inbox.shift()!)
          : Effect.map(Deferred.await(wake), () => {
              wake = Deferred.makeUnsafe<void>()
              return inbox.shift()!
            })
      )
      const fibers = new Map<number, Fiber.Fiber<void>>()
      let launched = 0
      const order = launchOrder(members, strategy, hedgeMillis !== undefined, pool)
      let hedgeGeneration = 0

      const callOnce = (member: Member) =>
        pool.call(
          { provider: member.provider, model: member.model, timeout: member.timeout ?? defaultTimeout },
          invoke(member.languageModel, request),
          { usageOf, estimatedTokens }
        )

      const attempt = (index: number): Effect.Effect<Scorer.Candidate, ProviderPool.CallError> => {
        const member = members[index]!
        const once = callOnce(member)
        // The retry machinery is only built once a call has failed: the common, successful path stays cheap.
        const retried =
          strategy._tag === "Fallback" && strategy.retries > 0
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
            : once
        return Effect.gen(function* () {
          const start = yield* Clock.currentTimeMillis
          const record = records[index]!
          record.startedAt = start
          return yield* retried.pipe(
            Effect.map((accounted): Scorer.Candidate => {
              record.outcome = "answered"
              record.latencyMs = accounted.latencyMs
              if (accounted.usage !== undefined) {
                record.inputTokens = accounted.usage.inputTokens
                record.outputTokens = accounted.usage.outputTokens
              }
              if (accounted.costUsd !== undefined) record.costUsd = accounted.costUsd
              return {
                provider: member.provider,
                model: member.model,
                weight: member.weight ?? 1,
                response: accounted.value
              }
            }),
            Effect.tapError((error) =>
              Effect.map(Clock.currentTimeMillis, (end) => {
                const failure = providerFailure(member, error)
                record.outcome =
                  error._tag === "ProviderTimeout" ? "timeout" : error._tag === "CircuitOpen" ? "skipped" : "failed"
                record.latencyMs = end - start
                record.reason = failure.reason
                record.message = failure.message
                record.failure = failure
                if (error._tag === "AiError") record.aiReason = error.reason
              })
            ),
            Effect.onInterrupt(() =>
              Effect.map(Clock.currentTimeMillis, (end) => {
                record.outcome = "cancelled"
                record.latencyMs = end - start
              })
            )
          )
        })
      }

      const launch = Effect.suspend(() => {
        if (launched >= members.length) return Effect.void
        const index = order[launched++]!
        return attempt(index).pipe(
          Effect.exit,
          Effect.flatMap((exit) => post({ _tag: "Done", index, exit })),
          Effect.asVoid,
          Effect.forkChild,
          Effect.tap((fiber) => Effect.sync(() => fibers.set(index, fiber))),
          Effect.andThen(
            hedgeMillis === undefined || launched >= members.length
              ? Effect.void
              : Effect.sync(() => ++hedgeGeneration).pipe(
                  Effect.flatMap((generation) =>
                    Effect.sleep(hedgeMillis).pipe(
                      Effect.andThen(post({ _tag: "Hedge", generation })),
                      Effect.forkChild
                    )
                  ),
                  Effect.asVoid
                )
          )
        )
      })

      // Sequential strategies start one provider; hedging starts more over time; the others start everyone.
      const sequential = strategy._tag === "Fallback" || hedgeMillis !== undefined
      if (sequential) yield* launch
      else for (let i = 0; i < members.length; i++) yield* launch

      const groups: Array<Array<Scorer.Candidate>> = []
      let winner: Scorer.Candidate | undefined
      let pending = launched

      while (pending > 0 && winner === undefined) {
        const event = yield* next
        if (event._tag === "Hedge") {
          if (event.generation === hedgeGeneration && launched < members.length) {
            yield* launch
            pending++
          }
          continue
        }
        pending--
        fibers.delete(event.index)
        let accepted = false
        if (Exit.isSuccess(event.exit)) {
          const candidate = event.exit.value
          candidates[event.index] = candidate
          const rejected = Scorers.rejection(candidate, request)
          if (rejected !== undefined && strategy._tag !== "WeightedScore") {
            const record = records[event.index]!
            record.outcome = "rejected"
            record.reason = `Rejected:${rejected}`
            record.message = `answer rejected (${rejected})`
            record.failure = {
              provider: candidate.provider,
              model: candidate.model,
              reason: record.reason,
              message: record.message,
              retryable: true
            }
          } else if (strategy._tag === "FirstValid" || strategy._tag === "Fallback") {
            winner = candidate
            accepted = true
          } else if (strategy._tag === "Quorum") {
            accepted = true
            const group = groups.find(
              (g) => Scorers.similarity(g[0]!.response, candidate.response) >= strategy.threshold
            )
            if (group === undefined) groups.push([candidate])
            else group.push(candidate)
            const reached = groups.find((g) => g.length >= strategy.k)
            if (reached !== undefined) {
              winner = reached.reduce((best, c) =>
                c.weight * Scorers.quality(c.response) > best.weight * Scorers.quality(best.response) ? c : best
              )
            }
          } else {
            accepted = true
          }
        }
        // A failed or rejected sequential attempt hands over to the next provider at once.
        if (!accepted && sequential && winner === undefined && launched < members.length) {
          yield* launch
          pending++
        }
      }

      // The decision is made: the calls still running lost. They are interrupted in the background, after the
      // caller has had its turn, so tearing down their HTTP requests does not delay the answer; the event
      // already reports them cancelled.
      if (fibers.size > 0) {
        const now = yield* Clock.currentTimeMillis
        for (const index of fibers.keys()) {
          const record = records[index]!
          record.outcome = "cancelled"
          if (record.startedAt !== undefined) record.latencyMs = now - record.startedAt
        }
        yield* Effect.forkDetach(Effect.yieldNow.pipe(Effect.andThen(Fiber.interruptAll([...fibers.values()]))))
      }

      let scores: Decision["scores"] = []
      if (strategy._tag === "WeightedScore") {
        const answered = candidates.filter((c): c is Scorer.Candidate => c !== undefined)
        const scored = yield* Scorer.scoreAll(strategy.scorers, answered, request)
        let best: Scorer.Scored | undefined
        for (const s of scored) {
          const index = candidates.indexOf(s.candidate)
          const record = records[index]!
          record.score = s.total
          const rejected = s.rejectedBy ?? Scorers.rejection(s.candidate, request)
          if (rejected !== undefined && rejected !== "refusal") {
            record.outcome = "rejected"
            record.reason = `Rejected:${rejected}`
            record.message = `answer rejected (${rejected})`
            record.failure = {
              provider: s.candidate.provider,
              model: s.candidate.model,
              reason: record.reason,
              message: record.message,
              retryable: true
            }
            continue
          }
          if (best === undefined || s.total > best.total) best = s
        }
        winner = best?.candidate
        scores = scored.map((s) => ({
          provider: s.candidate.provider,
          score: s.total,
          ...(s.rejectedBy === undefined ? {} : { rejectedBy: s.rejectedBy })
        }))
      }

      const end = yield* Clock.currentTimeMillis
      if (winner !== undefined) {
        const index = candidates.indexOf(winner)
        records[index]!.outcome = "won"
      }
      const event = yield* pool.record({
        strategy: name,
        startedAt,
        durationMs: end - startedAt,
        ...(winner === undefined ? {} : { winner: { provider: winner.provider, model: winner.model } }),
        attempts: members.map((member, i) => {
          const r = records[i]!
          return {
            provider: member.provider,
            model: member.model,
            outcome: r.outcome,
            ...(r.latencyMs === undefined ? {} : { latencyMs: r.latencyMs }),
            ...(r.score === undefined ? {} : { score: r.score }),
            ...(r.reason === undefined ? {} : { reason: r.reason }),
            ...(r.message === undefined ? {} : { message: r.message }),
            ...(r.inputTokens === undefined ? {} : { inputTokens: r.inputTokens }),
            ...(r.outputTokens === undefined ? {} : { outputTokens: r.outputTokens }),
            ...(r.costUsd === undefined ? {} : { costUsd: r.costUsd })
          }
        })
      })

      if (winner === undefined) {
        const failures = members.map((member, i): ProviderFailure => {
          const r = records[i]!
          if (r.failure !== undefined) return r.failure
          if (r.outcome === "answered") {
            return {
              provider: member.provider,
              model: member.model,
              reason: "Disagreed",
              message: "its answer found no quorum",
              retryable: true
            }
          }
          return {
            provider: member.provider,
            model: member.model,
            reason: "NotAttempted",
            message: "not attempted",
            retryable: true
          }
        })
        const detail =
          strategy._tag === "Quorum" && records.some((r) => r.outcome === "answered")
            ? `no ${strategy.k} answers agreed`
            : undefined
        const failed = new MixtureFailed({ strategy: name, failures, ...(detail === undefined ? {} : { detail }) })
        reasonsByError.set(
          failed,
          records.map((r) => r.aiReason)
        )
        return yield* Effect.fail(failed)
      }
      return { winner, scores, event }
    })
}

// All members start at once, but each one's request is built on this one thread before the next begins (about
// half a millisecond with the HTTP adapters). When every answer is awaited the slowest provider goes first, so the
// others are prepared while it works; when the first answers win, the fastest goes first. Ordered strategies
// (fallback, hedging) keep the configured order. Providers without a latency yet keep their place, in front.
const launchOrder = (
  members: ReadonlyArray<Member>,
  strategy: Strategy,
  hedged: boolean,
  pool: ProviderPool.Service
): ReadonlyArray<number> => {
  const indices = members.map((_, i) => i)
  if (strategy._tag === "Fallback" || hedged) return indices
  const slowestFirst = strategy._tag === "WeightedScore"
  const key = (i: number) => {
    const expected = pool.expectedLatency(members[i]!.provider)
    if (expected === undefined) return slowestFirst ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY
    return slowestFirst ? -expected : expected
  }
  return indices.sort((a, b) => key(a) - key(b) || a - b)
}

// The providers' original `AiError` reasons, kept beside a `MixtureFailed` (they are classes, not part of its
// schema) so the service can surface the common reason itself.
const reasonsByError = new WeakMap<MixtureFailed, ReadonlyArray<AiError.AiErrorReason | undefined>>()

// -----------------------------------------------------------------------------
// Surfacing through LanguageModel
// -----------------------------------------------------------------------------

const encodeFailure = Schema.encodeUnknownResult(MixtureFailed)
const decodeFailure = Schema.decodeUnknownResult(MixtureFailed)
const encodeReason = Schema.encodeUnknownResult(AiError.AiErrorReason)
const decodeReason = Schema.decodeUnknownResult(AiError.AiErrorReason)

/** The `AiError` the mixture's `LanguageModel` fails with for a `MixtureFailed` (see the module docs). */
export const toAiError = (failed: MixtureFailed, method: string): AiError.AiError => {
  const encoded = Result.getOrUndefined(encodeFailure(failed))
  const reasons = reasonsByError.get(failed) ?? []
  const first = reasons[0]
  const alike =
    first !== undefined &&
    reasons.length === failed.failures.length &&
    reasons.every((r) => r !== undefined && r._tag === first._tag)
  const base: AiError.AiErrorReason = alike ? first : new AiError.UnknownError({ description: failed.message })
  const withMetadata = Result.getOrUndefined(
    Result.flatMap(encodeReason(base), (e) => {
      const record = e as { readonly metadata?: Record<string, unknown> }
      return decodeReason({ ...record, metadata: { ...record.metadata, mixture: encoded ?? null } })
    })
  )
  const error = AiError.make({ module: "Mixture", method, reason: withMetadata ?? base })
  failuresByError.set(error, failed)
  return error
}

// In-process lookup for `failureOf`; the metadata copy is for errors that were serialized (audit log, other
// processes) and is absent on reasons whose schema has no metadata (`NetworkError`).
const failuresByError = new WeakMap<AiError.AiError, MixtureFailed>()

/** The `MixtureFailed` carried by an `AiError` from a mixture, if it is one. */
export const failureOf = (error: AiError.AiError): MixtureFailed | undefined => {
  const known = failuresByError.get(error)
  if (known !== undefined) return known
  const metadata = (error.reason as { readonly metadata?: Record<string, unknown> }).metadata
  const raw = metadata?.mixture
  return raw === undefined || raw === null ? undefined : Result.getOrUndefined(decodeFailure(raw))
}

const encodeParts = Schema.encodeUnknownEffect(Schema.Array(Response.Part()))
const encodeStreamPart = Schema.encodeUnknownEffect(Response.StreamPart())
const decodeSummary = Schema.decodeUnknownResult(DecisionSummary)

const summaryOf = (decision: Decision, strategy: string): DecisionSummary => ({
  provider: decision.winner.provider,
  model: decision.winner.model,
  strategy,
  scores: decision.scores.map((s) => ({
    provider: s.provider,
    score: s.score,
    ...(s.rejectedBy === undefined ? {} : { rejectedBy: s.rejectedBy })
  }))
})

// Puts the decision in the answer's response-metadata part (adding one when the provider sent none).
const annotate = <P extends { readonly type: string }>(parts: ReadonlyArray<P>, summary: DecisionSummary): Array<P> => {
  const at = parts.findIndex((p) => p.type === "response-metadata")
  const existing = (at === -1 ? { type: "response-metadata" } : parts[at]) as P & {
    readonly metadata?: Record<string, unknown>
    readonly modelId?: string
  }
  const annotated = {
    ...existing,
    modelId: existing.modelId ?? summary.model,
    metadata: { ...existing.metadata, mixture: summary }
  } as unknown as P
  return at === -1 ? [annotated, ...parts] : parts.map((p, i) => (i === at ? annotated : p))
}

/** The decision of the mixture that produced `response`, if a mixture did. */
export const decisionOf = (response: {
  readonly content: ReadonlyArray<{ readonly type: string }>
}): DecisionSummary | undefined => {
  const part = response.content.find((p) => p.type === "response-metadata") as
    | { readonly metadata?: Record<string, unknown> }
    | undefined
  const raw = part?.metadata?.mixture
  return raw === undefined ? undefined : Result.getOrUndefined(decodeSummary(raw))
}

const schemaFailure = (method: string) => (error: Schema.SchemaError) =>
  AiError.make({ module: "Mixture", method, reason: AiError.InvalidOutputError.fromSchemaError(error) })

// Replays a decided answer as stream parts (text and reasoning as one delta each).
const toStreamParts = (parts: ReadonlyArray<Response.PartEncoded>): Array<Response.StreamPartEncoded> => {
  const out: Array<Response.StreamPartEncoded> = []
  parts.forEach((part, i) => {
    if (part.type === "text") {
      const id = `text_${i}`
      out.push({ type: "text-start", id }, { type: "text-delta", id, delta: part.text }, { type: "text-end", id })
    } else if (part.type === "reasoning") {
      const id = `reasoning_${i}`
      out.push(
        { type: "reasoning-start", id },
        { type: "reasoning-delta", id, delta: part.text },
        { type: "reasoning-end", id }
      )
    } else if (part.type !== "reasoning-delta" && part.type !== "reasoning-end") {
      out.push(part as Response.StreamPartEncoded)
    }
  })
  return out
}

const streamFailure = (
  member: Member,
  strategy: string,
  cause: Cause.Cause<ProviderPool.CallError>
): Cause.Cause<AiError.AiError> => {
  const error = Cause.findErrorOption(cause)
  if (error._tag === "None") return cause as Cause.Cause<never>
  if (error.value._tag === "AiError") return Cause.fail(error.value)
  const failed = new MixtureFailed({ strategy, failures: [providerFailure(member, error.value)] })
  return Cause.fail(toAiError(failed, "streamText"))
}

const isContent = (part: Response.StreamPart<any, "deferred">): boolean =>
  part.type === "text-delta" ||
  part.type === "reasoning-delta" ||
  part.type === "tool-call" ||
  part.type === "tool-params-start" ||
  part.type === "file"

/** Builds the mixture's `LanguageModel`. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const pool = yield* ProviderPool.ProviderPool
  const run = decide(options)
  const name = strategyName(options.strategy)
  const decideWith = (request: LanguageModel.ProviderOptions, method: string) =>
    run(request).pipe(
      Effect.provideService(ProviderPool.ProviderPool, pool),
      Effect.mapError((failed) => toAiError(failed, method))
    )

  const generateText = (request: LanguageModel.ProviderOptions) =>
    Effect.gen(function* () {
      const decision = yield* decideWith(request, "generateText")
      const parts = yield* encodeParts(decision.winner.response.content).pipe(
        Effect.mapError(schemaFailure("generateText"))
      )
      return annotate(parts as ReadonlyArray<Response.PartEncoded>, summaryOf(decision, name))
    })

  const streamDecided = (request: LanguageModel.ProviderOptions) =>
    Stream.unwrap(Effect.map(generateText(request), (parts) => Stream.fromIterable(toStreamParts(parts))))

  const streamFirst = (
    request: LanguageModel.ProviderOptions
  ): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.callback<Response.StreamPartEncoded, AiError.AiError>((out) =>
      Effect.gen(function* () {
        const startedAt = yield* Clock.currentTimeMillis
        const members = options.members
        const records: Array<AttemptRecord> = members.map(() => ({ outcome: "skipped" }))
        const fibers: Array<Fiber.Fiber<void>> = []
        let winner = -1
        let remaining = members.length
        const finish = (won: boolean) =>
          Effect.gen(function* () {
            const end = yield* Clock.currentTimeMillis
            yield* pool.record({
              strategy: name,
              startedAt,
              durationMs: end - startedAt,
              ...(won ? { winner: { provider: members[winner]!.provider, model: members[winner]!.model } } : {}),
              attempts: members.map((m, i) => ({
                provider: m.provider,
                model: m.model,
                outcome: records[i]!.outcome,
                ...(records[i]!.latencyMs === undefined ? {} : { latencyMs: records[i]!.latencyMs }),
                ...(records[i]!.reason === undefined ? {} : { reason: records[i]!.reason }),
                ...(records[i]!.message === undefined ? {} : { message: records[i]!.message })
              }))
            })
          })

        for (let index = 0; index < members.length; index++) {
          // A provider already won while the others were being started: the rest are not asked.
          if (winner !== -1) {
            remaining -= members.length - index
            break
          }
          const member = members[index]!
          const record = records[index]!
          const buffered: Array<Response.StreamPartEncoded> = []
          const body = (member.languageModel as unknown as LooseModel).streamText(innerOptions(request)).pipe(
            Stream.runFoldEffect(
              () => undefined as ProviderPool.TokenUsage | undefined,
              (usage, part) =>
                Effect.gen(function* () {
                  // Lost the race before its interruption arrived: stop reading at once.
                  if (winner !== -1 && winner !== index) return yield* Effect.interrupt
                  const encoded = (yield* encodeStreamPart(part).pipe(
                    Effect.mapError(schemaFailure("streamText"))
                  )) as Response.StreamPartEncoded
                  if (winner === -1 && isContent(part)) {
                    winner = index
                    yield* Effect.forkDetach(Fiber.interruptAll(fibers.filter((_, i) => i !== index)))
                    for (const p of buffered) Queue.offerUnsafe(out, p)
                    buffered.length = 0
                  }
                  if (winner === index) Queue.offerUnsafe(out, encoded)
                  else buffered.push(encoded)
                  return part.type === "finish"
                    ? {
                        inputTokens: part.usage.inputTokens.total ?? 0,
                        outputTokens: part.usage.outputTokens.total ?? 0
                      }
                    : usage
                })
            )
          )
          const fiber = yield* pool
            .call({ provider: member.provider, model: member.model, timeout: member.timeout ?? defaultTimeout }, body, {
              usageOf: (u) => u
            })
            .pipe(
              Effect.exit,
              Effect.flatMap((exit) =>
                Effect.gen(function* () {
                  remaining--
                  if (Exit.isSuccess(exit)) {
                    record.outcome = winner === index ? "won" : "answered"
                    record.latencyMs = exit.value.latencyMs
                    if (winner === index) {
                      yield* finish(true)
                      yield* Queue.end(out)
                    }
                  } else if (Cause.hasInterruptsOnly(exit.cause)) {
                    record.outcome = "cancelled"
                  } else {
                    const error = Cause.findErrorOption(exit.cause)
                    if (error._tag === "Some") {
                      const failure = providerFailure(member, error.value)
                      record.outcome = error.value._tag === "ProviderTimeout" ? "timeout" : "failed"
                      record.reason = failure.reason
                      record.message = failure.message
                      record.failure = failure
                      if (error.value._tag === "AiError") record.aiReason = error.value.reason
                    } else {
                      record.outcome = "failed"
                      record.reason = "Defect"
                    }
                    if (winner === index) {
                      // The winner broke after it started streaming: its failure is the stream's failure.
                      yield* finish(false)
                      yield* Queue.failCause(out, streamFailure(member, name, exit.cause))
                    }
                  }
                  if (remaining === 0 && winner === -1) {
                    yield* finish(false)
                    const failed = new MixtureFailed({
                      strategy: name,
                      failures: members.map(
                        (m, i) =>
                          records[i]!.failure ?? {
                            provider: m.provider,
                            model: m.model,
                            reason: "Empty",
                            message: "its stream ended without content",
                            retryable: true
                          }
                      )
                    })
                    reasonsByError.set(
                      failed,
                      records.map((r) => r.aiReason)
                    )
                    yield* Queue.failCause(out, Cause.fail(toAiError(failed, "streamText")))
                  }
                })
              ),
              // Scoped to the stream: the calls live as long as the caller reads it.
              Effect.forkScoped
            )
          fibers.push(fiber)
        }
      })
    )

  return yield* LanguageModel.make({
    generateText,
    streamText: (request) =>
      options.strategy._tag === "FirstValid" && options.hedge === undefined
        ? streamFirst(request)
        : streamDecided(request)
  })
})

/** The mixture as the program's `LanguageModel`, on the shared `ProviderPool`. */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, ProviderPool.ProviderPool> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
