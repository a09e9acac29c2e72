/**
 * Maps provider HTTP failures onto `AiError` reasons, so callers (and the mixture) can branch on
 * `error.reason._tag` and `error.isRetryable` without knowing which provider answered.
 *
 * ```ts
 * const error = ProviderError.fromResponse({
 *   module: "OpenAiLanguageModel", method: "generateText", url, status: 429,
 *   headers: { "retry-after": "2" }, body: "{}", nowMillis: 0, secrets: []
 * })
 * error.isRetryable // true; error.retryAfter is 2 seconds
 * ```
 *
 * Mapping: 400 → InvalidRequestError (constraint `context_length_exceeded` when the provider says the
 * prompt is too long), 401 → AuthenticationError (InvalidKey), 403 → AuthenticationError
 * (InsufficientPermissions), 404 → InvalidRequestError on `model`, 408/409/5xx/529 → InternalProviderError
 * (retryable), 429 → RateLimitError with `retryAfter` (or QuotaExhaustedError for `insufficient_quota`),
 * transport failures, timeouts and truncated streams → NetworkError `TransportError` (retryable),
 * unparsable bodies → InvalidResponseError, refusals and safety stops → ContentPolicyError.
 */

import * as AiError from "effect/ai/AiError"
import * as Duration from "effect/Duration"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** Where a failure happened: the adapter module and the `LanguageModel`/`EmbeddingModel` method. */
export interface Site {
  readonly module: string
  readonly method: string
}

/**
 * Replaces every occurrence of each secret in `text` with `[redacted]`.
 *
 * Gotcha: some providers echo part of a rejected key in the error body; every adapter passes its key
 * here so no error message, log line or audit record can carry it.
 */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("[redacted]")
  }
  return out
}

const scrubDeep = (value: unknown, secrets: ReadonlyArray<string>): unknown => {
  if (typeof value === "string") return scrub(value, secrets)
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, secrets))
  // Only plain objects: encoded values such as a `Duration` are kept as they are.
  if (isRecord(value) && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = scrubDeep(item, secrets)
    return out
  }
  return value
}

const encodeAiError = Schema.encodeOption(AiError.AiError)
const decodeAiError = Schema.decodeUnknownOption(AiError.AiError)

/**
 * Rebuilds `error` with every secret scrubbed from every string it carries (descriptions, bodies,
 * metadata), through its schema, so message, stack and `JSON.stringify` are all clean.
 *
 * Every adapter applies this to each error leaving `generateText`, `streamText` and `embedMany`, so a
 * server that echoes the key in any body (error, 2xx, malformed or streamed) cannot leak it.
 * Gotcha: an error that cannot be rebuilt is replaced by an `UnknownError` with the same module and method.
 */
export const redact = (error: AiError.AiError, secrets: ReadonlyArray<string>): AiError.AiError => {
  if (!secrets.some((secret) => secret.length >= 4)) return error
  return Option.getOrElse(
    Option.flatMap(encodeAiError(error), (encoded) => decodeAiError(scrubDeep(encoded, secrets))),
    () =>
      AiError.make({
        module: scrub(error.module, secrets),
        method: scrub(error.method, secrets),
        reason: new AiError.UnknownError({ description: "provider error withheld: it could not be redacted" })
      })
  )
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date (relative to `nowMillis`).
 * Returns `undefined` when absent or unparsable; a date in the past gives zero.
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === "") return undefined
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Duration.seconds(Number(trimmed))
  const at = globalThis.Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Duration.millis(Math.max(0, at - nowMillis))
}

interface ErrorBody {
  readonly message: string | undefined
  readonly code: string | undefined
  readonly type: string | undefined
}

// OpenAI `{error:{message,type,code}}`, Anthropic `{type:"error",error:{type,message}}`,
// Gemini `{error:{code,message,status}}`: all keep the interesting part under `error`.
const readErrorBody = (body: string): ErrorBody => {
  const parsed = parseJson(body)
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined
  if (error === undefined) return { message: undefined, code: undefined, type: undefined }
  const str = (u: unknown) => (typeof u === "string" ? u : typeof u === "number" ? String(u) : undefined)
  return { message: str(error.message), code: str(error.code), type: str(error.type) ?? str(error.status) }
}

const contextLengthPattern =
  /context[_ ]length|context window|maximum context|prompt is too long|too many tokens|exceeds the maximum number of tokens/i

/** True when a 400 body says the prompt does not fit the model's context window. */
export const isContextLengthExceeded = (body: string): boolean => {
  const { code, message } = readErrorBody(body)
  return code === "context_length_exceeded" || (message !== undefined && contextLengthPattern.test(message))
}

const keptHeaders = ["retry-after", "x-request-id", "request-id", "anthropic-ratelimit-requests-reset"]

