/**
 * How an orchestration ended, as `troupe orchestrate` reports it: the report of one done, or the status, spending and
 * error of one that was not. Read back from the orchestration's audit trail for `--resume` of one that has ended,
 * which reports that end again instead of running anything.
 *
 * The trail is where the end is: its `OrchestrationEnded` entry holds the status, the team's spending and the error,
 * and a done orchestration's report is rebuilt from its `OrchestrationPlanned` entry (titles, order) and its subtasks'
 * `OrchestrationSubtaskSucceeded` and `OrchestrationSubtaskFailed` entries (member, attempts, runs, answer). The
 * journal keeps the steps, not the report. Answers come back as the trail holds them: redacted of secrets.
 */
import type { AuditEntry, AuditLog, Spend } from "@troupe/agent"
import { OrchestratorEvent, Report, Subtask } from "@troupe/orchestrator"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { CliExit, ExitCode } from "../ExitCode.ts"

/** The error an orchestration that was not done ended with. */
export interface Failure {
  readonly tag: string
  readonly message: string
}

/** How an orchestration ended. */
export type Ending =
  | {
      readonly _tag: "Done"
      readonly orchestrationId: string
      /** `undefined` when the trail does not hold it whole (an entry unreadable). */
      readonly report: Report.Report | undefined
      readonly spend: Spend.Spend
    }
  | {
      readonly _tag: "NotDone"
      readonly orchestrationId: string
      readonly status: Exclude<OrchestratorEvent.Status, "done">
      readonly spend: Spend.Spend
      /** `undefined` when it ended on a defect rather than a typed error. */
      readonly error: Failure | undefined
    }

/** The end of a live orchestration that reached its goal. */
export const done = (report: Report.Report): Ending => ({
  _tag: "Done",
  orchestrationId: report.orchestrationId,
  report,
  spend: report.spend
})

/** The end of a live orchestration that failed with `error`. */
export const notDone = (
  orchestrationId: string,
  error: { readonly _tag: string; readonly message: string },
  spend: Spend.Spend
): Ending => ({
  _tag: "NotDone",
  orchestrationId,
  status:
    error._tag === "TeamBudgetExceeded"
      ? "budget-exceeded"
      : error._tag === "OrchestrationCancelled"
        ? "cancelled"
        : "failed",
  spend,
  error: { tag: error._tag, message: error.message }
})

// An event's tag is its entry's type; the entry's data is the rest of it.
const eventOf = (entry: AuditEntry.AuditEntry): unknown =>
  typeof entry.data === "object" && entry.data !== null ? { ...entry.data, _tag: entry.type } : undefined

const decodeEnded = Schema.decodeUnknownOption(OrchestratorEvent.Ended)
const decodePlanned = Schema.decodeUnknownOption(OrchestratorEvent.Planned)
const decodeSucceeded = Schema.decodeUnknownOption(OrchestratorEvent.SubtaskSucceeded)
const decodeFailed = Schema.decodeUnknownOption(OrchestratorEvent.SubtaskFailed)

const ofType = (entries: ReadonlyArray<AuditEntry.AuditEntry>, type: string) =>
  entries.filter((entry) => entry.type === type)

// The report as the orchestration made it; `undefined` when an entry it needs is missing or unreadable.
const reportOf = (
  entries: ReadonlyArray<AuditEntry.AuditEntry>,
  ended: typeof OrchestratorEvent.Ended.Type,
  goal: string
): Report.Report | undefined => {
  const plan = ofType(entries, "OrchestrationPlanned").at(-1)
  const planned = plan === undefined ? Option.none() : decodePlanned(eventOf(plan))
  const succeeded = Option.all(ofType(entries, "OrchestrationSubtaskSucceeded").map((e) => decodeSucceeded(eventOf(e))))
  const failed = Option.all(ofType(entries, "OrchestrationSubtaskFailed").map((e) => decodeFailed(eventOf(e))))
  if (Option.isNone(planned) || Option.isNone(succeeded) || Option.isNone(failed)) return undefined
  const subtasks = planned.value.subtasks
  const order = Subtask.order({ subtasks }) ?? subtasks.map((s) => s.id)
  const reports: Array<Report.SubtaskReport> = []
  for (const id of order) {
    const success = succeeded.value.find((s) => s.subtaskId === id)
    if (success === undefined) return undefined
    // Every attempt's run, in order: a failed attempt's when it had one, then the one that succeeded.
    const runIds = [
      ...failed.value
        .filter((f) => f.subtaskId === id && f.attempt < success.attempt)
        .sort((a, b) => a.attempt - b.attempt)
        .flatMap((f) => (f.runId === undefined ? [] : [f.runId])),
      success.runId
    ]
    reports.push({
      id,
      title: subtasks.find((s) => s.id === id)?.title ?? id,
      agent: success.agent,
      attempts: success.attempt,
      runIds,
      answer: success.answer,
      spend: success.spend
    })
  }
  const report = {
    orchestrationId: ended.orchestrationId,
    team: ended.team,
    goal,
    subtasks: reports,
    spend: ended.spend,
    durationMs: ended.durationMs
  }
  return { ...report, summary: Report.render(report) }
}

/**
 * How the orchestration `orchestrationId` (started for `goal`) ended, by its trail; `undefined` while it has not
 * (it can be resumed), or when it has no trail to read.
 */
export const recorded = (
  audit: AuditLog.Service,
  orchestrationId: string,
  goal: string
): Effect.Effect<Ending | undefined, CliExit> =>
  audit.read(orchestrationId).pipe(
    Stream.filter((entry) => entry.type.startsWith("Orchestration")),
    Stream.runCollect,
    Effect.orElseSucceed((): ReadonlyArray<AuditEntry.AuditEntry> => []),
    Effect.flatMap((entries) => {
      const last = ofType(entries, "OrchestrationEnded").at(-1)
      if (last === undefined) return Effect.succeed(undefined)
      const ended = decodeEnded(eventOf(last))
      if (Option.isNone(ended)) {
        return Effect.fail(
          new CliExit({
            code: ExitCode.failed,
            message: `orchestration ${orchestrationId} has ended, but its end in the audit trail is not readable`
          })
        )
      }
      const end = ended.value
      return Effect.succeed<Ending>(
        end.status === "done"
          ? { _tag: "Done", orchestrationId, report: reportOf(entries, end, goal), spend: end.spend }
          : { _tag: "NotDone", orchestrationId, status: end.status, spend: end.spend, error: end.error }
      )
    })
  )
