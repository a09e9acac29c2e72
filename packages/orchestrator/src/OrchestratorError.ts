/**
 * How an orchestration can end other than with its report. Every ending is a tagged, Schema-backed error naming
 * what went wrong (the subtask and why, the budget and by how much) and carrying what had been done and spent.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 *
 * orchestrator.orchestrate("ship the feature").pipe(
 *   Effect.catchTags({
 *     SubtaskFailed: (e) => Effect.log(`${e.subtask} failed: ${e.reason}`),
 *     TeamBudgetExceeded: (e) => Effect.log(`stopped at ${e.limit}: ${e.used} of ${e.max}`)
 *   })
 * )
 * ```
 */
import { Spend } from "@troupe/agent"
import * as Schema from "effect/Schema"

/** What an orchestration had when it ended early: the subtasks done, the agents' runs, and what the team spent. */
export const Partial = Schema.Struct({
  orchestrationId: Schema.String,
  done: Schema.Array(Schema.String),
  runIds: Schema.Array(Schema.String),
  spend: Spend.Spend
})

/** What an orchestration had when it ended early. */
export type Partial = typeof Partial.Type

/** One try of a subtask by one agent that did not succeed. */
export const Attempt = Schema.Struct({
  agent: Schema.String,
  runId: Schema.optionalKey(Schema.String),
  error: Schema.Struct({ tag: Schema.String, message: Schema.String })
})

/** One try of a subtask that did not succeed. */
export type Attempt = typeof Attempt.Type

/** The manager could not turn the goal into subtasks the team can run. */
export class DecompositionFailed extends Schema.TaggedError<DecompositionFailed>()("DecompositionFailed", {
  reason: Schema.String,
  partial: Partial
}) {
  override get message(): string {
    return `the goal could not be decomposed: ${this.reason}`
  }
}

/**
 * A subtask failed with every capable member, each tried as often as the retry policy allows: the goal fails.
 * `attempts` lists each try with its agent, run and error; `reason` is the last error.
 */
export class SubtaskFailed extends Schema.TaggedError<SubtaskFailed>()("SubtaskFailed", {
  subtask: Schema.String,
  title: Schema.String,
  reason: Schema.String,
  attempts: Schema.Array(Attempt),
  partial: Partial
}) {
  override get message(): string {
    const agents = [...new Set(this.attempts.map((a) => a.agent))].join(", ")
    return `subtask ${this.subtask} failed after ${this.attempts.length} attempt${this.attempts.length === 1 ? "" : "s"} (${agents}): ${this.reason}`
  }
}

/** Which team budget ran out. */
export const TeamLimit = Schema.Literals(["steps", "tokens", "cost"])

/** Which team budget ran out. */
export type TeamLimit = typeof TeamLimit.Type

/** The team's budget across all its agents ran out: running agents were cancelled and the goal stopped. */
export class TeamBudgetExceeded extends Schema.TaggedError<TeamBudgetExceeded>()("TeamBudgetExceeded", {
  limit: TeamLimit,
  /** Steps, tokens or USD, as `limit` says. */
  used: Schema.Finite,
  max: Schema.Finite,
  partial: Partial
}) {
  override get message(): string {
    return `team budget exceeded: ${this.limit} ${Number(this.used.toFixed(6))} of ${this.max}`
  }
}

/** The orchestration was cancelled; the agents' runs in progress were cancelled with it. */
export class OrchestrationCancelled extends Schema.TaggedError<OrchestrationCancelled>()("OrchestrationCancelled", {
  partial: Partial
}) {
  override get message(): string {
    return "the orchestration was cancelled"
  }
}

/** The orchestration crashed (a defect); the orchestrator is restarted by its supervisor. */
export class OrchestrationCrashed extends Schema.TaggedError<OrchestrationCrashed>()("OrchestrationCrashed", {
  orchestrationId: Schema.String,
  defect: Schema.String
}) {
  override get message(): string {
    return `the orchestration crashed: ${this.defect}`
  }
}

/** The orchestrator pursues one goal at a time. */
export class OrchestratorBusy extends Schema.TaggedError<OrchestratorBusy>()("OrchestratorBusy", {
  team: Schema.String,
  orchestrationId: Schema.String
}) {
  override get message(): string {
    return `team ${this.team} is busy with orchestration ${this.orchestrationId}`
  }
}

/** Every way an orchestration can end without its report. */
export type OrchestrationError =
  | DecompositionFailed
  | SubtaskFailed
  | TeamBudgetExceeded
  | OrchestrationCancelled
  | OrchestrationCrashed
  | OrchestratorBusy

/** Every way an orchestration can end without its report, as a schema. */
export const OrchestrationError = Schema.Union([
  DecompositionFailed,
  SubtaskFailed,
  TeamBudgetExceeded,
  OrchestrationCancelled,
  OrchestrationCrashed,
  OrchestratorBusy
])
