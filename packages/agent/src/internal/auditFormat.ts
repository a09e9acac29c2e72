/**
 * The audit trail for people: one line per entry, safe to print on a terminal.
 */
import { TerminalText } from "@troupe/providers"
import { ExitReason } from "@troupe/runtime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { AuditEntry } from "../AuditEntry.ts"

/** `text` without terminal escape sequences, control characters (newline and tab kept) or bidi overrides. */
export const sanitize: (text: string) => string = TerminalText.sanitize

const oneLine = (text: string): string => sanitize(text).replace(/\r?\n/g, "↵").replace(/\t/g, " ")

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** A one-line summary of an entry's data, for a type the formatter should know. */
export type Summarizer = (data: Schema.Json, entry: AuditEntry) => string

type Fields = { readonly [key: string]: Schema.Json }

const fieldsOf = (data: Schema.Json): Fields =>
  typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Fields) : {}

const text = (value: Schema.Json | undefined): string =>
  value === undefined ? "?" : typeof value === "string" ? value : JSON.stringify(value)

const decodeReason = Schema.decodeUnknownOption(ExitReason.ExitReason)
const reason = (value: Schema.Json | undefined): string =>
  Option.match(decodeReason(value), { onNone: () => text(value), onSome: ExitReason.format })

const money = (usd: number): string => (usd === 0 ? "$0" : `$${usd >= 1 ? usd.toFixed(2) : usd.toPrecision(2)}`)

const fanOut: Summarizer = (data) => {
  const d = fieldsOf(data)
  const winner = fieldsOf(d.winner ?? null)
  const attempts = Array.isArray(d.attempts) ? d.attempts.map(fieldsOf) : []
  const each = attempts.map(
    (a) => `${text(a.provider)} ${text(a.outcome)}${a.latencyMs === undefined ? "" : ` ${text(a.latencyMs)}ms`}`
  )
  const cost = attempts.reduce((sum, a) => sum + (typeof a.costUsd === "number" ? a.costUsd : 0), 0)
  const won = d.winner === undefined ? "no winner" : `${text(winner.provider)}/${text(winner.model)} won`
  return `mixture #${text(d.id)} ${text(d.strategy)}: ${won} in ${text(d.durationMs)}ms (${each.join(", ")})${cost > 0 ? ` ${money(cost)}` : ""}`
}

const compact = (value: Schema.Json | undefined, max = 80): string => clip(text(value), max)

const tokens = (d: Fields) => `${text(d.inputTokens)}→${text(d.outputTokens)} tokens`

const cost = (value: Schema.Json | undefined, estimated?: Schema.Json) =>
  typeof value === "number" ? `${money(value)}${estimated === true ? " (estimated)" : ""}` : "?"

const agentEvents: Readonly<Record<string, Summarizer>> = {
  AgentRunStarted: (data) => `run started: goal ${compact(fieldsOf(data).goal, 100)}`,
  AgentStepStarted: (data) => `step ${text(fieldsOf(data).step)}`,
  AgentModelCalled: (data) => {
    const d = fieldsOf(data)
    const calls = Array.isArray(d.toolCalls) ? d.toolCalls.map((c) => text(fieldsOf(c).name)) : []
    const then = calls.length === 0 ? text(d.finishReason) : `calls ${calls.join(", ")}`
    return `step ${text(d.step)} ${text(d.provider)}/${text(d.model)}: ${tokens(d)}, ${cost(d.costUsd, d.costEstimated)}, ${text(d.latencyMs)}ms, ${then}`
  },
  AgentToolCalled: (data) => {
    const d = fieldsOf(data)
    return `step ${text(d.step)} ${text(d.tool)} ${compact(d.params ?? null)}`
  },
  AgentToolResult: (data) => {
    const d = fieldsOf(data)
    return `step ${text(d.step)} ${text(d.tool)} ${d.isFailure === true ? "failed" : "ok"}: ${compact(d.result ?? null)}`
  },
  AgentApprovalRequested: (data) => {
    const d = fieldsOf(data)
    return `${text(d.tool)} ${compact(d.params ?? null, 60)} awaits approval ${text(d.approvalId)}: ${compact(d.reason, 60)}`
  },
  AgentApprovalDecided: (data) => {
    const d = fieldsOf(data)
    const why = d.reason === undefined ? "" : `: ${compact(d.reason, 60)}`
    return `approval ${text(d.approvalId)} ${d.approved === true ? "approved" : "denied"} by ${text(d.by)}${why}`
  },
  AgentReflected: (data) => {
    const d = fieldsOf(data)
    return `step ${text(d.step)} ${text(d.outcome)}: ${compact(d.reasoning, 100)}`
  },
  AgentBudgetWarning: (data) => {
    const d = fieldsOf(data)
    return `budget ${text(d.limit)} at ${text(d.used)} of ${text(d.max)}`
  },
  AgentRunEnded: (data) => {
    const d = fieldsOf(data)
    const spend = fieldsOf(d.spend ?? null)
    const error =
      d.error === undefined ? "" : `; ${text(fieldsOf(d.error).tag)}: ${compact(fieldsOf(d.error).message, 80)}`
    return `run ${text(d.status)} in ${text(d.durationMs)}ms: ${text(spend.steps)} steps, ${tokens(spend)}, ${cost(spend.costUsd, spend.costEstimated)}${error}`
  }
}

