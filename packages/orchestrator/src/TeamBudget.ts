/**
 * The team's budget: steps, tokens and dollars across every agent of an orchestration (the decomposition
 * included), beside each agent's own `limits`.
 *
 * Spending is counted from what the agents publish (`AgentStepStarted`, `AgentModelCalled`, each call at list
 * prices with every mixture member billed), so it is the same accounting a single run uses. A limit warns once at
 * 80% and is exceeded when spending goes past it; the orchestrator then cancels the runs in progress and fails the
 * goal with `TeamBudgetExceeded`.
 */
import { type AgentEvent, Spend } from "@troupe/agent"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as OrchestratorError from "./OrchestratorError.ts"

/** The team's limits; an absent one is not enforced. */
export interface Limits {
  readonly maxSteps?: number | undefined
  readonly maxTokens?: number | undefined
  readonly maxCostUsd?: number | undefined
}

/** A limit gone past. */
export interface Overrun {
  readonly limit: OrchestratorError.TeamLimit
  readonly used: number
  readonly max: number
}

/** The budget of one orchestration. */
export interface Tracker {
  /** What the team has spent so far. */
  readonly spend: Effect.Effect<Spend.Spend>
  /** Counts an event of one of the team's agents (steps and model calls; other events cost nothing). */
  readonly count: (event: AgentEvent.AgentEvent) => Effect.Effect<void>
  /** Counts what a run made elsewhere spent (its events stayed where it ran), once it has ended. */
  readonly add: (spend: Spend.Spend) => Effect.Effect<void>
  /** Counts the charges of a call the orchestrator made itself (the decomposition). */
  readonly charge: (charges: ReadonlyArray<Spend.Charge>) => Effect.Effect<void>
  /** Waits until a limit is gone past, and says which. */
  readonly exceeded: Effect.Effect<Overrun>
  /** The limit gone past, if any, now. */
  readonly overrun: Effect.Effect<Overrun | undefined>
}

const warningShare = 0.8

/** Builds a tracker; `warn` is called once per limit when spending passes 80% of it. */
export const make = (limits: Limits, warn: (overrun: Overrun) => Effect.Effect<void>): Effect.Effect<Tracker> =>
  Effect.sync(() => {
    let spend = Spend.zero
    const warned = new Set<string>()
    const over = Deferred.makeUnsafe<Overrun>()
    let first: Overrun | undefined
    const measures: ReadonlyArray<{
      readonly limit: OrchestratorError.TeamLimit
      readonly max: number | undefined
      readonly used: (s: Spend.Spend) => number
    }> = [
      { limit: "steps", max: limits.maxSteps, used: (s) => s.steps },
      { limit: "tokens", max: limits.maxTokens, used: Spend.tokens },
      { limit: "cost", max: limits.maxCostUsd, used: (s) => s.costUsd }
    ]
    const update = (next: Spend.Spend) =>
      Effect.suspend(() => {
        spend = next
        return Effect.forEach(
          measures,
          ({ limit, max, used }) => {
            if (max === undefined) return Effect.void
            const value = used(next)
            if (value > max) {
              first ??= { limit, used: value, max }
              return Deferred.succeed(over, first)
            }
            if (value >= max * warningShare && !warned.has(limit)) {
              warned.add(limit)
              return warn({ limit, used: value, max })
            }
            return Effect.void
          },
          { discard: true }
        )
      })
    return {
      spend: Effect.sync(() => spend),
      count: (event) => {
        switch (event._tag) {
          case "AgentStepStarted":
            return update(Spend.step(spend))
          case "AgentModelCalled":
            return update(
              Spend.charge(spend, [
                {
                  provider: event.provider,
                  inputTokens: event.inputTokens,
                  outputTokens: event.outputTokens,
                  costUsd: event.costUsd,
                  estimated: event.costEstimated
                }
              ])
            )
          default:
            return Effect.void
        }
      },
      add: (other) => Effect.suspend(() => update(Spend.combine(spend, other))),
      charge: (charges) => Effect.suspend(() => update(Spend.charge(spend, charges))),
      exceeded: Deferred.await(over),
      overrun: Effect.sync(() => first)
    }
  })
