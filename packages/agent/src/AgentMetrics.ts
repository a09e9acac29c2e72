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
 * import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
 * import { PrometheusMetrics } from "effect/observability"
 *
 * const scrape = PrometheusMetrics.format() // after some runs: troupe_agent_runs_total{agent="backend",status="done"} 3 …
 * ```
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as AgentEvent from "./AgentEvent.ts"

const runsOptions = { description: "Agent runs that ended, by status." }
const stepsOptions = { description: "Agent steps (model turns)." }
const tokensOptions = { description: "Tokens billed, by direction." }
const costOptions = { description: "Money spent on model calls, USD." }
const toolFailuresOptions = { description: "Failed tool calls." }

const latencyBoundaries = Metric.exponentialBoundaries({ start: 10, factor: 2, count: 14 })
const modelLatencyOptions = { description: "Model call latency, milliseconds.", boundaries: latencyBoundaries }
const stepDurationOptions = { description: "Step duration, milliseconds.", boundaries: latencyBoundaries }

/** Runs that ended, by agent and status (`done`, `failed`, `budget-exceeded`, `cancelled`). */
export const runs = Metric.counter("troupe_agent_runs_total", runsOptions)

/** Steps started, by agent. */
export const steps = Metric.counter("troupe_agent_steps_total", stepsOptions)

/** Input and output tokens billed, by agent, provider and direction. */
export const tokens = Metric.counter("troupe_agent_tokens_total", tokensOptions)

/** US dollars spent, by agent and provider. */
export const cost = Metric.counter("troupe_agent_cost_usd_total", costOptions)

/** Tool calls that failed, by agent and tool. */
export const toolFailures = Metric.counter("troupe_agent_tool_failures_total", toolFailuresOptions)

/** Model call latency in milliseconds, by agent and provider. */
export const modelLatency = Metric.histogram("troupe_agent_model_latency_ms", modelLatencyOptions)

/** Step duration in milliseconds (model turn and its tools), by agent. */
export const stepDuration = Metric.histogram("troupe_agent_step_duration_ms", stepDurationOptions)

// One series of a metric above: the same metric with its attributes given when it is made. The registry knows a
// series by name, description and attributes, so it is the series `Metric.withAttributes` would update; made once
// and reused, it is updated without a new context (which `withAttributes` builds on every update).
type Series = Metric.Metric<number, unknown>
const makers = {
  runs: (attributes: Record<string, string>): Series =>
    Metric.counter("troupe_agent_runs_total", { ...runsOptions, attributes }),
  steps: (attributes: Record<string, string>): Series =>
    Metric.counter("troupe_agent_steps_total", { ...stepsOptions, attributes }),
  tokens: (attributes: Record<string, string>): Series =>
    Metric.counter("troupe_agent_tokens_total", { ...tokensOptions, attributes }),
  cost: (attributes: Record<string, string>): Series =>
    Metric.counter("troupe_agent_cost_usd_total", { ...costOptions, attributes }),
  toolFailures: (attributes: Record<string, string>): Series =>
    Metric.counter("troupe_agent_tool_failures_total", { ...toolFailuresOptions, attributes }),
  modelLatency: (attributes: Record<string, string>): Series =>
    Metric.histogram("troupe_agent_model_latency_ms", { ...modelLatencyOptions, attributes }),
  stepDuration: (attributes: Record<string, string>): Series =>
    Metric.histogram("troupe_agent_step_duration_ms", { ...stepDurationOptions, attributes })
}

interface ModelSeries {
  readonly input: Series
  readonly output: Series
  readonly cost: Series
  readonly latency: Series
}

/**
 * A recorder: feed it every event of one or more agents and it updates the metrics. It remembers when each run's
 * step started, to measure step durations.
 */
export const recorder = (): ((event: AgentEvent.AgentEvent) => Effect.Effect<void>) => {
  const stepStarts = new Map<string, number>()
  const series = new Map<string, Series>()
  // Keyed by the attribute values in their fixed order (each metric's attributes always have the same names).
  const seriesOf = (metric: keyof typeof makers, key: string, attributes: () => Record<string, string>): Series => {
    const id = `${metric}\u0000${key}`
    let found = series.get(id)
    if (found === undefined) {
      found = makers[metric](attributes())
      series.set(id, found)
    }
    return found
  }
  // The four series of a model call, by agent and provider: found without building a key, once per call.
  const modelSeries = new Map<string, Map<string, ModelSeries>>()
  const modelSeriesOf = (agent: string, provider: string): ModelSeries => {
    let byProvider = modelSeries.get(agent)
    if (byProvider === undefined) {
      byProvider = new Map()
      modelSeries.set(agent, byProvider)
    }
    let found = byProvider.get(provider)
    if (found === undefined) {
      const attributes = { agent, provider }
      found = {
        input: makers.tokens({ ...attributes, direction: "input" }),
        output: makers.tokens({ ...attributes, direction: "output" }),
        cost: makers.cost(attributes),
        latency: makers.modelLatency(attributes)
      }
      byProvider.set(provider, found)
    }
    return found
  }
  // Every update of one event in one effect, with the context read once.
  const updates = (apply: (context: Context.Context<never>) => void): Effect.Effect<void> =>
    Effect.contextWith((context: Context.Context<never>) => Effect.sync(() => apply(context)))
  const endStep = (
    event: { readonly runId: string; readonly agent: string; readonly at: number },
    context: Context.Context<never>
  ) => {
    const started = stepStarts.get(event.runId)
    if (started === undefined) return
    stepStarts.delete(event.runId)
    seriesOf("stepDuration", event.agent, () => ({ agent: event.agent })).updateUnsafe(event.at - started, context)
  }
  return (event) => {
    switch (event._tag) {
      case "AgentStepStarted":
        return updates((context) => {
          endStep(event, context)
          stepStarts.set(event.runId, event.at)
          seriesOf("steps", event.agent, () => ({ agent: event.agent })).updateUnsafe(1, context)
        })
      case "AgentModelCalled":
        return updates((context) => {
          const model = modelSeriesOf(event.agent, event.provider)
          model.input.updateUnsafe(event.inputTokens, context)
          model.output.updateUnsafe(event.outputTokens, context)
          model.cost.updateUnsafe(event.costUsd, context)
          model.latency.updateUnsafe(event.latencyMs, context)
        })
      case "AgentToolResult":
        return event.isFailure
          ? updates((context) =>
              seriesOf("toolFailures", `${event.agent}\u0000${event.tool}`, () => ({
                agent: event.agent,
                tool: event.tool
              })).updateUnsafe(1, context)
            )
          : Effect.void
      case "AgentRunEnded":
        return updates((context) => {
          endStep(event, context)
          seriesOf("runs", `${event.agent}\u0000${event.status}`, () => ({
            agent: event.agent,
            status: event.status
          })).updateUnsafe(1, context)
        })
      default:
        return Effect.void
    }
  }
}
