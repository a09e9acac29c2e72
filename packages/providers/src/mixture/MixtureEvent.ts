/**
 * The records of the mixture: each fan-out, published by the `ProviderPool` for the audit log and metrics (which
 * providers were asked, how long each took, how each answer scored, how each attempt ended and who won), and the
 * decision summary carried in the winning answer's `response-metadata`.
 */
import * as Schema from "effect/Schema"

/**
 * How one provider's attempt ended: `won` (its answer was returned), `answered` (a valid answer that lost),
 * `rejected` (answered, but invalid: wrong schema, bad tool call, empty or a refusal), `failed` (an error),
 * `timeout`, `cancelled` (interrupted because the mixture had decided) or `skipped` (never started: an
 * earlier provider already answered, or its breaker was open).
 */
export const Outcome = Schema.Literals(["won", "answered", "rejected", "failed", "timeout", "cancelled", "skipped"])

/** How one provider's attempt ended. */
export type Outcome = typeof Outcome.Type

/** One provider's attempt within a fan-out. */
export const Attempt = Schema.Struct({
  provider: Schema.String,
  model: Schema.String,
  outcome: Outcome,
  /** From the start of this attempt to its end, in milliseconds. */
  latencyMs: Schema.optionalKey(Schema.Finite),
  /** The weighted score (scoring strategies), the provider weight included. */
  score: Schema.optionalKey(Schema.Finite),
  /** The failure's tag (`AuthenticationError`, `ProviderTimeout`, `CircuitOpen`, ...) or why it was rejected. */
  reason: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  inputTokens: Schema.optionalKey(Schema.Int),
  outputTokens: Schema.optionalKey(Schema.Int),
  costUsd: Schema.optionalKey(Schema.Finite)
})

/** One provider's attempt within a fan-out. */
export type Attempt = typeof Attempt.Type

/**
 * One fan-out of the mixture. Tagged `MixtureFanOut` so that it can share one stream (the audit trail) with the
 * runtime's and the agent's events.
 */
export const FanOut = Schema.TaggedStruct("MixtureFanOut", {
  /** Sequence number within the pool, from 1. */
  id: Schema.Int,
  strategy: Schema.String,
  /** Epoch milliseconds (from `Clock`). */
  startedAt: Schema.Finite,
  durationMs: Schema.Finite,
  winner: Schema.optionalKey(Schema.Struct({ provider: Schema.String, model: Schema.String })),
  attempts: Schema.Array(Attempt),
  /** The billable calls the scorers made to decide (a judge model's), outcome `answered`, `failed` or `timeout`. */
  scoring: Schema.optionalKey(Schema.Array(Attempt))
})

/** One fan-out of the mixture. */
export type FanOut = typeof FanOut.Type

/**
 * One provider call a provider may bill for an answer: the winner's, a loser's (cancelled calls are billed by
 * most providers), or a judge's. `costUsd` is absent for models without a price; `estimated` marks tokens the
 * provider did not report (a call cancelled before its usage arrived), counted from the request instead.
 */
export const Charge = Schema.Struct({
  provider: Schema.String,
  model: Schema.String,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  costUsd: Schema.optionalKey(Schema.Finite),
  estimated: Schema.Boolean
})

/** One billed provider call. */
export type Charge = typeof Charge.Type

/**
 * The winner as reported in `response-metadata` (`metadata.mixture`), with every call billed for the answer. A
 * single model through the pool (`Pooled`) reports the same shape with strategy `single`.
 */
export const DecisionSummary = Schema.Struct({
  provider: Schema.String,
  model: Schema.String,
  strategy: Schema.String,
  scores: Schema.Array(
    Schema.Struct({ provider: Schema.String, score: Schema.Finite, rejectedBy: Schema.optionalKey(Schema.String) })
  ),
  charges: Schema.optionalKey(Schema.Array(Charge))
})

/** The winner as reported in `response-metadata`. */
export type DecisionSummary = typeof DecisionSummary.Type
