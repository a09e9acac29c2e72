/**
 * A job's record inside `Jobs`: its state as its events arrive, the events kept for late readers and published to
 * live ones, and its end.
 */
import { AgentEvent } from "@troupe/agent"
import { OrchestratorEvent } from "@troupe/orchestrator"
import { TerminalText } from "@troupe/providers"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as PubSub from "effect/PubSub"
import * as Schema from "effect/Schema"
import type { Job, JobEvent, JobState } from "../ServerApi.ts"

/** A job as `Jobs` keeps it. */
export interface Entry {
  readonly id: string
  readonly kind: Job["kind"]
  readonly name: string
  readonly goal: string
  readonly submittedBy: string
  readonly startedAt: number
  state: JobState
  endedAt: number | undefined
  answer: string | undefined
  error: { readonly tag: string; readonly message: string } | undefined
  spend: { steps: number; inputTokens: number; outputTokens: number; costUsd: number }
  readonly pending: Set<string>
  readonly runIds: Set<string>
  readonly kept: Array<JobEvent>
  seq: number
  readonly live: PubSub.PubSub<JobEvent>
  readonly ended: Deferred.Deferred<void>
  /** Asks the job's run to stop (it ends as cancelled). */
  cancel: Effect.Effect<void>
}

/** The job as the API shows it. */
export const snapshot = (entry: Entry): Job => ({
  id: entry.id,
  kind: entry.kind,
  name: entry.name,
  goal: entry.goal,
  state: entry.state === "running" && entry.pending.size > 0 ? "awaiting-approval" : entry.state,
  submittedBy: entry.submittedBy,
  startedAt: entry.startedAt,
  ...(entry.endedAt === undefined ? {} : { endedAt: entry.endedAt }),
  ...(entry.answer === undefined ? {} : { answer: entry.answer }),
  ...(entry.error === undefined ? {} : { error: entry.error }),
  spend: { ...entry.spend },
  pendingApprovals: [...entry.pending],
  runIds: [...entry.runIds]
})

const encodeAgentEvent = Schema.encodeSync(AgentEvent.AgentEvent)
const encodeOrchestratorEvent = Schema.encodeSync(OrchestratorEvent.OrchestratorEvent)

/** An event for a job, and where it comes from. */
export type Source =
  | { readonly _tag: "Agent"; readonly event: AgentEvent.AgentEvent }
  | { readonly _tag: "Orchestrator"; readonly event: OrchestratorEvent.OrchestratorEvent }

/** Counts an event into the job, keeps it (while there is room) and publishes it. */
export const record = (entry: Entry, source: Source, maxKept: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const event = source.event
    if (source._tag === "Agent") {
      switch (event._tag) {
        case "AgentRunStarted":
          entry.runIds.add(event.runId)
          break
        case "AgentStepStarted":
          entry.spend.steps++
          break
        case "AgentModelCalled":
          entry.spend.inputTokens += event.inputTokens
          entry.spend.outputTokens += event.outputTokens
          entry.spend.costUsd += event.costUsd
          break
        case "AgentApprovalRequested":
          entry.pending.add(event.approvalId)
          break
        case "AgentApprovalDecided":
          entry.pending.delete(event.approvalId)
          break
      }
    }
    const encoded = source._tag === "Agent" ? encodeAgentEvent(source.event) : encodeOrchestratorEvent(source.event)
    const jobEvent: JobEvent = {
      seq: entry.seq++,
      type: event._tag,
      ...("agent" in event && typeof event.agent === "string" ? { agent: event.agent } : {}),
      event: encoded as Schema.Json
    }
    if (entry.kept.length < maxKept) entry.kept.push(jobEvent)
    return Effect.asVoid(PubSub.publish(entry.live, jobEvent))
  })

const stateOf = (tag: string): JobState =>
  tag === "BudgetExceeded" || tag === "TeamBudgetExceeded"
    ? "budget-exceeded"
    : tag === "RunCancelled" || tag === "OrchestrationCancelled"
      ? "cancelled"
      : "failed"

/** What a run spent, as a job reports it. */
export interface Spent {
  readonly steps: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
}

const fromSpend = (spend: Spent) => ({
  steps: spend.steps,
  inputTokens: spend.inputTokens,
  outputTokens: spend.outputTokens,
  costUsd: spend.costUsd
})

/** How a job's run ended, as `finish` takes it. */
export type Outcome = Exit.Exit<
  { readonly answer: string; readonly spend: Spent },
  { readonly _tag: string; readonly message: string }
>

/**
 * Ends a job: its state, its answer or error (sanitised, since either may quote a model or a tool), and the closing
 * `JobEnded` event.
 */
export const finish = (entry: Entry, exit: Outcome): Effect.Effect<void> =>
  Effect.gen(function* () {
    entry.endedAt = yield* Clock.currentTimeMillis
    entry.pending.clear()
    if (Exit.isSuccess(exit)) {
      entry.state = "done"
      entry.answer = TerminalText.sanitize(exit.value.answer)
      entry.spend = fromSpend(exit.value.spend)
    } else {
      const failure = Cause.findErrorOption(exit.cause)
      const error =
        failure._tag === "Some"
          ? failure.value
          : {
              _tag: Cause.hasInterruptsOnly(exit.cause) ? "RunCancelled" : "JobCrashed",
              message: "the job ended abnormally"
            }
      entry.state = stateOf(error._tag)
      entry.error = { tag: error._tag, message: TerminalText.sanitize(error.message).slice(0, 2000) }
      if ("partial" in error) {
        const partial = (error as { readonly partial?: { readonly spend?: Spent } }).partial
        if (partial?.spend !== undefined) entry.spend = fromSpend(partial.spend)
      }
    }
    const last: JobEvent = {
      seq: entry.seq++,
      type: "JobEnded",
      event: snapshot(entry) as unknown as Schema.Json
    }
    entry.kept.push(last)
    yield* PubSub.publish(entry.live, last)
    yield* Deferred.succeed(entry.ended, undefined)
  })
