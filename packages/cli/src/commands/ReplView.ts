/**
 * What interactive mode shows of a run: the lines for its events (tool calls, approvals, revisions of the plan,
 * warnings), the plan as a numbered list, and the questions it asks. The step and run bookkeeping that `troupe run`
 * prints is left out: a conversation shows the work and the answer.
 */
import type { AgentEvent, Plan } from "@troupe/agent"
import * as RunAgent from "./RunAgent.ts"

const short = (value: unknown, max = 200): string => {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "")
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

/** One line for an event worth showing in a conversation, or nothing. */
export const lineOf = (event: AgentEvent.AgentEvent): string | undefined => {
  switch (event._tag) {
    case "AgentRunStarted":
    case "AgentStepStarted":
    case "AgentModelCalled":
    case "AgentPlanMade":
    case "AgentRunEnded":
    case "AgentMemoryRecalled":
    case "AgentQuestionAsked":
      return undefined
    case "AgentApprovalRequested":
      return `approval needed: ${event.tool} ${short(event.params, 400)}${event.reason.trim() === "" ? "" : ` (${short(event.reason.trim())})`}`
    case "AgentReflected":
      return event.outcome === "done" || event.outcome === "continue" ? undefined : RunAgent.describe(event)
    default:
      return RunAgent.describe(event)
  }
}

/** Whether a plan is worth showing: more than one goal, or a revision. */
export const showsPlan = (event: AgentEvent.AgentEvent & { readonly _tag: "AgentPlanMade" }): boolean =>
  event.revision > 1 || event.plan.goals.length > 1

/** The plan as a numbered list of goals, each with its subgoals. */
export const planLines = (plan: Plan.Plan, revision: number): ReadonlyArray<string> => [
  revision > 1 ? `plan (revision ${revision}):` : "plan:",
  ...plan.goals.flatMap((goal, i) => [
    `  ${i + 1}. ${short(goal.title)}`,
    ...goal.subgoals.map((sub) => `     - ${short(sub.title)}`)
  ])
]

/** The question asked before a tool call runs. */
export const approvalQuestion = (event: AgentEvent.AgentEvent & { readonly _tag: "AgentApprovalRequested" }) =>
  `Allow ${event.tool} ${short(event.params, 200)}? [y/N] `

/** The question asked before a multi-step plan is carried out. */
export const planQuestion = "Go ahead with this plan? [Y/n] "

/** Whether an answer to a `[y/N]` question says yes. */
export const isYes = (answer: string | undefined): boolean => answer !== undefined && /^y(es)?$/i.test(answer.trim())

/** Whether an answer to a `[Y/n]` question says yes (an empty answer does). */
export const isNotNo = (answer: string | undefined): boolean =>
  answer !== undefined && (answer.trim() === "" || isYes(answer))
