/**
 * The final report of an orchestration: each subtask with the member that did it, its answer, its runs and what it
 * cost, the team's spending, and the report as text for people.
 */
import { Spend } from "@troupe/agent"
import * as Schema from "effect/Schema"

/** One subtask as it ended. */
export const SubtaskReport = Schema.Struct({
  id: Schema.String,
  title: Schema.String,
  agent: Schema.String,
  attempts: Schema.Int,
  /** Every run of every attempt, in order; the last one succeeded. */
  runIds: Schema.Array(Schema.String),
  answer: Schema.String,
  spend: Spend.Spend
})

/** One subtask as it ended. */
export type SubtaskReport = typeof SubtaskReport.Type

/** The report of an orchestration that reached its goal. */
export const Report = Schema.Struct({
  orchestrationId: Schema.String,
  team: Schema.String,
  goal: Schema.String,
  /** The subtasks in the order they can run (each after the ones it depends on). */
  subtasks: Schema.Array(SubtaskReport),
  /** Everything the team spent: the decomposition and every agent's runs, failed attempts included. */
  spend: Spend.Spend,
  durationMs: Schema.Finite,
  summary: Schema.String
})

/** The report of an orchestration that reached its goal. */
export type Report = typeof Report.Type

const oneLine = (text: string, max = 400): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`
}

/** The report as text: the goal, one line per subtask, and the team's spending. */
export const render = (report: Omit<Report, "summary">): string =>
  [
    `Goal: ${oneLine(report.goal)}`,
    ...report.subtasks.map(
      (s) =>
        `- ${s.id} (${s.agent}${s.attempts > 1 ? `, ${s.attempts} attempts` : ""}): ${oneLine(s.title, 120)} — ${oneLine(s.answer)}`
    ),
    `Team: ${report.subtasks.length} subtasks, ${report.spend.steps} steps, ${Spend.tokens(report.spend)} tokens, $${report.spend.costUsd.toFixed(4)}${report.spend.costEstimated ? " (partly estimated)" : ""}`
  ].join("\n")
