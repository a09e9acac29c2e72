/**
 * What an agent does, as one tagged Schema union: the stream that `Agent.events` publishes, that the audit trail
 * records entry by entry, and that metrics and alerts are computed from.
 *
 * Tags start with `Agent` so that they can share one stream with the runtime's (`Actor…`, `Supervisor…`) and the
 * provider pool's (`Mixture…`) events.
 */
import * as Schema from "effect/Schema"
import * as AgentError from "./AgentError.ts"
import * as Plan from "./Plan.ts"
import * as Reflection from "./Reflection.ts"
import * as Spend from "./Spend.ts"

const run = {
  runId: Schema.String,
  agent: Schema.String,
  /** Epoch milliseconds, from `Clock`. */
  at: Schema.Finite
}

/** A run started for a goal. `specDigest` is the SHA-256 of the spec it runs, to tie the trail to the spec. */
export const RunStarted = Schema.TaggedStruct("AgentRunStarted", {
  ...run,
  goal: Schema.String,
  specDigest: Schema.String
})

/** Memories were recalled into the run's context. */
export const MemoryRecalled = Schema.TaggedStruct("AgentMemoryRecalled", {
  ...run,
  ids: Schema.Array(Schema.String)
})

/** A plan was made (`revision` 1) or revised. */
export const PlanMade = Schema.TaggedStruct("AgentPlanMade", {
  ...run,
  revision: Schema.Int,
  plan: Plan.Plan,
  reason: Schema.optionalKey(Schema.String)
})

/** A step (one model turn of the loop, and its tool calls) started. */
export const StepStarted = Schema.TaggedStruct("AgentStepStarted", {
  ...run,
  step: Schema.Int
})

/** One model call answered, with who answered, what it cost and, under a mixture, how the answer was chosen. */
export const ModelCalled = Schema.TaggedStruct("AgentModelCalled", {
  ...run,
  step: Schema.Int,
  purpose: AgentError.Purpose,
  provider: Schema.String,
  model: Schema.String,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  /** Every call billed for this answer (all mixture members and the judge), USD. */
  costUsd: Schema.Finite,
  costEstimated: Schema.Boolean,
  latencyMs: Schema.Finite,
  finishReason: Schema.String,
  /** The model's text (cut at 64,000 characters, far beyond any answer a step needs). */
  text: Schema.String,
  toolCalls: Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String })),
  scores: Schema.optionalKey(
    Schema.Array(
      Schema.Struct({ provider: Schema.String, score: Schema.Finite, rejectedBy: Schema.optionalKey(Schema.String) })
    )
  )
})

/** A tool was called by the model. */
export const ToolCalled = Schema.TaggedStruct("AgentToolCalled", {
  ...run,
  step: Schema.Int,
  toolCallId: Schema.String,
  tool: Schema.String,
  params: Schema.Unknown,
  /** In a durable run: the same for every attempt at this call (see `RunJournal.CurrentIdempotencyKey`). */
  idempotencyKey: Schema.optionalKey(Schema.String)
})

/** A tool call ended; a failure is reported to the model, which can react to it. */
export const ToolResult = Schema.TaggedStruct("AgentToolResult", {
  ...run,
  step: Schema.Int,
  toolCallId: Schema.String,
  tool: Schema.String,
  isFailure: Schema.Boolean,
  result: Schema.Unknown
})

/** A tool call waits for a person's approval. */
export const ApprovalRequested = Schema.TaggedStruct("AgentApprovalRequested", {
  ...run,
  approvalId: Schema.String,
  toolCallId: Schema.String,
  tool: Schema.String,
  params: Schema.Unknown,
  /** What the model said before the call: its stated reason. */
  reason: Schema.String
})

/** A person (or a policy) decided on an approval. */
export const ApprovalDecided = Schema.TaggedStruct("AgentApprovalDecided", {
  ...run,
  approvalId: Schema.String,
  approved: Schema.Boolean,
  by: Schema.String,
  reason: Schema.optionalKey(Schema.String)
})

/** The agent asked a person a question (`ask_human`) and waits for the answer. */
export const QuestionAsked = Schema.TaggedStruct("AgentQuestionAsked", {
  ...run,
  questionId: Schema.String,
  question: Schema.String
})

/** A person answered a question. */
export const QuestionAnswered = Schema.TaggedStruct("AgentQuestionAnswered", {
  ...run,
  questionId: Schema.String,
  text: Schema.String
})

/** The agent reflected on its last step and decided what to do next. */
export const Reflected = Schema.TaggedStruct("AgentReflected", {
  ...run,
  step: Schema.Int,
  outcome: Reflection.Outcome,
  reasoning: Schema.String,
  lesson: Schema.optionalKey(Schema.String)
})

/** The conversation neared the model's input limit: older turns were summarised into the context. */
export const HistorySummarised = Schema.TaggedStruct("AgentHistorySummarised", {
  ...run,
  messages: Schema.Int,
  tokensBefore: Schema.Int,
  tokensAfter: Schema.Int
})

/** A budget passed 80% of its limit. */
export const BudgetWarning = Schema.TaggedStruct("AgentBudgetWarning", {
  ...run,
  limit: AgentError.Limit,
  used: Schema.Finite,
  max: Schema.Finite
})

/** A rule of the spec's `alerts` fired. */
export const AlertRaised = Schema.TaggedStruct("AgentAlertRaised", {
  ...run,
  metric: Schema.String,
  value: Schema.Finite,
  threshold: Schema.Finite,
  description: Schema.String
})

/** How a run ended. */
export const RunStatus = Schema.Literals(["done", "failed", "budget-exceeded", "cancelled"])

/** How a run ended. */
export type RunStatus = typeof RunStatus.Type

/** A run ended; `error` is its failure's tag and message when it did not succeed. */
export const RunEnded = Schema.TaggedStruct("AgentRunEnded", {
  ...run,
  status: RunStatus,
  spend: Spend.Spend,
  durationMs: Schema.Finite,
  answer: Schema.optionalKey(Schema.String),
  error: Schema.optionalKey(Schema.Struct({ tag: Schema.String, message: Schema.String }))
})

/** Something an agent did. */
export const AgentEvent = Schema.Union([
  RunStarted,
  MemoryRecalled,
  PlanMade,
  StepStarted,
  ModelCalled,
  ToolCalled,
  ToolResult,
  ApprovalRequested,
  ApprovalDecided,
  QuestionAsked,
  QuestionAnswered,
  Reflected,
  HistorySummarised,
  BudgetWarning,
  AlertRaised,
  RunEnded
])

/** Something an agent did. */
export type AgentEvent = typeof AgentEvent.Type
