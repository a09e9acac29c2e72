/**
 * What the mixture records of each provider's attempt during one fan-out, and how that becomes the
 * `MixtureEvent.FanOut` the pool publishes.
 */
import type * as AiError from "effect/ai/AiError"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Mixture from "../Mixture.ts"
import type * as MixtureError from "../MixtureError.ts"
import type * as MixtureEvent from "../MixtureEvent.ts"
import type * as ProviderPool from "../ProviderPool.ts"
import type * as Scorer from "../Scorer.ts"
import * as Failure from "./failure.ts"

/**
 * One provider's attempt as it unfolds. Mutable: the attempt's fiber, the fan-out loop and the strategy all
 * write to it, and it is read once when the fan-out is published.
 */
export interface AttemptRecord {
  outcome: MixtureEvent.Outcome
  startedAt?: number
  latencyMs?: number
  score?: number
  reason?: string
  message?: string
  inputTokens?: number
  outputTokens?: number
  costUsd?: number
  failure?: MixtureError.ProviderFailure
  aiReason?: AiError.AiErrorReason
}

/** One record per member, each `skipped` until its attempt starts. */
export const initial = (members: ReadonlyArray<Mixture.Member>): Array<AttemptRecord> =>
  members.map(() => ({ outcome: "skipped" }))

/** Records what the pool accounted for a call that answered, with its outcome (`answered`, or `won`). */
export const recordAnswer = (
  record: AttemptRecord,
  accounted: ProviderPool.Accounted<unknown>,
  outcome: MixtureEvent.Outcome
): void => {
  record.outcome = outcome
  record.latencyMs = accounted.latencyMs
  if (accounted.usage !== undefined) {
    record.inputTokens = accounted.usage.inputTokens
    record.outputTokens = accounted.usage.outputTokens
  }
  if (accounted.costUsd !== undefined) record.costUsd = accounted.costUsd
}

// An open breaker means the provider was never asked.
const outcomeOf = (error: ProviderPool.CallError): MixtureEvent.Outcome =>
  error._tag === "ProviderTimeout" ? "timeout" : error._tag === "CircuitOpen" ? "skipped" : "failed"

/** Records a member's call error and the outcome it means (the caller sets the latency). */
export const recordError = (record: AttemptRecord, member: Mixture.Member, error: ProviderPool.CallError): void => {
  const failure = Failure.providerFailure(member, error)
  record.outcome = outcomeOf(error)
  record.reason = failure.reason
  record.message = failure.message
  record.failure = failure
  if (error._tag === "AiError") record.aiReason = error.reason
}

/** Records a defect in a member's call (a bug, not a provider's answer): it failed, and is not worth a retry. */
export const recordDefect = (record: AttemptRecord, member: Mixture.Member, cause: Cause.Cause<unknown>): void => {
  record.outcome = "failed"
  record.reason = "Defect"
  record.message = Cause.pretty(cause).split("\n")[0] ?? "defect"
  record.failure = Failure.failure(member, "Defect", record.message, false)
}

/** Records an answer the rejection gate refused (`empty`, `refusal`, `schema`, `tools`, or a scorer's name). */
export const reject = (record: AttemptRecord, candidate: Scorer.Candidate, rejected: string): void => {
  record.outcome = "rejected"
  record.reason = `Rejected:${rejected}`
  record.message = `answer rejected (${rejected})`
  record.failure = Failure.failure(candidate, record.reason, record.message, true)
}

/** The providers' `AiError` reasons, one per member, for `Failure.withReasons`. */
export const aiReasons = (records: ReadonlyArray<AttemptRecord>): ReadonlyArray<AiError.AiErrorReason | undefined> =>
  records.map((r) => r.aiReason)

// Written field by field rather than with a spread per optional field: made for every attempt of every fan-out.
const toAttempt = (member: Mixture.Member, r: AttemptRecord): MixtureEvent.Attempt => {
  const attempt: { -readonly [K in keyof MixtureEvent.Attempt]: MixtureEvent.Attempt[K] } = {
    provider: member.provider,
    model: member.model,
    outcome: r.outcome
  }
  if (r.latencyMs !== undefined) attempt.latencyMs = r.latencyMs
  if (r.score !== undefined) attempt.score = r.score
  if (r.reason !== undefined) attempt.reason = r.reason
  if (r.message !== undefined) attempt.message = r.message
  if (r.inputTokens !== undefined) attempt.inputTokens = r.inputTokens
  if (r.outputTokens !== undefined) attempt.outputTokens = r.outputTokens
  if (r.costUsd !== undefined) attempt.costUsd = r.costUsd
  return attempt
}

/** Publishes the fan-out through the pool, its duration measured up to now. */
export const publish = (
  pool: ProviderPool.Service,
  fanOut: {
    readonly strategy: string
    readonly startedAt: number
    readonly members: ReadonlyArray<Mixture.Member>
    readonly records: ReadonlyArray<AttemptRecord>
    readonly winner: { readonly provider: string; readonly model: string } | undefined
    readonly scoring?: ReadonlyArray<MixtureEvent.Attempt>
  }
): Effect.Effect<MixtureEvent.FanOut> =>
  Effect.flatMap(Clock.currentTimeMillis, (end) =>
    pool.record({
      strategy: fanOut.strategy,
      startedAt: fanOut.startedAt,
      durationMs: end - fanOut.startedAt,
      ...(fanOut.winner === undefined
        ? {}
        : { winner: { provider: fanOut.winner.provider, model: fanOut.winner.model } }),
      attempts: fanOut.members.map((member, i) => toAttempt(member, fanOut.records[i]!)),
      ...(fanOut.scoring === undefined || fanOut.scoring.length === 0 ? {} : { scoring: fanOut.scoring })
    })
  )
