/**
 * The provider vocabulary, defined once: the provider kinds (wire formats), and the built-in providers with their
 * environment variables, default base URLs and default models. `ProviderConfig` resolves providers from it, and
 * the CLI derives its help, its provider selection and its "how to configure" text from it.
 *
 * `@troupe/agent-spec` stays free of dependencies and keeps its own literal schema of the same words; a test
 * fails when the two disagree.
 *
 * Keys: a built-in provider needs its key variable only while it points at its hosted API. Once its base-URL
 * variable names another server (llama.cpp, vLLM, LM Studio, a local gateway), a missing key means "send none".
 *
 * @example
 * ```ts
 * import { ProviderCatalog } from "@troupe/providers"
 *
 * const openai = ProviderCatalog.builtin("openai")
 * openai?.keyVariable // "OPENAI_API_KEY"
 * ```
 */
import * as Schema from "effect/Schema"

/** The provider kinds: a wire format, or `ollama` (OpenAI-compatible under `{host}/v1`, no key). */
export const kinds = ["openai", "anthropic", "gemini", "ollama"] as const

/** The kind of a provider definition. */
export const ProviderKind = Schema.Literals(kinds)

/** The kind of a provider definition. */
export type ProviderKind = typeof ProviderKind.Type

/** The wire format a resolved provider speaks (`ollama` speaks `openai`). */
export type WireKind = Exclude<ProviderKind, "ollama">

/** A provider every configuration can name without defining it. */
export interface Builtin {
  readonly name: string
  readonly kind: ProviderKind
  /** The variable holding its API key; absent for providers that take none (Ollama). */
  readonly keyVariable?: string | undefined
  /** The variable that points it at another server (for Ollama, the host). */
  readonly baseUrlVariable: string
  /** Where it is reached when the base-URL variable is unset. */
  readonly defaultBaseUrl: string
  /** The model asked when none is named. Its price is in `Pricing.defaults` (local models cost nothing). */
  readonly defaultModel: string
}

/** The built-in providers, in the order the CLI prefers them when several are configured. */
export const builtins: ReadonlyArray<Builtin> = [
  {
    name: "openai",
    kind: "openai",
    keyVariable: "OPENAI_API_KEY",
    baseUrlVariable: "OPENAI_BASE_URL",
    defaultBaseUrl: "https://api.openai.com/v1",
    defaultModel: "gpt-5-mini"
  },
  {
    name: "anthropic",
    kind: "anthropic",
    keyVariable: "ANTHROPIC_API_KEY",
    baseUrlVariable: "ANTHROPIC_BASE_URL",
    defaultBaseUrl: "https://api.anthropic.com",
    defaultModel: "claude-sonnet-4-5"
  },
  {
    name: "gemini",
    kind: "gemini",
    keyVariable: "GEMINI_API_KEY",
    baseUrlVariable: "GEMINI_BASE_URL",
    defaultBaseUrl: "https://generativelanguage.googleapis.com/v1beta",
    defaultModel: "gemini-2.5-flash"
  },
  {
    name: "ollama",
    kind: "ollama",
    baseUrlVariable: "OLLAMA_HOST",
    defaultBaseUrl: "http://127.0.0.1:11434",
    defaultModel: "llama3.2"
  }
]

/** The names of the built-in providers. */
export const builtinNames: ReadonlyArray<string> = builtins.map((b) => b.name)

/** The built-in provider called `name`, if there is one. */
export const builtin = (name: string): Builtin | undefined => builtins.find((b) => b.name === name)

/** The usual base URL of each kind, for definitions that do not give one (Ollama's is the host, without `/v1`). */
export const defaultBaseUrls = Object.fromEntries(
  kinds.map((kind) => [kind, builtins.find((b) => b.kind === kind)!.defaultBaseUrl])
) as Readonly<Record<ProviderKind, string>>
