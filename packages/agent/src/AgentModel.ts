/**
 * The `LanguageModel` an agent talks to, built from its spec: its one `model` (or the default model) as one pool
 * call per turn (`Pooled`: breaker, rate limits and accounting, no fan-out), or its `mixture` of providers.
 *
 * Either way every call goes through the `ProviderPool` in context, so one pool shared by a team enforces limits and
 * accounts spending across all its agents, and each call's deadline (retries included) is the spec's
 * `limits.stepTimeout` (or `TROUPE_TIMEOUT`, when shorter).
 *
 * Agents whose specs ask for the same model (same providers, settings and step timeout) under the same pool, HTTP
 * client and configuration share one model: it holds nothing of an agent, and a thousand agents of one spec need
 * not hold a thousand copies of its wrappers.
 */
import * as AgentSpec from "@troupe/agent-spec/AgentSpec"
import type * as ModelSpec from "@troupe/agent-spec/ModelSpec"
import { Mixture, Pooled, ProviderConfig, ProviderPool, Retry } from "@troupe/providers"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"

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

/** An agent's model as it is made: from the pool and the HTTP client in context, or why a provider cannot be configured. */
type Made = Effect.Effect<
  LanguageModel.LanguageModel,
  ProviderConfig.ProviderConfigError,
  ProviderPool.ProviderPool | HttpClient.HttpClient
>

/**
 * Builds the agent's model. Fails with `ProviderConfigError` when a provider cannot be configured (an unknown name,
 * a missing key), before any call is made.
 */
export const make = (spec: AgentSpec.AgentSpec): Made =>
  Effect.gen(function* () {
    // What the model captures when it is made: the pool, the HTTP client, and the configuration it reads the
    // providers' keys, addresses and `TROUPE_TIMEOUT` from.
    const captured: ReadonlyArray<object> = [
      yield* ProviderPool.ProviderPool,
      yield* HttpClient.HttpClient,
      yield* ConfigProvider.ConfigProvider
    ]
    const key = modelKey(spec)
    const models = sharedUnder(captured)
    const found = models.get(key)
    if (found !== undefined) return found
    const model = yield* build(spec)
    models.set(key, model)
    return model
  })

// The models made so far, by the services they captured (held weakly: a pool that is gone takes its models along),
// then by `modelKey`.
const shared = new WeakMap<object, unknown>()

const sharedUnder = (captured: ReadonlyArray<object>): Map<string, LanguageModel.LanguageModel> => {
  let level: WeakMap<object, unknown> = shared
  for (const [i, service] of captured.entries()) {
    let next = level.get(service)
    if (next === undefined) {
      next = i === captured.length - 1 ? new Map() : new WeakMap()
      level.set(service, next)
    }
    level = next as WeakMap<object, unknown>
  }
  return level as unknown as Map<string, LanguageModel.LanguageModel>
}

// Everything of a spec `build` reads.
const modelKey = (spec: AgentSpec.AgentSpec): string =>
  JSON.stringify([spec.model ?? null, spec.mixture ?? null, spec.providers, Duration.toMillis(spec.limits.stepTimeout)])

const build = (spec: AgentSpec.AgentSpec): Made =>
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
