/**
 * Which models an agent talks to: one `model`, or a `mixture` of several queried in parallel, over built-in or
 * user-defined providers.
 */
import * as Schema from "effect/Schema"
import * as Fields from "./internal/fields.ts"
import * as SpecDuration from "./SpecDuration.ts"

/**
 * The wire protocols Troupe speaks: each provider definition is one of these. The words are
 * `@troupe/providers`' `ProviderCatalog.kinds`; this package keeps its own copy to stay free of dependencies,
 * and a test fails when the two disagree.
 */
export const ProviderKind = Schema.Literals(["openai", "anthropic", "gemini", "ollama"]).annotate({
  description:
    "Wire protocol: openai (any OpenAI-compatible chat completions server), anthropic (Messages API), gemini, ollama."
})

/** A wire protocol. */
export type ProviderKind = typeof ProviderKind.Type

/**
 * A named provider: a protocol, where to reach it, which environment variable holds its key, extra headers and an
 * optional per-request timeout.
 */
export const ProviderDefinition = Schema.Struct({
  kind: Fields.required(ProviderKind, "The wire protocol."),
  baseUrl: Fields.optional(Schema.String, "Base URL of the API; the protocol's usual URL when absent."),
  apiKeyEnv: Fields.optional(
    Schema.String.check(Schema.isPattern(/^[A-Za-z_][A-Za-z0-9_]*$/u)),
    "Name of the environment variable holding the API key (never the key itself)."
  ),
  headers: Fields.withDefault(
    Schema.Record(Schema.String, Schema.String),
    "Extra HTTP headers sent with every request.",
    {}
  ),
  timeout: Schema.optionalKey(
    SpecDuration.field("How long one request to this provider may take; the client's own limit when absent.")
  )
}).annotate({ description: "A provider definition." })

/** A decoded provider definition. */
export type ProviderDefinition = typeof ProviderDefinition.Type

/**
 * The providers every spec can name without defining them (`ProviderCatalog.builtins` of `@troupe/providers`,
 * checked by a test). Keys and base URLs come from the usual environment variables
 * (`OPENAI_API_KEY`/`OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`/`ANTHROPIC_BASE_URL`, `GEMINI_API_KEY`/`GEMINI_BASE_URL`,
 * `OLLAMA_HOST`); a built-in pointed at another server by its base-URL variable needs no key.
 */
export const builtinProviders: { readonly [name: string]: ProviderDefinition } = {
  openai: { kind: "openai", apiKeyEnv: "OPENAI_API_KEY", headers: {} },
  anthropic: { kind: "anthropic", apiKeyEnv: "ANTHROPIC_API_KEY", headers: {} },
  gemini: { kind: "gemini", apiKeyEnv: "GEMINI_API_KEY", headers: {} },
  ollama: { kind: "ollama", headers: {} }
}

const providerName = Schema.String.check(
  Schema.isPattern(/^[a-z0-9][a-z0-9_-]*$/u, { message: "Expected a provider name such as openai or my-local" })
)

const modelFields = {
  provider: Fields.required(
    providerName,
    "A built-in provider (openai, anthropic, gemini, ollama) or one defined under providers."
  ),
  model: Fields.required(Fields.Text, "The provider's model name, e.g. gpt-5-mini or claude-sonnet-4-5."),
  temperature: Fields.optional(
    Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 2 })),
    "Sampling temperature; the provider's default when absent."
  ),
  maxOutputTokens: Fields.optional(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "Upper bound on tokens generated per model turn."
  )
}

/** One model of one provider. */
export const ModelRef = Schema.Struct(modelFields).annotate({ description: "One model of one provider." })

/** A decoded model reference. */
export type ModelRef = typeof ModelRef.Type

/** How a mixture picks its answer from the providers it queried (`Mixture.strategyNames`, checked by a test). */
export const MixtureStrategy = Schema.Literals(["weighted-score", "first-valid", "quorum", "fallback"]).annotate({
  description:
    "weighted-score: query all, score each valid answer times its weight, keep the best; first-valid: query all, keep the first valid answer; quorum: keep an answer enough providers agree on; fallback: query one at a time in order until one succeeds."
})

/** A mixture strategy. */
export type MixtureStrategy = typeof MixtureStrategy.Type

/** A mixture member: a model and its weight. */
export const MixtureMember = Schema.Struct({
  ...modelFields,
  weight: Fields.withDefault(
    Schema.Finite.check(Schema.isGreaterThan(0)),
    "How much this provider's answers count in weighted-score.",
    1
  )
}).annotate({ description: "A model of the mixture and its weight." })

/** A decoded mixture member. */
export type MixtureMember = typeof MixtureMember.Type

/** Several models queried together (the mixture of providers). */
export const Mixture = Schema.Struct({
  strategy: Fields.withDefault(MixtureStrategy, "How the answer is chosen.", "weighted-score"),
  timeout: SpecDuration.withDefault(
    "How long each provider may take to answer one turn; a late provider is dropped from the turn.",
    "60s"
  ),
  retries: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    "How often fallback retries each provider on a retryable failure (rate limit, 5xx, timeout) before the next one; the other strategies ask every provider once.",
    1
  ),
  quorum: Fields.optional(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "How many providers must agree under the quorum strategy; a majority when absent."
  ),
  providers: Fields.required(
    Schema.Array(MixtureMember).check(Schema.isMinLength(1)),
    "The models queried, in order (the order matters for fallback)."
  ),
  judge: Fields.optional(
    ModelRef,
    "A model that rates every answer under weighted-score: one extra call per turn, billed with the others."
  )
}).annotate({ description: "Several models queried in parallel; mutually exclusive with model." })

/** A decoded mixture. */
export type Mixture = typeof Mixture.Type

/** The model used when a spec names neither `model` nor `mixture`: the first built-in provider's default model. */
export const defaultModel: ModelRef = { provider: "openai", model: "gpt-5-mini" }
