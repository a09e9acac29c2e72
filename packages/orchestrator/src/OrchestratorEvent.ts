/**
 * What an orchestrator does, as one tagged Schema union: the stream `Orchestrator.events` publishes and the
 * orchestration's audit trail records entry by entry.
 *
 * Tags start with `Orchestration` so that they can share one stream and one trail with the runtime's (`Actor…`,
 * `Supervisor…`), the provider pool's (`Mixture…`) and the agents' (`Agent…`) events.
 */
import { AuditEntry, Spend } from "@troupe/agent"
import * as Schema from "effect/Schema"
import * as OrchestratorError from "./OrchestratorError.ts"
import * as Subtask from "./Subtask.ts"

const base = {
  orchestrationId: Schema.String,
  team: Schema.String,
  /** Epoch milliseconds, from `Clock`. */
  at: Schema.Finite
}

const error = Schema.Struct({ tag: Schema.String, message: Schema.String })

/** An orchestration started for a goal. */
export const Started = Schema.TaggedStruct("OrchestrationStarted", {
  ...base,
  goal: Schema.String,
  members: Schema.Array(Schema.String),
  concurrency: Schema.Int
})

/** The goal was decomposed into subtasks (`by` the manager, or the planner when the team has none). */
export const Planned = Schema.TaggedStruct("OrchestrationPlanned", {
  ...base,
  by: Schema.String,
  subtasks: Schema.Array(Subtask.Subtask),
  spend: Spend.Spend
})

/** A subtask was handed to a member (`attempt` counts from 1 over every member tried). */
export const SubtaskAssigned = Schema.TaggedStruct("OrchestrationSubtaskAssigned", {
  ...base,
  subtaskId: Schema.String,
  agent: Schema.String,
  attempt: Schema.Int
})

/** A member finished a subtask. */
export const SubtaskSucceeded = Schema.TaggedStruct("OrchestrationSubtaskSucceeded", {
  ...base,
  subtaskId: Schema.String,
  agent: Schema.String,
  attempt: Schema.Int,
  runId: Schema.String,
  answer: Schema.String,
  spend: Spend.Spend
})

/** What follows a failed attempt: the same member again, another capable member, or the goal fails. */
export const Next = Schema.Literals(["retry", "reassign", "fail"])

/** A member's attempt at a subtask failed; `next` says what the orchestrator does about it. */
export const SubtaskFailed = Schema.TaggedStruct("OrchestrationSubtaskFailed", {
  ...base,
  subtaskId: Schema.String,
  agent: Schema.String,
  attempt: Schema.Int,
  runId: Schema.optionalKey(Schema.String),
  error,
  next: Next
})

/**
 * An agent's run, linked into the orchestration's trail by id with the head of the run's own trail as it was when
 * the run ended (so that a later rewrite of that trail is caught). `broken` says why there is no head.
 */
export const RunLinked = Schema.TaggedStruct("OrchestrationRunLinked", {
  ...base,
  subtaskId: Schema.String,
  agent: Schema.String,
  runId: Schema.String,
  /** The runner whose `$TROUPE_HOME` holds the run's trail, for a run made on a cluster's runner. */
  runner: Schema.optionalKey(Schema.String),
  head: Schema.optionalKey(AuditEntry.Head),
  broken: Schema.optionalKey(Schema.String)
})

/** A team budget passed 80% of its limit. */
export const BudgetWarning = Schema.TaggedStruct("OrchestrationBudgetWarning", {
  ...base,
  limit: OrchestratorError.TeamLimit,
  used: Schema.Finite,
  max: Schema.Finite
})

/** How an orchestration ended. */
export const Status = Schema.Literals(["done", "failed", "budget-exceeded", "cancelled"])

/** How an orchestration ended. */
export type Status = typeof Status.Type

/** The orchestration ended; `error` is its failure's tag and message when it did not succeed. */
export const Ended = Schema.TaggedStruct("OrchestrationEnded", {
  ...base,
  status: Status,
  spend: Spend.Spend,
  durationMs: Schema.Finite,
  error: Schema.optionalKey(error)
})

/** Something an orchestrator did. */
export const OrchestratorEvent = Schema.Union([
  Started,
  Planned,
  SubtaskAssigned,
  SubtaskSucceeded,
  SubtaskFailed,
  RunLinked,
  BudgetWarning,
  Ended
])

/** Something an orchestrator did. */
export type OrchestratorEvent = typeof OrchestratorEvent.Type
