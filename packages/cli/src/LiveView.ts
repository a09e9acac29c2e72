/**
 * The live view of `troupe run` on a terminal: event lines scroll above one status line that is redrawn in place,
 * holding the current step, tokens, cost, the plan's size and the approvals waiting.
 */
import type { AgentEvent } from "@troupe/agent"

/** What the status line shows. */
export interface Stats {
  readonly step: number
  readonly tokens: number
  readonly costUsd: number
  readonly goals: number
  readonly pendingApprovals: number
}

/** Nothing yet. */
export const empty: Stats = { step: 0, tokens: 0, costUsd: 0, goals: 0, pendingApprovals: 0 }

/** The stats after `event`. */
export const update = (stats: Stats, event: AgentEvent.AgentEvent): Stats => {
  switch (event._tag) {
    case "AgentStepStarted":
      return { ...stats, step: event.step }
    case "AgentModelCalled":
      return {
        ...stats,
        tokens: stats.tokens + event.inputTokens + event.outputTokens,
        costUsd: stats.costUsd + event.costUsd
      }
    case "AgentPlanMade":
      return { ...stats, goals: event.plan.goals.length }
    case "AgentApprovalRequested":
      return { ...stats, pendingApprovals: stats.pendingApprovals + 1 }
    case "AgentApprovalDecided":
      return { ...stats, pendingApprovals: Math.max(0, stats.pendingApprovals - 1) }
    default:
      return stats
  }
}

/** The status line, cut to `width` columns. */
export const statusLine = (stats: Stats, width = 100): string => {
  const parts = [
    `step ${stats.step}`,
    `${stats.tokens.toLocaleString("en-US")} tokens`,
    `$${stats.costUsd.toFixed(4)}`,
    `${stats.goals} goal${stats.goals === 1 ? "" : "s"}`,
    ...(stats.pendingApprovals > 0
      ? [`${stats.pendingApprovals} approval${stats.pendingApprovals === 1 ? "" : "s"} waiting`]
      : [])
  ]
  const text = `[${parts.join(" | ")}]`
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
}

/** Erases the status line (carriage return, clear line). */
export const clear = "\r\u001b[2K"
