/**
 * Which providers the environment configures, which model each one uses by default, and how to explain a
 * provider failure to a person in one line.
 *
 * A provider is configured when its key variable is set (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`,
 * `GEMINI_API_KEY`) or, for Ollama, when `OLLAMA_HOST` is set. The first configured one in that order is the
 * default provider. `--model` / `TROUPE_MODEL` pick the model: `provider/model` also picks the provider, a bare
 * model id applies to the default provider.
 */
import type * as AiError from "effect/ai/AiError"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CliExit, ExitCode } from "./ExitCode.ts"

/** A provider the command can talk to, with the model it will ask. */
export interface Selected {
  readonly provider: string
  readonly model: string
}

/** The environment variables of each built-in provider. */
export const variables: Readonly<Record<string, { readonly key?: string; readonly baseUrl: string }>> = {
  openai: { key: "OPENAI_API_KEY", baseUrl: "OPENAI_BASE_URL" },
  anthropic: { key: "ANTHROPIC_API_KEY", baseUrl: "ANTHROPIC_BASE_URL" },
  gemini: { key: "GEMINI_API_KEY", baseUrl: "GEMINI_BASE_URL" },
  ollama: { baseUrl: "OLLAMA_HOST" }
}

/** The model each provider uses when none is given. */
export const defaultModels: Readonly<Record<string, string>> = {
  openai: "gpt-5-mini",
  anthropic: "claude-sonnet-4-5",
  gemini: "gemini-2.5-flash",
  ollama: "llama3.2"
}

const order = ["openai", "anthropic", "gemini", "ollama"] as const

/** What to tell a person who has configured no provider. */
export const howToConfigure =
  "No model provider is configured. Set one of: OPENAI_API_KEY (and OPENAI_BASE_URL for an OpenAI-compatible " +
  "server), ANTHROPIC_API_KEY, GEMINI_API_KEY, or OLLAMA_HOST (e.g. http://127.0.0.1:11434) for a local Ollama. " +
  "Example: export OPENAI_API_KEY=sk-..."

const isSet = (name: string) =>
  Config.option(Config.String(name)).pipe(
    Effect.map((value) => Option.isSome(value) && value.value.trim() !== ""),
    Effect.orElseSucceed(() => false)
  )

/** The configured providers, in preference order. */
export const configured: Effect.Effect<ReadonlyArray<string>> = Effect.filter(order, (provider) => {
  const vars = variables[provider]!
  return isSet(vars.key ?? vars.baseUrl)
})

/**
 * The providers to use: the default one (or the one `modelRef` names), or with `all` every configured
 * provider. Fails with exit code 2 when nothing is configured or `modelRef` names an unconfigured provider.
 */
export const select = (options: {
  readonly modelRef: string | undefined
  readonly all: boolean
}): Effect.Effect<ReadonlyArray<Selected>, CliExit> =>
  Effect.gen(function* () {
    const available = yield* configured
    if (available.length === 0) return yield* new CliExit({ code: ExitCode.badInput, message: howToConfigure })
    const ref = options.modelRef?.trim() === "" ? undefined : options.modelRef?.trim()
    const slash = ref?.indexOf("/") ?? -1
    const named = ref !== undefined && slash > 0 && ref.slice(0, slash) in variables ? ref.slice(0, slash) : undefined
    if (named !== undefined && !available.includes(named)) {
      const vars = variables[named]!
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: `--model names ${named}, which is not configured: set ${vars.key ?? vars.baseUrl}.`
      })
    }
    const pinned =
      ref === undefined
        ? undefined
        : named === undefined
          ? { provider: available[0]!, model: ref }
          : { provider: named, model: ref.slice(slash + 1) }
    if (!options.all) return [pinned ?? { provider: available[0]!, model: defaultModels[available[0]!]! }]
    return available.map((provider) =>
      pinned !== undefined && pinned.provider === provider ? pinned : { provider, model: defaultModels[provider]! }
    )
  })

/** One line a person can act on for a provider's failure (which variable to check, what to change). */
export const explain = (provider: string, model: string, reason: AiError.AiErrorReason): string => {
  const vars = variables[provider]
  const key = vars?.key ?? "the provider's API key"
  const baseUrl = vars?.baseUrl ?? "the provider's base URL"
  switch (reason._tag) {
    case "AuthenticationError":
      return reason.kind === "InsufficientPermissions"
        ? `${provider}: the API key lacks permission for model ${model} (403); check ${key}.`
        : `${provider}: the API key was rejected (401); check ${key}.`
    case "QuotaExhaustedError":
      return `${provider}: the account's quota is exhausted; check the billing of the account behind ${key}.`
    case "RateLimitError":
      return `${provider}: rate limited${reason.retryAfter === undefined ? "" : `; retry in ${Duration.format(reason.retryAfter)}`}.`
    case "NetworkError":
      return `${provider}: cannot reach the server (${reason.description ?? reason.reason}); check ${baseUrl} and the network.`
    case "InvalidRequestError":
      return reason.parameter === "model"
        ? `${provider}: model '${model}' was not found; pick another with --model or TROUPE_MODEL.`
        : `${provider}: the request was rejected: ${reason.description ?? reason.message}`
    case "InternalProviderError":
      return `${provider}: the provider failed (${reason.description}); try again later.`
    case "ContentPolicyError":
      return `${provider}: the request or answer was blocked by the provider's content policy.`
    default:
      return `${provider}: ${reason.message}`
  }
}
