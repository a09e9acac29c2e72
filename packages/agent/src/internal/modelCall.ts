/**
 * One model call of a run, whatever it is for (planning, acting, reflecting, summarising): its time, what every
 * provider it reached may bill, the `AgentModelCalled` event, and its failure as a typed `ModelFailed`.
 */
import { Mixture } from "@troupe/providers"
import type * as AiError from "effect/ai/AiError"
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import * as AgentError from "../AgentError.ts"
import * as Spend from "../Spend.ts"
import { partialOf, type RunContext, type RunState } from "./runContext.ts"

/** The charges of one answer: every call billed for it, or its own usage when no pool reported any. */
export const chargesOf = (
  response: LanguageModel.GenerateTextResponse<any, any>,
  decision = Mixture.decisionOf(response)
): { readonly provider: string; readonly model: string; readonly charges: ReadonlyArray<Spend.Charge> } => {
  if (decision?.charges !== undefined) {
    return {
      provider: decision.provider,
      model: decision.model,
      charges: decision.charges.map((c) => ({
        provider: c.provider,
        inputTokens: c.inputTokens,
        outputTokens: c.outputTokens,
        costUsd: c.costUsd,
        estimated: c.estimated
      }))
    }
  }
  const metadata = response.content.find((p) => p.type === "response-metadata") as
    | { readonly modelId?: string }
    | undefined
  return {
    provider: "unknown",
    model: metadata?.modelId ?? "unknown",
    charges: [
      {
        provider: "unknown",
        inputTokens: response.usage.inputTokens.total ?? 0,
        outputTokens: response.usage.outputTokens.total ?? 0,
        costUsd: undefined
      }
    ]
  }
}

/**
 * The model seen through plain options. The run builds its requests at run time (its toolkit is whatever the
 * spec allows, its schemas are its own), which `LanguageModel`'s inferred option types cannot express.
 */
export interface LooseModel {
  readonly generateText: (options: {
    readonly prompt: Prompt.Prompt
    readonly toolkit?: Toolkit.WithHandler<any> | undefined
    readonly concurrency?: number | undefined
  }) => Effect.Effect<LanguageModel.GenerateTextResponse<any>, AiError.AiError>
  readonly generateObject: <A>(options: {
    readonly prompt: Prompt.Prompt
    readonly schema: Schema.Codec<A, any>
    readonly objectName: string
  }) => Effect.Effect<LanguageModel.GenerateObjectResponse<any, A>, AiError.AiError>
}

/** The run's model as a `LooseModel`. */
export const loose = (model: LanguageModel.LanguageModel): LooseModel => model as unknown as LooseModel

// The model the spec asks for (the first member of a mixture); the span's response attributes say who answered.
const requestedModel = (context: RunContext): string =>
  context.spec.mixture?.providers[0]?.model ?? context.spec.model?.model ?? "default"

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}…`)

/**
 * Runs `call`, charges the run for it and publishes `AgentModelCalled`; a failure of the models becomes
 * `ModelFailed` with the run's partial result.
 */
export const run = <Response extends LanguageModel.GenerateTextResponse<any, any>>(
  context: RunContext,
  state: RunState,
  purpose: AgentError.Purpose,
  call: Effect.Effect<Response, AiError.AiError>
): Effect.Effect<{ readonly response: Response; readonly state: RunState }, AgentError.ModelFailed> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const response = yield* call.pipe(
      Effect.mapError(
        (error) =>
          new AgentError.ModelFailed({
            purpose,
            reason: error.reason._tag,
            description: error.reason.message,
            retryable: error.isRetryable,
            partial: partialOf(context.runId, state)
          })
      )
    )
    const at = yield* Clock.currentTimeMillis
    const decision = Mixture.decisionOf(response)
    const { provider, model, charges } = chargesOf(response, decision)
    const spend = Spend.charge(state.spend, charges)
    const scores = decision?.scores
    yield* context.emit({
      _tag: "AgentModelCalled",
      runId: context.runId,
      agent: context.spec.name,
      at,
      step: state.step,
      purpose,
      provider,
      model,
      inputTokens: charges.reduce((n, c) => n + c.inputTokens, 0),
      outputTokens: charges.reduce((n, c) => n + c.outputTokens, 0),
      costUsd: spend.costUsd - state.spend.costUsd,
      costEstimated: charges.some((c) => c.costUsd === undefined || c.estimated === true),
      latencyMs: at - started,
      finishReason: response.finishReason,
      text: cut(response.text, 64_000),
      toolCalls: response.toolCalls.map((c) => ({ id: c.id, name: c.name })),
      ...(scores === undefined || scores.length === 0 ? {} : { scores })
    })
    yield* Effect.annotateCurrentSpan({
      "gen_ai.provider.name": provider,
      "gen_ai.response.model": model,
      "gen_ai.usage.input_tokens": charges.reduce((n, c) => n + c.inputTokens, 0),
      "gen_ai.usage.output_tokens": charges.reduce((n, c) => n + c.outputTokens, 0),
      "gen_ai.response.finish_reasons": [response.finishReason],
      "troupe.cost_usd": spend.costUsd - state.spend.costUsd
    })
    return { response, state: { ...state, spend } }
  }).pipe(
    Effect.withSpan(
      `chat ${context.spec.name}`,
      {
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.agent.name": context.spec.name,
          "gen_ai.request.model": requestedModel(context),
          "troupe.run.id": context.runId,
          "troupe.purpose": purpose,
          "troupe.step": state.step
        }
      },
      { captureStackTrace: false }
    )
  )