/** Builds the `AiError` for a non-2xx provider response. */
export const fromResponse = (params: {
  readonly module: string
  readonly method: string
  readonly url: string
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly nowMillis: number
  readonly secrets: ReadonlyArray<string>
}): AiError.AiError => {
  const body = scrub(params.body, params.secrets).slice(0, 2000)
  const info = readErrorBody(body)
  const headers: Record<string, string> = {}
  for (const name of keptHeaders) {
    const value = params.headers[name]
    if (value !== undefined) headers[name] = value
  }
  const http = { response: { status: params.status, headers }, body }
  const description = `${params.status} from POST ${params.url}${info.message === undefined ? "" : `: ${info.message}`}`
  const metadata = {
    ...(info.code === undefined ? {} : { code: info.code }),
    ...(info.type === undefined ? {} : { type: info.type })
  }
  const reason = ((): AiError.AiErrorReason => {
    const status = params.status
    if (status === 400 || status === 413 || status === 422) {
      if (isContextLengthExceeded(body)) {
        return new AiError.InvalidRequestError({ constraint: "context_length_exceeded", description, metadata, http })
      }
      return new AiError.InvalidRequestError({ description, metadata, http })
    }
    if (status === 401) return new AiError.AuthenticationError({ kind: "InvalidKey", description, metadata, http })
    if (status === 403) {
      return new AiError.AuthenticationError({ kind: "InsufficientPermissions", description, metadata, http })
    }
    if (status === 404) {
      return new AiError.InvalidRequestError({
        parameter: "model",
        constraint: "model not found",
        description,
        metadata,
        http
      })
    }
    if (status === 429) {
      if (info.code === "insufficient_quota") return new AiError.QuotaExhaustedError({ metadata, http })
      const retryAfter = parseRetryAfter(params.headers["retry-after"], params.nowMillis)
      return new AiError.RateLimitError({ ...(retryAfter === undefined ? {} : { retryAfter }), metadata, http })
    }
    if (status === 408 || status === 409 || status >= 500) {
      return new AiError.InternalProviderError({ description, metadata, http })
    }
    return new AiError.UnknownError({ description, metadata, http })
  })()
  return AiError.make({ module: params.module, method: params.method, reason })
}

/** A transport-level failure (connection refused, reset, DNS, TLS) as a retryable `NetworkError`. */
export const fromHttpClientError = (
  site: Site,
  url: string,
  error: HttpClientError.HttpClientError,
  secrets: ReadonlyArray<string>
): AiError.AiError => {
  const reason = error.reason
  const cause = "cause" in reason && reason.cause instanceof globalThis.Error ? causeMessage(reason.cause) : undefined
  const kind = reason._tag === "EncodeError" || reason._tag === "InvalidUrlError" ? reason._tag : "TransportError"
  return networkError(site, url, scrub(`${reason._tag}${cause === undefined ? "" : `: ${cause}`}`, secrets), kind)
}

// Every request the adapters send is a POST.
const networkError = (
  site: Site,
  url: string,
  description: string,
  reason: AiError.NetworkError["reason"] = "TransportError"
): AiError.AiError =>
  AiError.make({ ...site, reason: new AiError.NetworkError({ reason, method: "POST", url, description }) })

const causeMessage = (cause: globalThis.Error): string => {
  const inner = (cause as { cause?: unknown }).cause
  const code = isRecord(inner) && typeof inner.code === "string" ? ` (${inner.code})` : ""
  return `${cause.message}${code}`
}

/** The per-request timeout elapsed: a retryable `NetworkError`. */
export const timeout = (site: Site, url: string, after: Duration.Duration): AiError.AiError =>
  networkError(site, url, `request timed out after ${Duration.format(after)}`)

/** A stream ended (or broke) before the provider's final event: a retryable `NetworkError`. */
export const truncated = (site: Site, url: string, description: string): AiError.AiError =>
  networkError(site, url, `truncated stream: ${description}`)

/** The body did not match the provider's wire format: `InvalidResponseError` (not retryable). */
export const invalidResponse = (site: Site, description: string): AiError.AiError =>
  AiError.make({ ...site, reason: new AiError.InvalidResponseError({ description }) })

/** The model refused or a safety filter stopped it: `ContentPolicyError` (not retryable). */
export const contentPolicy = (site: Site, description: string): AiError.AiError =>
  AiError.make({ ...site, reason: new AiError.ContentPolicyError({ description }) })

/** The model produced tool-call arguments that are not JSON: `InvalidOutputError` (retryable). */
export const malformedToolCall = (site: Site, toolName: string, raw: string): AiError.AiError =>
  AiError.make({
    ...site,
    reason: new AiError.InvalidOutputError({
      description: `tool call '${toolName}' has arguments that are not valid JSON: ${raw.slice(0, 200)}`
    })
  })

/** Parses JSON without throwing; `undefined` when the text is not JSON. */
export const parseJson = (text: string): unknown => Result.getOrUndefined(Result.try(() => JSON.parse(text) as unknown))

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