/**
 * Summaries of the types written by the trail itself, the runtime (`LifecycleEvent`), the provider pool
 * (`MixtureFanOut`) and the agent (`AgentEvent`: steps, model calls with cost, tools, approvals, the run's end).
 * Fields are read loosely: an event of another shape still gets a line.
 */
export const summarizers: Readonly<Record<string, Summarizer>> = {
  genesis: (data, entry) =>
    `audit trail v${text(fieldsOf(data).version)} of run ${entry.runId}, opened by ${entry.agent} at ${entry.time}`,
  AuditResumed: (data, entry) => {
    const d = fieldsOf(data)
    const dropped = d.droppedBytes === undefined ? "" : `; dropped an incomplete entry of ${text(d.droppedBytes)} bytes`
    return `reopened by ${entry.agent} after seq ${text(d.afterSeq)}${dropped}`
  },
  ActorStarted: (data) => `${text(fieldsOf(data).path)} started (incarnation ${text(fieldsOf(data).incarnation)})`,
  ActorRestarted: (data) => {
    const d = fieldsOf(data)
    return `${text(d.path)} restarts in ${text(d.delayMillis)}ms after ${reason(d.reason)}`
  },
  ActorTerminated: (data) => `${text(fieldsOf(data).path)} terminated: ${reason(fieldsOf(data).reason)}`,
  SupervisorGaveUp: (data) => {
    const d = fieldsOf(data)
    return `${text(d.path)} gave up on ${text(d.child)}: ${text(d.restarts)} restarts within ${text(d.withinMillis)}ms`
  },
  MessageDropped: (data) => `${text(fieldsOf(data).path)} dropped a message (${text(fieldsOf(data).cause)})`,
  MixtureFanOut: fanOut,
  ...agentEvents
}

// The fields a reader looks for first in an event the formatter has no summary for (agent steps, tool calls,
// approvals, costs); the rest follow in their own order.
const leading = [
  "step",
  "goal",
  "tool",
  "name",
  "provider",
  "model",
  "decision",
  "approved",
  "by",
  "outcome",
  "status",
  "reason",
  "error",
  "message",
  "inputTokens",
  "outputTokens",
  "costUsd",
  "durationMs"
]

/** `key=value` pairs of the data, the usual suspects first, each value clipped. */
export const generic: Summarizer = (data) => {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return clip(text(data), 120)
  const d = data as Fields
  const keys = [...leading.filter((k) => k in d), ...Object.keys(d).filter((k) => !leading.includes(k))]
  return keys
    .map((key) => {
      const value = d[key]!
      const shown = key === "costUsd" && typeof value === "number" ? money(value) : text(value)
      return `${key}=${clip(typeof value === "string" && /\s/.test(value) ? JSON.stringify(value) : shown, 60)}`
    })
    .join(" ")
}

const offset = (millis: number): string => {
  if (!Number.isFinite(millis)) return "+?"
  const total = Math.max(0, Math.round(millis))
  const ms = String(total % 1000).padStart(3, "0")
  const s = String(Math.floor(total / 1000) % 60).padStart(2, "0")
  const m = Math.floor(total / 60_000) % 60
  const h = Math.floor(total / 3_600_000)
  return h > 0 ? `+${h}:${String(m).padStart(2, "0")}:${s}.${ms}` : `+${m}:${s}.${ms}`
}

/** Options of {@link format}. */
export interface FormatOptions {
  /** Summaries for more types (the agent's events), by type; they win over the built-in ones. */
  readonly summarizers?: Readonly<Record<string, Summarizer>>
  /** The longest summary in characters (default 160). */
  readonly width?: number
}

/** One line per entry: time since the first entry, seq, type and summary, every string sanitized. */
export const format = (entries: ReadonlyArray<AuditEntry>, options: FormatOptions = {}): ReadonlyArray<string> => {
  const start = entries.length === 0 ? 0 : Date.parse(entries[0]!.time)
  const seqWidth = entries.reduce((w, e) => Math.max(w, String(e.seq).length), 1)
  const types = entries.map((e) => clip(oneLine(e.type), 28))
  const typeWidth = types.reduce((w, t) => Math.max(w, t.length), 4)
  const width = options.width ?? 160
  return entries.map((entry, i) => {
    const summarize = options.summarizers?.[entry.type] ?? summarizers[entry.type] ?? generic
    const summary = clip(oneLine(summarize(entry.data, entry)), width)
    const at = offset(Date.parse(entry.time) - start).padStart(10)
    return `${at}  #${String(entry.seq).padEnd(seqWidth)}  ${types[i]!.padEnd(typeWidth)}  ${summary}`.trimEnd()
  })
}
