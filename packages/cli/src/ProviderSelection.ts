/**
 * Which providers the environment configures, which model each one uses by default, and how to explain a
 * provider failure to a person in one line.
 *
 * A provider of `ProviderCatalog.builtins` is configured when its key variable is set (`OPENAI_API_KEY`,
 * `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`) or its base-URL variable points it at a server (`OPENAI_BASE_URL` at a
 * keyless local server, `OLLAMA_HOST`). The first configured one in the catalogue's order is the default
 * provider. `--model` / `TROUPE_MODEL` pick the model: `provider/model` also picks the provider, a bare model id
 * applies to the default provider.
 */
import { ProviderCatalog } from "@troupe/providers"
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

/** What to tell a person who has configured no provider: every variable, from the provider catalogue. */
export const howToConfigure = [
  "No model provider is configured. Set one of:",
  ...ProviderCatalog.builtins.map((b) =>
    b.keyVariable === undefined
      ? `  ${b.baseUrlVariable} (e.g. ${b.defaultBaseUrl}) for a local ${b.name}`
      : `  ${b.keyVariable} for ${b.name} (${b.baseUrlVariable} points it at another server)`
  ),
  "A local OpenAI-compatible server (llama.cpp, vLLM, LM Studio) needs no key: OPENAI_BASE_URL=http://127.0.0.1:8080/v1",
  "Example: export OPENAI_API_KEY=sk-..."
].join("\n")

const isSet = (name: string) =>
  Config.option(Config.String(name)).pipe(
    Effect.map((value) => Option.isSome(value) && value.value.trim() !== ""),
    Effect.orElseSucceed(() => false)
  )

/**
 * The configured providers, in the catalogue's order: those whose key variable is set, or whose base-URL
 * variable points them at a server (a keyless local one, or Ollama's host).
 */
export const configured: Effect.Effect<ReadonlyArray<string>> = Effect.map(
  Effect.filter(ProviderCatalog.builtins, (b) =>
    b.keyVariable === undefined
      ? isSet(b.baseUrlVariable)
      : Effect.zipWith(isSet(b.keyVariable), isSet(b.baseUrlVariable), (key, url) => key || url)
  ),
  (builtins) => builtins.map((b) => b.name)
)

const defaultModelOf = (provider: string): string => ProviderCatalog.builtin(provider)!.defaultModel

/** The variable a person should set to configure `provider` (its key, else its base URL). */
export const variableOf = (provider: string): string | undefined => {
  const builtin = ProviderCatalog.builtin(provider)
  return builtin?.keyVariable ?? builtin?.baseUrlVariable
}

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
    const prefix = ref !== undefined && slash > 0 ? ref.slice(0, slash) : undefined
    const named = prefix !== undefined && ProviderCatalog.builtin(prefix) !== undefined ? prefix : undefined
    if (named !== undefined && !available.includes(named)) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: `--model names ${named}, which is not configured: set ${variableOf(named)}.`
      })
    }
    const pinned =
      ref === undefined
        ? undefined
        : named === undefined
          ? { provider: available[0]!, model: ref }
          : { provider: named, model: ref.slice(slash + 1) }
    if (!options.all) return [pinned ?? { provider: available[0]!, model: defaultModelOf(available[0]!) }]
    return available.map((provider) =>
      pinned !== undefined && pinned.provider === provider ? pinned : { provider, model: defaultModelOf(provider) }
    )
  })

/** One line a person can act on for a provider's failure (which variable to check, what to change). */
export const explain = (provider: string, model: string, reason: AiError.AiErrorReason): string => {
  const builtin = ProviderCatalog.builtin(provider)
  const key = builtin?.keyVariable ?? "the provider's API key"
  const baseUrl = builtin?.baseUrlVariable ?? "the provider's base URL"
  switch (reason._tag) {
    case "AuthenticationError":
      return reason.kind === "InsufficientPermissions"
        ? `${provider}: the API key lacks permission for model ${model} (403); check ${key}.`
        : `${provider}: the API key was rejected (401); check ${key}.`
    case "QuotaExhaustedError":
      return `${provider}: the account's quota is exhausted; check the billing of the account behind ${key}.`
    case "RateLimitError":
      return `${provider}: rate limited${reason.retryAfter === undefined ? "" : `; retry in ${Duration.format(reason.retryAfter)}`}.`
    case "NetworkError": {
      const description = reason.description ?? reason.reason
      // A time limit that passed is not an unreachable server: say which limit, and how to change it.
      return /^timed out \(overall\)/.test(description)
        ? `${provider}: ${description.replace(/^timed out \(overall\): /, "")}; raise --timeout or TROUPE_TIMEOUT if that is too short.`
        : /^timed out/.test(description)
          ? `${provider}: ${description}; the server accepted the request but did not answer in time.`
          : `${provider}: cannot reach the server (${description}); check ${baseUrl} and the network.`
    }
    case "InvalidResponseError":
      return `${provider}: the server answered, but not as the provider's API does (${reason.description}); check that ${baseUrl} points at the right server.`
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
