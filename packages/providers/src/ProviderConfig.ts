/**
 * Provider definitions and the functions that turn a provider + model into a `LanguageModel` or
 * `EmbeddingModel`: the built-in providers of `ProviderCatalog` (configured from the environment through
 * `Config`) and named definitions (`kind`, `baseUrl`, `apiKeyEnv`, `headers`, `timeout`). A definition without
 * `apiKeyEnv` sends no key (vLLM, llama.cpp, LM Studio).
 *
 * ```ts
 * // An Effect of the service (the mixture builds several this way):
 * const model = yield* ProviderConfig.languageModel("anthropic", "claude-sonnet-4-5")
 * // Or a layer (the usual way to provide one model to a program):
 * program.pipe(Effect.provide(ProviderConfig.layerLanguageModel("openai", "gpt-4o-mini")), Effect.provide(NodeHttpClient.layerUndici))
 * // A named OpenAI-compatible server:
 * const groq = ProviderConfig.definition({ name: "groq", kind: "openai", baseUrl: "https://api.groq.com/openai/v1", apiKeyEnv: "GROQ_API_KEY" })
 * ```
 *
 * Environment (see `ProviderCatalog.builtins`): `OPENAI_API_KEY` / `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY` /
 * `ANTHROPIC_BASE_URL`, `GEMINI_API_KEY` / `GEMINI_BASE_URL`, `OLLAMA_HOST` (served OpenAI-compatible at
 * `$OLLAMA_HOST/v1`, no key). Keys are read with `Config.Redacted` and never appear in errors. A built-in that
 * points at its hosted API needs its key, and a missing one fails with `ProviderConfigError` when the model is
 * built, not when it is first called; pointed at another server by its base-URL variable, it works without one
 * (a keyless llama.cpp, vLLM or LM Studio server).
 */

import type * as EmbeddingModel from "effect/ai/EmbeddingModel"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AnthropicLanguageModel from "./AnthropicLanguageModel.ts"
import type * as Connection from "./Connection.ts"
import * as GeminiEmbeddingModel from "./GeminiEmbeddingModel.ts"
import * as GeminiLanguageModel from "./GeminiLanguageModel.ts"
import { parseDuration } from "./internal/duration.ts"
import * as OpenAiEmbeddingModel from "./OpenAiEmbeddingModel.ts"
import * as OpenAiLanguageModel from "./OpenAiLanguageModel.ts"
import * as ProviderCatalog from "./ProviderCatalog.ts"
import * as Retry from "./Retry.ts"

/**
 * A named provider definition, as written in configuration or agent YAML. `timeout` is a duration
 * string such as `"30 seconds"`, a number of milliseconds, or a `Duration` (as a decoded spec holds it).
 * For `kind: "ollama"` the base URL is the server's address (default `$OLLAMA_HOST`, then
 * http://127.0.0.1:11434); `/v1` is appended unless it is already there.
 */
export const ProviderDefinition = Schema.Struct({
  name: Schema.String,
  kind: ProviderCatalog.ProviderKind,
  baseUrl: Schema.optionalKey(Schema.String),
  apiKeyEnv: Schema.optionalKey(Schema.String),
  headers: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  timeout: Schema.optionalKey(Schema.Union([Schema.Finite, Schema.String, Schema.Duration])),
  maxRetries: Schema.optionalKey(Schema.Int)
})
/** A named provider definition. */
export type ProviderDefinition = typeof ProviderDefinition.Type

/** Builds a definition value (a typed identity, for readability at call sites). */
export const definition = (definition: ProviderDefinition): ProviderDefinition => definition

/** A provider: a built-in name, the name of a definition passed alongside, or a definition. */
export type ProviderRef = string | ProviderDefinition

/** Resolving a provider failed: unknown name, missing key, or a bad setting. */
export class ProviderConfigError extends Schema.TaggedError<ProviderConfigError>()("ProviderConfigError", {
  provider: Schema.String,
  description: Schema.String
}) {
  /** `provider 'NAME': DESCRIPTION`, ready to show a person. */
  override get message(): string {
    return `provider '${this.provider}': ${this.description}`
  }
}

/** A provider ready to build models: its kind and connection (with the key, still redacted). */
export interface ResolvedProvider {
  readonly name: string
  readonly kind: ProviderCatalog.WireKind
  readonly connection: Connection.Options
}

const fail = (provider: string, description: string) => new ProviderConfigError({ provider, description })

const readOptionalKey = (variable: string): Effect.Effect<Redacted.Redacted<string> | undefined> =>
  Config.option(Config.Redacted(variable)).pipe(
    Effect.map((key) => (Option.isSome(key) && Redacted.value(key.value).trim() !== "" ? key.value : undefined)),
    Effect.orElseSucceed(() => undefined)
  )

