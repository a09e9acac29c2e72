/**
 * How an agent's run can end other than in success. Every ending is a tagged, Schema-backed error (so it can be
 * audited, persisted and sent between processes) that carries what the run had achieved and spent by then.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 *
 * agent.run("ship the fix").pipe(
 *   Effect.catchTags({
 *     BudgetExceeded: (e) => Effect.log(`stopped at ${e.limit}: ${e.used} of ${e.max}`),
 *     RunCancelled: () => Effect.void
 *   })
 * )
 * ```
 */
import * as Schema from "effect/Schema"
import * as Plan from "./Plan.ts"
import * as Spend from "./Spend.ts"

/** What a run had when it ended early: its last answer text, its plan, and what it spent. */
export const Partial = Schema.Struct({
  runId: Schema.String,
  answer: Schema.optionalKey(Schema.String),
  plan: Schema.optionalKey(Plan.Plan),
  spend: Spend.Spend
})

/** What a run had when it ended early. */
export type Partial = typeof Partial.Type

/** Which model call a failure happened in. */
export const Purpose = Schema.Literals(["plan", "act", "reflect", "summarise"])

/** Which model call a failure happened in. */
export type Purpose = typeof Purpose.Type

/** The models failed (after the provider's retries and the mixture's failover). */
export class ModelFailed extends Schema.TaggedError<ModelFailed>()("ModelFailed", {
  purpose: Purpose,
  /** The `AiError` reason's tag, e.g. `RateLimitError`, `NetworkError`. */
  reason: Schema.String,
  description: Schema.String,
  retryable: Schema.Boolean,
  partial: Partial
}) {
  override get message(): string {
    return `the model failed while it was asked to ${this.purpose}: ${this.description}`
  }
}

/** The model's structured output (a plan, a reflection) could not be parsed, even when asked again. */
export class OutputUnparsable extends Schema.TaggedError<OutputUnparsable>()("OutputUnparsable", {
  purpose: Purpose,
  attempts: Schema.Int,
  description: Schema.String,
  partial: Partial
}) {
  override get message(): string {
    return `the model's ${this.purpose === "plan" ? "plan" : "reflection"} could not be parsed after ${this.attempts} attempts: ${this.description}`
  }
}

/** Which budget ran out. */
export const Limit = Schema.Literals(["steps", "tokens", "cost", "time", "step-time"])

/** Which budget ran out. */
export type Limit = typeof Limit.Type

/** A budget of the spec's `limits` ran out; the run stopped cleanly. */
export class BudgetExceeded extends Schema.TaggedError<BudgetExceeded>()("BudgetExceeded", {
  limit: Limit,
  /** Steps, tokens, USD or milliseconds, as `limit` says. */
  used: Schema.Finite,
  max: Schema.Finite,
  partial: Partial
}) {
  override get message(): string {
    return `budget exceeded: ${this.limit} ${this.used} of ${this.max}`
  }
}

/** The run repeated itself without progress (the same tool call, or no plan progress over several steps). */
export class LoopDetected extends Schema.TaggedError<LoopDetected>()("LoopDetected", {
  description: Schema.String,
  partial: Partial
}) {
  override get message(): string {
    return `loop detected: ${this.description}`
  }
}

/** The agent judged that the task cannot be completed. */
export class GaveUp extends Schema.TaggedError<GaveUp>()("GaveUp", {
  reasoning: Schema.String,
  partial: Partial
}) {
  override get message(): string {
    return `the agent gave up: ${this.reasoning}`
  }
}

/** The run was cancelled (`Cancel`); the step in progress was interrupted. */
export class RunCancelled extends Schema.TaggedError<RunCancelled>()("RunCancelled", {
  partial: Partial
}) {
  override get message(): string {
    return "the run was cancelled"
  }
}

/** The agent crashed (a defect) while running; its supervisor restarts it per the spec's policy. */
export class RunCrashed extends Schema.TaggedError<RunCrashed>()("RunCrashed", {
  runId: Schema.String,
  defect: Schema.String
}) {
  override get message(): string {
    return `the agent crashed: ${this.defect}`
  }
}

/** The agent is already running another goal; an agent pursues one goal at a time. */
export class AgentBusy extends Schema.TaggedError<AgentBusy>()("AgentBusy", {
  agent: Schema.String,
  runId: Schema.String
}) {
  override get message(): string {
    return `agent ${this.agent} is busy with run ${this.runId}`
  }
}

/** Every way a run can end without success. */
export type RunError =
  | ModelFailed
  | OutputUnparsable
  | BudgetExceeded
  | LoopDetected
  | GaveUp
  | RunCancelled
  | RunCrashed
  | AgentBusy

/** Every way a run can end without success, as a schema. */
export const RunError = Schema.Union([
  ModelFailed,
  OutputUnparsable,
  BudgetExceeded,
  LoopDetected,
  GaveUp,
  RunCancelled,
  RunCrashed,
  AgentBusy
])
