/**
 * What a run has spent: model turns, tokens and money, with the money split by provider and marked when part of it
 * is an estimate (a cancelled call whose provider reported no usage).
 *
 * Every model call a provider may bill counts: the agent's own turns, planning, reflection and summarising, and,
 * under a mixture, every member asked (the winner, the losers, the judge).
 */
import * as Schema from "effect/Schema"

/** Spending on one provider. */
export const ProviderSpend = Schema.Struct({
  provider: Schema.String,
  calls: Schema.Int,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  costUsd: Schema.Finite
})

/** Spending on one provider. */
export type ProviderSpend = typeof ProviderSpend.Type

/** What a run has spent. */
export const Spend = Schema.Struct({
  steps: Schema.Int,
  modelCalls: Schema.Int,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  costUsd: Schema.Finite,
  /** `true` when part of `costUsd` is estimated (cancelled calls, models without a price). */
  costEstimated: Schema.Boolean,
  byProvider: Schema.Array(ProviderSpend)
})

/** What a run has spent. */
export type Spend = typeof Spend.Type

/** Nothing spent yet. */
export const zero: Spend = {
  steps: 0,
  modelCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  costEstimated: false,
  byProvider: []
}

/** One billed call, as accounting sees it. */
export interface Charge {
  readonly provider: string
  readonly inputTokens: number
  readonly outputTokens: number
  /** USD, or `undefined` when the model has no known price. */
  readonly costUsd: number | undefined
  readonly estimated?: boolean
}

/** Tokens of both directions: what `limits.maxTokens` bounds. */
export const tokens = (spend: Spend): number => spend.inputTokens + spend.outputTokens

/** Adds the charges of one model call (several under a mixture). */
export const charge = (spend: Spend, charges: ReadonlyArray<Charge>): Spend => {
  if (charges.length === 0) return { ...spend, modelCalls: spend.modelCalls + 1 }
  const byProvider = new Map(spend.byProvider.map((p) => [p.provider, p]))
  let inputTokens = spend.inputTokens
  let outputTokens = spend.outputTokens
  let costUsd = spend.costUsd
  let costEstimated = spend.costEstimated
  for (const c of charges) {
    inputTokens += c.inputTokens
    outputTokens += c.outputTokens
    costUsd += c.costUsd ?? 0
    costEstimated ||= c.costUsd === undefined || c.estimated === true
    const before = byProvider.get(c.provider)
    byProvider.set(c.provider, {
      provider: c.provider,
      calls: (before?.calls ?? 0) + 1,
      inputTokens: (before?.inputTokens ?? 0) + c.inputTokens,
      outputTokens: (before?.outputTokens ?? 0) + c.outputTokens,
      costUsd: (before?.costUsd ?? 0) + (c.costUsd ?? 0)
    })
  }
  return {
    steps: spend.steps,
    modelCalls: spend.modelCalls + 1,
    inputTokens,
    outputTokens,
    costUsd,
    costEstimated,
    byProvider: [...byProvider.values()]
  }
}

/** One more step (model turn of the agent's own loop). */
export const step = (spend: Spend): Spend => ({ ...spend, steps: spend.steps + 1 })

/** The sum of two spends (an agent's total over its runs, a team's over its agents). */
export const combine = (a: Spend, b: Spend): Spend => {
  const byProvider = new Map(a.byProvider.map((p) => [p.provider, p]))
  for (const p of b.byProvider) {
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
    steps: a.steps + b.steps,
    modelCalls: a.modelCalls + b.modelCalls,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: a.costUsd + b.costUsd,
    costEstimated: a.costEstimated || b.costEstimated,
    byProvider: [...byProvider.values()]
  }
}
