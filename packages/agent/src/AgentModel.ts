/**
 * The `LanguageModel` an agent talks to, built from its spec: its one `model` (or the default model) as one pool
 * call per turn (`Pooled`: breaker, rate limits and accounting, no fan-out), or its `mixture` of providers.
 *
 * Either way every call goes through the `ProviderPool` in context, so one pool shared by a team enforces limits and
 * accounts spending across all its agents, and each call's deadline (retries included) is the spec's
 * `limits.stepTimeout` (or `TROUPE_TIMEOUT`, when shorter).
 */
import { AgentSpec, type ModelSpec } from "@troupe/agent-spec"
import { Mixture, Pooled, ProviderConfig, type ProviderPool, Retry } from "@troupe/providers"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"

/** The spec's named providers as the provider configuration takes them. */
export const definitions = (spec: AgentSpec.AgentSpec): ReadonlyArray<ProviderConfig.ProviderDefinition> =>
  Object.entries(spec.providers).map(([name, d]) => ({
    name,
    kind: d.kind,
    headers: d.headers,
    ...(d.baseUrl === undefined ? {} : { baseUrl: d.baseUrl }),
    ...(d.apiKeyEnv === undefined ? {} : { apiKeyEnv: d.apiKeyEnv }),
    ...(d.timeout === undefined ? {} : { timeout: d.timeout })
  }))

const settingsOf = (ref: ModelSpec.ModelRef) => ({
  ...(ref.temperature === undefined ? {} : { temperature: ref.temperature }),
  ...(ref.maxOutputTokens === undefined ? {} : { maxTokens: ref.maxOutputTokens })
})

/**
 * Builds the agent's model. Fails with `ProviderConfigError` when a provider cannot be configured (an unknown name,
 * a missing key), before any call is made.
 */
export const make = (
  spec: AgentSpec.AgentSpec
): Effect.Effect<
  LanguageModel.LanguageModel,
  ProviderConfig.ProviderConfigError,
  ProviderPool.ProviderPool | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    const named = definitions(spec)
    if (spec.mixture === undefined) {
      const ref = AgentSpec.modelsOf(spec).providers[0]!
      const languageModel = yield* ProviderConfig.languageModel(ref.provider, ref.model, {
        definitions: named,
        deadline: spec.limits.stepTimeout,
        ...settingsOf(ref)
      })
      return yield* Pooled.make({
        provider: ref.provider,
        model: ref.model,
        languageModel,
        timeout: spec.limits.stepTimeout
      })
    }
    const mixture = spec.mixture
    const members = yield* Effect.forEach(mixture.providers, (member) =>
      // Inside a mixture a failing provider is dropped, not retried: the others are asked at the same time.
      Effect.map(
        ProviderConfig.languageModel(member.provider, member.model, {
          definitions: named,
          retry: Retry.none,
          deadline: spec.limits.stepTimeout,
          ...settingsOf(member)
        }),
        (languageModel) => ({
          provider: member.provider,
          model: member.model,
          weight: member.weight,
          timeout: mixture.timeout,
          languageModel
        })
      )
    )
    const judgeRef = mixture.judge
    const judge =
      judgeRef === undefined
        ? undefined
        : {
            provider: judgeRef.provider,
            model: judgeRef.model,
            languageModel: yield* ProviderConfig.languageModel(judgeRef.provider, judgeRef.model, {
              definitions: named,
              retry: Retry.none,
              deadline: spec.limits.stepTimeout,
              ...settingsOf(judgeRef)
            })
          }
    return yield* Mixture.make({
      members,
      strategy: Mixture.strategyNamed(mixture.strategy, {
        members: members.length,
        quorum: mixture.quorum,
        retries: mixture.retries,
        judge
      })
    })
  })
