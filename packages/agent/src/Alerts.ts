/**
 * The spec's `alerts:` rules, watched over an agent's events: its success rate over its latest runs, the cost of
 * each run, and the 95th percentile of its step durations. A rule that passes its bound raises an
 * `AgentAlertRaised` event (once per run that breaks it).
 *
 * @example
 * ```ts
 * const watch = Alerts.monitor(spec.alerts)
 * const raised = watch(event) // AgentAlertRaised events to publish, usually none
 * ```
 */
import type { AgentSpec } from "@troupe/agent-spec"
import * as Duration from "effect/Duration"
import type * as AgentEvent from "./AgentEvent.ts"

type AlertRaised = typeof AgentEvent.AlertRaised.Type

/** The 95th percentile of `values` (nearest rank). */
export const p95 = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)] ?? 0
}

/**
 * A watcher of one agent's events: feed it every event, publish what it returns. It keeps the latest outcomes and
 * step durations the rules need, and nothing else.
 */
export const monitor = (
  rules: ReadonlyArray<AgentSpec.Alert>
): ((event: AgentEvent.AgentEvent) => ReadonlyArray<AlertRaised>) => {
  const outcomes: Array<boolean> = []
  const durations: Array<number> = []
  const stepStarts = new Map<string, number>()
  const maxRuns = Math.max(0, ...rules.map((r) => (r.metric === "success-rate" ? r.window : 0)))
  const maxSteps = Math.max(0, ...rules.map((r) => (r.metric === "step-latency-p95" ? r.window : 0)))
  const raise = (
    event: { readonly runId: string; readonly agent: string; readonly at: number },
    metric: string,
    value: number,
    threshold: number,
    description: string
  ): AlertRaised => ({
    _tag: "AgentAlertRaised",
    runId: event.runId,
    agent: event.agent,
    at: event.at,
    metric,
    value,
    threshold,
    description
  })
  const endStep = (event: { readonly runId: string; readonly at: number }) => {
    const started = stepStarts.get(event.runId)
    if (started === undefined) return
    stepStarts.delete(event.runId)
    durations.push(event.at - started)
    if (durations.length > maxSteps) durations.shift()
  }
  return (event) => {
    if (rules.length === 0) return []
    if (event._tag === "AgentStepStarted") {
      endStep(event)
      stepStarts.set(event.runId, event.at)
      return []
    }
    if (event._tag !== "AgentRunEnded") return []
    endStep(event)
    outcomes.push(event.status === "done")
    if (outcomes.length > maxRuns) outcomes.shift()
    const raised: Array<AlertRaised> = []
    for (const rule of rules) {
      switch (rule.metric) {
        case "success-rate": {
          const recent = outcomes.slice(-rule.window)
          const rate = recent.filter((ok) => ok).length / recent.length
          if (rate < rule.below) {
            raised.push(
              raise(
                event,
                rule.metric,
                rate,
                rule.below,
                `success rate ${rate.toFixed(2)} over the last ${recent.length} runs is below ${rule.below}`
              )
            )
          }
          break
        }
        case "cost-per-run":
          if (event.spend.costUsd > rule.above) {
            raised.push(
              raise(
                event,
                rule.metric,
                event.spend.costUsd,
                rule.above,
                `run cost $${event.spend.costUsd.toFixed(4)}, above $${rule.above}`
              )
            )
          }
          break
        case "step-latency-p95": {
          const bound = Duration.toMillis(rule.above)
          const latency = p95(durations.slice(-rule.window))
          if (durations.length > 0 && latency > bound) {
            raised.push(
              raise(
                event,
                rule.metric,
                latency,
                bound,
                `p95 step latency ${latency} ms over the last ${Math.min(durations.length, rule.window)} steps is above ${bound} ms`
              )
            )
          }
          break
        }
      }
    }
    return raised
  }
}
