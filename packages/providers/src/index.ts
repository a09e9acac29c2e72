/**
 * Model provider adapters, embeddings and the Mixture of Providers.
 */

export * as AnthropicLanguageModel from "./AnthropicLanguageModel.ts"
export * as Connection from "./Connection.ts"
export * as GeminiEmbeddingModel from "./GeminiEmbeddingModel.ts"
export * as GeminiLanguageModel from "./GeminiLanguageModel.ts"
export * as LocalEmbedder from "./LocalEmbedder.ts"
export * as CircuitBreaker from "./mixture/CircuitBreaker.ts"
export * as Mixture from "./mixture/Mixture.ts"
export * as MixtureError from "./mixture/MixtureError.ts"
export * as MixtureEvent from "./mixture/MixtureEvent.ts"
export * as Pricing from "./mixture/Pricing.ts"
export * as ProviderPool from "./mixture/ProviderPool.ts"
export * as RateLimiter from "./mixture/RateLimiter.ts"
export * as Scorer from "./mixture/Scorer.ts"
export * as Scorers from "./mixture/Scorers.ts"
export * as OpenAiEmbeddingModel from "./OpenAiEmbeddingModel.ts"
export * as OpenAiLanguageModel from "./OpenAiLanguageModel.ts"
export * as ProviderCatalog from "./ProviderCatalog.ts"
export * as ProviderConfig from "./ProviderConfig.ts"
export * as ProviderError from "./ProviderError.ts"
export * as Retry from "./Retry.ts"
