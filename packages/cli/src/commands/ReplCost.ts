/**
 * What an interactive session has spent, summed over its runs (`/cost`): model calls, tokens and money, by provider.
 */
import type { Spend } from "@troupe/agent"

/** The session's spending. */
export interface SessionCost {
  readonly runs: number
  readonly spend: Spend.Spend
}

/** Nothing spent. */
export const empty: SessionCost = {
  runs: 0,
  spend: {
    steps: 0,
    modelCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    costEstimated: false,
    byProvider: []
  }
}

/** The session's spending after a run that spent `spend` (whatever its ending). */
export const add = (cost: SessionCost, spend: Spend.Spend): SessionCost => {
  const byProvider = new Map(cost.spend.byProvider.map((p) => [p.provider, p]))
  for (const p of spend.byProvider) {
    const before = byProvider.get(p.provider)
    byProvider.set(
      p.provider,
      before === undefined
        ? p
        : {
            provider: p.provider,
            calls: before.calls + p.calls,
            inputTokens: before.inputTokens + p.inputTokens,
            outputTokens: before.outputTokens + p.outputTokens,
            costUsd: before.costUsd + p.costUsd
          }
    )
  }
  return {
    runs: cost.runs + 1,
    spend: {
      steps: cost.spend.steps + spend.steps,
      modelCalls: cost.spend.modelCalls + spend.modelCalls,
      inputTokens: cost.spend.inputTokens + spend.inputTokens,
      outputTokens: cost.spend.outputTokens + spend.outputTokens,
      costUsd: cost.spend.costUsd + spend.costUsd,
      costEstimated: cost.spend.costEstimated || spend.costEstimated,
      byProvider: [...byProvider.values()]
    }
  }
}

const count = (n: number) => n.toLocaleString("en-US")

/** Money as printed: dollars with six decimals (a small model's turn costs fractions of a cent). */
export const money = (usd: number, estimated: boolean) => `$${usd.toFixed(6)}${estimated ? " (partly estimated)" : ""}`

/** One line of a run's or a session's spending. */
export const summary = (spend: Spend.Spend): string =>
  `${spend.steps} step${spend.steps === 1 ? "" : "s"}, ${spend.modelCalls} model call${spend.modelCalls === 1 ? "" : "s"}, ${count(spend.inputTokens)} tokens in, ${count(spend.outputTokens)} out, ${money(spend.costUsd, spend.costEstimated)}`

/** What `/cost` prints. */
export const lines = (cost: SessionCost): ReadonlyArray<string> => [
  `this session: ${cost.runs} run${cost.runs === 1 ? "" : "s"}, ${summary(cost.spend)}`,
  ...cost.spend.byProvider.map(
    (p) =>
      `  ${p.provider}: ${p.calls} call${p.calls === 1 ? "" : "s"}, ${count(p.inputTokens)} in, ${count(p.outputTokens)} out, ${money(p.costUsd, false)}`
  )
]
