/**
 * The spec's `limits` as checks between steps: steps, tokens and money spent so far, each warned about once at 80%
 * and stopping the run cleanly with `BudgetExceeded` when reached. Time is bounded where it is spent (see `Run`).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as AgentError from "../AgentError.ts"
import * as Spend from "../Spend.ts"
import { partialOf, type RunContext, type RunState } from "./runContext.ts"

/** The fraction of a limit at which a warning is published. */
export const warningAt = 0.8

const measures = (context: RunContext, state: RunState) =>
  [
    { limit: "steps", used: state.step, max: context.spec.limits.maxSteps },
    { limit: "tokens", used: Spend.tokens(state.spend), max: context.spec.limits.maxTokens },
    { limit: "cost", used: state.spend.costUsd, max: context.spec.limits.maxCostUsd }
  ] as const

/**
 * Fails with `BudgetExceeded` when a limit is reached (no further step may start), and publishes a warning the
 * first time one passes 80%.
 */
export const check = (context: RunContext, state: RunState): Effect.Effect<RunState, AgentError.BudgetExceeded> =>
  measures(context, state).every(
    ({ limit, used, max }) => used < max * warningAt || (used < max && state.warned.has(limit))
  )
    ? Effect.succeed(state)
    : checked(context, state)

const checked = (context: RunContext, state: RunState): Effect.Effect<RunState, AgentError.BudgetExceeded> =>
  Effect.gen(function* () {
    let warned = state.warned
    for (const { limit, used, max } of measures(context, state)) {
      if (used >= max) {
        return yield* new AgentError.BudgetExceeded({ limit, used, max, partial: partialOf(context.runId, state) })
      }
      if (used >= max * warningAt && !warned.has(limit)) {
        warned = new Set([...warned, limit])
        yield* context.emit({
          _tag: "AgentBudgetWarning",
          runId: context.runId,
          agent: context.spec.name,
          at: yield* Clock.currentTimeMillis,
          limit,
          used,
          max
        })
      }
    }
    return warned === state.warned ? state : { ...state, warned }
  })
