/**
 * Metrics per agent and provider, computed from the agent's events: runs by outcome, steps, tokens, cost, model
 * and step latency histograms, and tool failures. They are `effect/Metric`s, so any exporter of
 * `effect/observability` reads them: `PrometheusMetrics.format()` for a scrape, `OtlpMetrics` for a collector.
 *
 * Names follow Prometheus conventions (`troupe_agent_…_total` for counters); attributes are `agent`, and
 * `provider`, `status` or `tool` where they apply.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { PrometheusMetrics } from "effect/observability"
 *
 * const scrape = PrometheusMetrics.format() // after some runs: troupe_agent_runs_total{agent="backend",status="done"} 3 …
 * ```
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as AgentEvent from "./AgentEvent.ts"

/** Runs that ended, by agent and status (`done`, `failed`, `budget-exceeded`, `cancelled`). */
export const runs = Metric.counter("troupe_agent_runs_total", { description: "Agent runs that ended, by status." })

/** Steps started, by agent. */
export const steps = Metric.counter("troupe_agent_steps_total", { description: "Agent steps (model turns)." })

/** Input and output tokens billed, by agent, provider and direction. */
export const tokens = Metric.counter("troupe_agent_tokens_total", { description: "Tokens billed, by direction." })

/** US dollars spent, by agent and provider. */
export const cost = Metric.counter("troupe_agent_cost_usd_total", { description: "Money spent on model calls, USD." })

/** Tool calls that failed, by agent and tool. */
export const toolFailures = Metric.counter("troupe_agent_tool_failures_total", { description: "Failed tool calls." })

const latencyBoundaries = Metric.exponentialBoundaries({ start: 10, factor: 2, count: 14 })

/** Model call latency in milliseconds, by agent and provider. */
export const modelLatency = Metric.histogram("troupe_agent_model_latency_ms", {
  description: "Model call latency, milliseconds.",
  boundaries: latencyBoundaries
})

/** Step duration in milliseconds (model turn and its tools), by agent. */
export const stepDuration = Metric.histogram("troupe_agent_step_duration_ms", {
  description: "Step duration, milliseconds.",
  boundaries: latencyBoundaries
})

/**
 * A recorder: feed it every event of one or more agents and it updates the metrics. It remembers when each run's
 * step started, to measure step durations.
 */
export const recorder = (): ((event: AgentEvent.AgentEvent) => Effect.Effect<void>) => {
  const stepStarts = new Map<string, number>()
  const endStep = (event: { readonly runId: string; readonly agent: string; readonly at: number }) => {
    const started = stepStarts.get(event.runId)
    if (started === undefined) return Effect.void
    stepStarts.delete(event.runId)
    return Metric.update(Metric.withAttributes(stepDuration, { agent: event.agent }), event.at - started)
  }
  return (event) => {
    switch (event._tag) {
      case "AgentStepStarted":
        return Effect.andThen(endStep(event), () => {
          stepStarts.set(event.runId, event.at)
          return Metric.update(Metric.withAttributes(steps, { agent: event.agent }), 1)
        })
      case "AgentModelCalled": {
        const attributes = { agent: event.agent, provider: event.provider }
        return Effect.all(
          [
            Metric.update(Metric.withAttributes(tokens, { ...attributes, direction: "input" }), event.inputTokens),
            Metric.update(Metric.withAttributes(tokens, { ...attributes, direction: "output" }), event.outputTokens),
            Metric.update(Metric.withAttributes(cost, attributes), event.costUsd),
            Metric.update(Metric.withAttributes(modelLatency, attributes), event.latencyMs)
          ],
          { discard: true }
        )
      }
      case "AgentToolResult":
        return event.isFailure
          ? Metric.update(Metric.withAttributes(toolFailures, { agent: event.agent, tool: event.tool }), 1)
          : Effect.void
      case "AgentRunEnded":
        return Effect.andThen(
          endStep(event),
          Metric.update(Metric.withAttributes(runs, { agent: event.agent, status: event.status }), 1)
        )
      default:
        return Effect.void
    }
  }
}