const readKey = (provider: string, variable: string): Effect.Effect<Redacted.Redacted<string>, ProviderConfigError> =>
  Effect.flatMap(readOptionalKey(variable), (key) =>
    key === undefined ? Effect.fail(fail(provider, `${variable} is not set`)) : Effect.succeed(key)
  )

const readOptional = (variable: string): Effect.Effect<string | undefined> =>
  Config.option(Config.String(variable)).pipe(
    // An empty variable counts as unset, as shells make `export X=` easy to leave behind.
    Effect.map((value) => {
      const text = Option.getOrUndefined(value)?.trim()
      return text === undefined || text === "" ? undefined : text
    }),
    Effect.orElseSucceed(() => undefined)
  )

// `OLLAMA_HOST` is often `host:port` without a scheme; the OpenAI-compatible API lives under `/v1`.
const ollamaBase = (host: string): string => {
  const withScheme = /^https?:\/\//.test(host) ? host : `http://${host}`
  const trimmed = withScheme.replace(/\/+$/, "")
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`
}

const ollamaHost = (): Effect.Effect<string> =>
  Effect.map(readOptional("OLLAMA_HOST"), (host) => host ?? ProviderCatalog.defaultBaseUrls.ollama)

const parseTimeout = (provider: string, timeout: ProviderDefinition["timeout"]) => {
  if (timeout === undefined) return Effect.succeed(undefined)
  const duration = Duration.fromInput(
    typeof timeout === "number" ? Duration.millis(timeout) : (timeout as Duration.Input)
  )
  return Option.isSome(duration)
    ? Effect.succeed(duration.value)
    : Effect.fail(fail(provider, `timeout '${String(timeout)}' is not a duration`))
}

/**
 * Resolves a provider reference against the environment (`Config`). Names are looked up in
 * `definitions` first, then among the built-ins.
 */
export const resolve = (
  provider: ProviderRef,
  definitions: ReadonlyArray<ProviderDefinition> = []
): Effect.Effect<ResolvedProvider, ProviderConfigError> =>
  Effect.gen(function* () {
    if (typeof provider !== "string") return yield* fromDefinition(provider)
    const named = definitions.find((d) => d.name === provider)
    if (named !== undefined) return yield* fromDefinition(named)
    const builtin = ProviderCatalog.builtin(provider)
    if (builtin === undefined) {
      return yield* fail(
        provider,
        `unknown provider; use one of ${ProviderCatalog.builtinNames.join(", ")} or a definition with that name`
      )
    }
    if (builtin.kind === "ollama") {
      return { name: provider, kind: "openai" as const, connection: { baseUrl: ollamaBase(yield* ollamaHost()) } }
    }
    const customUrl = yield* readOptional(builtin.baseUrlVariable)
    // Pointed at another server than its hosted API, a built-in may talk to a keyless one (llama.cpp, vLLM).
    const apiKey =
      builtin.keyVariable === undefined
        ? undefined
        : customUrl === undefined
          ? yield* readKey(provider, builtin.keyVariable)
          : yield* readOptionalKey(builtin.keyVariable)
    return {
      name: provider,
      kind: builtin.kind,
      connection: { baseUrl: customUrl ?? builtin.defaultBaseUrl, ...(apiKey === undefined ? {} : { apiKey }) }
    }
  })

const fromDefinition = (def: ProviderDefinition): Effect.Effect<ResolvedProvider, ProviderConfigError> =>
  Effect.gen(function* () {
    const apiKey = def.apiKeyEnv === undefined ? undefined : yield* readKey(def.name, def.apiKeyEnv)
    const timeout = yield* parseTimeout(def.name, def.timeout)
    const baseUrl =
      def.kind === "ollama"
        ? ollamaBase(def.baseUrl ?? (yield* ollamaHost()))
        : (def.baseUrl ?? ProviderCatalog.defaultBaseUrls[def.kind])
    return {
      name: def.name,
      kind: def.kind === "ollama" ? "openai" : def.kind,
      connection: {
        baseUrl,
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(def.headers === undefined ? {} : { headers: def.headers }),
        ...(timeout === undefined ? {} : { timeout }),
        ...(def.maxRetries === undefined ? {} : { retry: Retry.policy({ maxRetries: def.maxRetries }) })
      }
    }
  })

/** Generation settings and overrides applied on top of a provider's connection. */
export interface ModelOptions {
  readonly maxTokens?: number | undefined
  readonly temperature?: number | undefined
  /** Overrides the retry policy of the provider (e.g. `Retry.none` inside a mixture). */
  readonly retry?: Retry.Policy | undefined
  readonly timeout?: Duration.Input | undefined
  /**
   * The whole call's time limit, retries included (see `Connection.Options.deadline`). `TROUPE_TIMEOUT`, when set,
   * bounds it further: the shorter of the two applies.
   */
  readonly deadline?: Duration.Input | undefined
  /** Named definitions to look provider names up in. */
  readonly definitions?: ReadonlyArray<ProviderDefinition> | undefined
}

const withOverrides = (connection: Connection.Options, options: ModelOptions): Connection.Options => ({
  ...connection,
  ...(options.retry === undefined ? {} : { retry: options.retry }),
  ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  ...(options.deadline === undefined ? {} : { deadline: options.deadline })
})

/** The variable that bounds every model call of the process, retries included (`30s`, `2 minutes`, …). */
export const timeoutVariable = "TROUPE_TIMEOUT"

/**
 * A time limit as people write it: `90s`, `2m`, `1h`, `500ms`, or Effect's `"2 minutes"`; `undefined` when it is
 * not a positive duration.
 */
export { parseDuration }

/** `TROUPE_TIMEOUT` as a duration: `undefined` when unset, `ProviderConfigError` when it is not a duration. */
export const processDeadline: Effect.Effect<Duration.Duration | undefined, ProviderConfigError> = Effect.flatMap(
  readOptional(timeoutVariable),
  (text) => {
    if (text === undefined) return Effect.succeed(undefined)
    const duration = parseDuration(text)
    return duration === undefined
      ? Effect.fail(fail(timeoutVariable, `'${text}' is not a duration; write it like 90s, 2m or 1h`))
      : Effect.succeed(duration)
  }
)

// The shorter of the call's own deadline and the process's.
const boundedBy = (options: ModelOptions, process: Duration.Duration | undefined): ModelOptions => {
  if (process === undefined) return options
  const own = options.deadline === undefined ? undefined : Duration.fromInputUnsafe(options.deadline)
  return { ...options, deadline: own === undefined ? process : Duration.min(own, process) }
}

/** Builds a `LanguageModel` from an already resolved provider. */
export const languageModelFrom = (
  provider: ResolvedProvider,
  model: string,
  options: ModelOptions = {}
): Effect.Effect<LanguageModel.LanguageModel, never, HttpClient.HttpClient> => {
  const settings = {
    ...withOverrides(provider.connection, options),
    model,
    ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
    ...(options.temperature === undefined ? {} : { temperature: options.temperature })
  }
  switch (provider.kind) {
    case "openai":
      return OpenAiLanguageModel.make(settings)
    case "anthropic":
      return AnthropicLanguageModel.make(settings)
    case "gemini":
      return GeminiLanguageModel.make(settings)
  }
}

/**
 * Resolves a provider and builds its `LanguageModel` service for `model`. This is the entry point for
 * code that holds several models at once (the mixture); use {@link layerLanguageModel} to provide one.
 */
export const languageModel = (
  provider: ProviderRef,
  model: string,
  options: ModelOptions = {}
): Effect.Effect<LanguageModel.LanguageModel, ProviderConfigError, HttpClient.HttpClient> =>
  Effect.flatMap(Effect.zip(resolve(provider, options.definitions), processDeadline), ([resolved, process]) =>
    languageModelFrom(resolved, model, boundedBy(options, process))
  )

/** The `LanguageModel` layer for a provider and model; needs an `HttpClient` (e.g. `NodeHttpClient.layerUndici`). */
export const layerLanguageModel = (
  provider: ProviderRef,
  model: string,
  options: ModelOptions = {}
): Layer.Layer<LanguageModel.LanguageModel, ProviderConfigError, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, languageModel(provider, model, options))

/**
 * Resolves a provider and builds its `EmbeddingModel` for `model`. OpenAI-compatible providers (including
 * Ollama) and Gemini have embeddings; Anthropic has none and fails with `ProviderConfigError`.
 */
export const embeddingModel = (
  provider: ProviderRef,
  model: string,
  options: ModelOptions & { readonly dimensions?: number | undefined } = {}
): Effect.Effect<EmbeddingModel.EmbeddingModel, ProviderConfigError, HttpClient.HttpClient> =>
  Effect.flatMap(resolve(provider, options.definitions), (resolved) => {
    const settings = {
      ...withOverrides(resolved.connection, options),
      model,
      ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions })
    }
    switch (resolved.kind) {
      case "openai":
        return OpenAiEmbeddingModel.make(settings)
      case "gemini":
        return GeminiEmbeddingModel.make(settings)
      case "anthropic":
        return Effect.fail(fail(resolved.name, "Anthropic has no embeddings API"))
    }
  })

/**
 * Splits `"provider/model"` (e.g. `"openai/gpt-4o-mini"`, `"ollama/llama3.2:3b"`). The model part may itself
 * contain slashes (`"openrouter/meta-llama/llama-3-8b"`). Fails when there is no slash.
 */
export const parseModelRef = (
  ref: string
): Effect.Effect<{ readonly provider: string; readonly model: string }, ProviderConfigError> => {
  const slash = ref.indexOf("/")
  if (slash <= 0 || slash === ref.length - 1) {
    return Effect.fail(fail(ref, "expected 'provider/model', e.g. 'openai/gpt-4o-mini'"))
  }
  return Effect.succeed({ provider: ref.slice(0, slash), model: ref.slice(slash + 1) })
}
