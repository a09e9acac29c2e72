/**
 * Maps provider HTTP failures onto `AiError` reasons, so callers (and the mixture) can branch on
 * `error.reason._tag` and `error.isRetryable` without knowing which provider answered; and keeps secrets and
 * terminal escapes out of every error built from what a server sent.
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
 * transport failures, timeouts and truncated streams → NetworkError `TransportError` (retryable; `deadlineOf`
 * says which time limit passed), bodies that are not the wire format (garbage, HTML, too large, not even
 * HTTP) → InvalidResponseError, refusals and safety stops → ContentPolicyError.
 *
 * Server text in an error always goes through {@link quote}: control sequences stripped, secrets redacted,
 * then cut to length, in that order, so no cut can leave part of a key behind.
 */

import * as AiError from "effect/ai/AiError"
import * as Duration from "effect/Duration"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as TerminalText from "./TerminalText.ts"

/** Where a failure happened: the adapter module and the `LanguageModel`/`EmbeddingModel` method. */
export interface Site {
  readonly module: string
  readonly method: string
}

// -----------------------------------------------------------------------------
// Secrets
// -----------------------------------------------------------------------------

/** What a redacted secret is replaced with. */
export const marker = "[redacted]"

// Shorter strings would match ordinary text; a secret this short is not redacted.
const minSecretLength = 4

// Any run of at least this many characters of a secret is redacted, not only the whole secret: a server that
// echoes part of a key (cut by its own truncation, or split across a line) must not show that part either.
const pieceLength = 8

/**
 * Replaces every occurrence of each secret in `text` with `[redacted]`, and every run of 8 or more characters
 * that is a piece of a secret (so a partial echo is redacted too). Secrets shorter than 4 characters are left
 * alone.
 *
 * Gotcha: some providers echo part of a rejected key in the error body; every adapter passes its key
 * here so no error message, log line or audit record can carry it.
 */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const secret of secrets) {
    if (secret.length < minSecretLength) continue
    out = secret.length <= pieceLength ? out.split(secret).join(marker) : scrubPieces(out, secret)
  }
  return out
}

// Finds every window of `pieceLength` characters that occurs in the secret, and replaces each run of
// overlapping or adjacent windows with one marker.
const scrubPieces = (text: string, secret: string): string => {
  const pieces = new Set<string>()
  for (let i = 0; i + pieceLength <= secret.length; i++) pieces.add(secret.slice(i, i + pieceLength))
  let out = ""
  let kept = 0
  let runEnd = -1
  for (let i = 0; i + pieceLength <= text.length; i++) {
    if (!pieces.has(text.slice(i, i + pieceLength))) continue
    if (i > runEnd) {
      if (runEnd >= 0) out += marker
      out += text.slice(kept, i)
    }
    runEnd = i + pieceLength
    kept = runEnd
  }
  return runEnd < 0 ? text : `${out}${marker}${text.slice(kept)}`
}

/**
 * `text` without the longest ending that is the start of a secret. Apply it where text was cut from something
 * longer: the cut may have landed inside a key, leaving its first characters.
 */
export const trimSecretPrefix = (text: string, secrets: ReadonlyArray<string>): string => {
  let end = text.length
  for (const secret of secrets) {
    if (secret.length < minSecretLength) continue
    for (let n = Math.min(secret.length - 1, text.length); n > 0; n--) {
      if (text.endsWith(secret.slice(0, n))) {
        end = Math.min(end, text.length - n)
        break
      }
    }
  }
  return text.slice(0, end)
}

/**
 * Server text ready to go into an error: terminal controls stripped, secrets redacted, then cut to `max`
 * characters (with `…`). Sanitizing comes first because removing an escape can join the two halves of a key;
 * redacting comes before the cut so a key straddling it cannot leave its first part.
 */
export const quote = (text: string, secrets: ReadonlyArray<string>, max = 200): string => {
  const clean = scrub(TerminalText.sanitize(text), secrets)
  return clean.length <= max ? clean : `${trimSecretPrefix(clean.slice(0, max), secrets)}…`
}

const clean = (value: unknown, secrets: ReadonlyArray<string>, changed: { value: boolean }): unknown => {
  if (typeof value === "string") {
    const out = scrub(TerminalText.sanitize(value), secrets)
    if (out !== value) changed.value = true
    return out
  }
  if (Array.isArray(value)) return value.map((item) => clean(item, secrets, changed))
  // Only plain objects: encoded values such as a `Duration` are kept as they are.
  if (isRecord(value) && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = clean(item, secrets, changed)
    return out
  }
  return value
}

const encodeAiError = Schema.encodeOption(AiError.AiError)
const decodeAiError = Schema.decodeUnknownOption(AiError.AiError)

/**
 * Rebuilds `error` with every string it carries (descriptions, bodies, metadata) stripped of terminal controls
 * and of every secret, through its schema, so message, stack and `JSON.stringify` are all clean. An error with
 * nothing to remove is returned as it is.
 *
 * Every adapter applies this to each error leaving `generateText`, `generateObject`, `streamText` and
 * `embedMany` (those `LanguageModel` itself raises after the adapter returned included), so a server that
 * echoes the key in any body (error, 2xx, malformed or streamed) cannot leak it.
 * Gotcha: an error that cannot be rebuilt is replaced by an `UnknownError` with the same module and method.
 */
export const redact = (error: AiError.AiError, secrets: ReadonlyArray<string>): AiError.AiError => {
  const changed = { value: false }
  return Option.match(encodeAiError(error), {
    onNone: () => withheld(error, secrets),
    onSome: (encoded) => {
      const cleaned = clean(encoded, secrets, changed)
      if (!changed.value) return error
      return Option.getOrElse(decodeAiError(cleaned), () => withheld(error, secrets))
    }
  })
}

const withheld = (error: AiError.AiError, secrets: ReadonlyArray<string>): AiError.AiError =>
  AiError.make({
    module: quote(error.module, secrets),
    method: quote(error.method, secrets),
    reason: new AiError.UnknownError({ description: "provider error withheld: it could not be redacted" })
  })

// -----------------------------------------------------------------------------
// HTTP responses
// -----------------------------------------------------------------------------

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

/** How much of an error body an error keeps (`http.body`), and of the provider's message in its description. */
export const keptBodyLength = 2000
const keptMessageLength = 500

/**
 * Builds the `AiError` for a non-2xx provider response. `body` is what was read of it; `cut` says the read
 * stopped before its end (so its last characters may be the start of a key).
 */
export const fromResponse = (params: {
  readonly module: string
  readonly method: string
  readonly url: string
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly cut?: boolean | undefined
  readonly nowMillis: number
  readonly secrets: ReadonlyArray<string>
}): AiError.AiError => {
  const raw = params.cut === true ? trimSecretPrefix(params.body, params.secrets) : params.body
  const info = readErrorBody(raw)
  const body = quote(raw, params.secrets, keptBodyLength)
  const headers: Record<string, string> = {}
  for (const name of keptHeaders) {
    const value = params.headers[name]
    if (value !== undefined) headers[name] = quote(value, params.secrets)
  }
  const http = { response: { status: params.status, headers }, body }
  const message = info.message === undefined ? "" : `: ${quote(info.message, params.secrets, keptMessageLength)}`
  const description = `${params.status} from POST ${quote(params.url, params.secrets, 500)}${message}`
  const metadata = {
    ...(info.code === undefined ? {} : { code: quote(info.code, params.secrets) }),
    ...(info.type === undefined ? {} : { type: quote(info.type, params.secrets) })
  }
  const reason = ((): AiError.AiErrorReason => {
    const status = params.status
    if (status === 400 || status === 413 || status === 422) {
      if (isContextLengthExceeded(raw)) {
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

// -----------------------------------------------------------------------------
// Transport
// -----------------------------------------------------------------------------

/**
 * A transport-level failure as an `AiError`: a retryable `NetworkError` when the server could not be reached
 * (connection refused, reset, DNS, TLS), but an `InvalidResponseError` when something answered that does not
 * speak HTTP at all: that server was reached, and asking it again will not help.
 */
export const fromHttpClientError = (
  site: Site,
  url: string,
  error: HttpClientError.HttpClientError,
  secrets: ReadonlyArray<string>
): AiError.AiError => {
  const reason = error.reason
  const cause = "cause" in reason && reason.cause instanceof globalThis.Error ? reason.cause : undefined
  const detail = quote(cause === undefined ? reason._tag : causeMessage(cause), secrets)
  if (cause !== undefined && isParseError(cause)) {
    return invalidResponse(site, `the reply from ${quote(url, secrets, 500)} is not HTTP (${detail})`)
  }
  const kind = reason._tag === "EncodeError" || reason._tag === "InvalidUrlError" ? reason._tag : "TransportError"
  return networkError(site, quote(url, secrets, 500), detail, kind)
}

// Every request the adapters send is a POST.
const networkError = (
  site: Site,
  url: string,
  description: string,
  reason: AiError.NetworkError["reason"] = "TransportError"
): AiError.AiError =>
  AiError.make({ ...site, reason: new AiError.NetworkError({ reason, method: "POST", url, description }) })

const codeOf = (error: unknown): string | undefined =>
  isRecord(error) && typeof error.code === "string" ? error.code : undefined

const causeMessage = (cause: globalThis.Error): string => {
  const code = codeOf(cause.cause) ?? codeOf(cause)
  return `${cause.message}${code === undefined ? "" : ` (${code})`}`
}

// llhttp, the parser under Node's HTTP clients, reports a reply that is not HTTP as an `HTTPParserError` (undici)
// or with an `HPE_*` code (node:http).
const isParseError = (cause: globalThis.Error): boolean =>
  [cause, cause.cause].some(
    (error) =>
      (error instanceof globalThis.Error && error.name === "HTTPParserError") ||
      codeOf(error)?.startsWith("HPE_") === true
  )

/** Which time limit a call ran out of. */
export const Deadline = Schema.Literals(["attempt", "silence", "overall"])

/**
 * Which time limit a call ran out of: `attempt` (the per-attempt `timeout`), `silence` (the `timeout` between two
 * events of a stream), `overall` (the `deadline` of the whole call, retries included).
 */
export type Deadline = typeof Deadline.Type

const deadlinePattern = /^timed out \((attempt|silence|overall)\)/

/**
 * A time limit passed: a retryable `NetworkError` whose description starts with `timed out (<deadline>)`;
 * `deadlineOf` reads it back.
 */
export const timeout = (site: Site, url: string, deadline: Deadline, after: Duration.Duration): AiError.AiError =>
  networkError(
    site,
    url,
    `timed out (${deadline}): ${
      deadline === "attempt"
        ? `no response within ${Duration.format(after)}`
        : deadline === "silence"
          ? `no stream event within ${Duration.format(after)}`
          : `the call did not finish within ${Duration.format(after)}, retries included`
    }`
  )

/** Which time limit an error from {@link timeout} reports, or `undefined` for any other error. */
export const deadlineOf = (error: AiError.AiError): Deadline | undefined => {
  const reason = error.reason
  if (reason._tag !== "NetworkError" || reason.description === undefined) return undefined
  return deadlinePattern.exec(reason.description)?.[1] as Deadline | undefined
}

/** A stream ended (or broke) before the provider's final event: a retryable `NetworkError`. */
export const truncated = (site: Site, url: string, description: string): AiError.AiError =>
  networkError(site, url, `truncated stream: ${description}`)

// -----------------------------------------------------------------------------
// Answers
// -----------------------------------------------------------------------------

/** The body did not match the provider's wire format: `InvalidResponseError` (not retryable). */
export const invalidResponse = (site: Site, description: string): AiError.AiError =>
  AiError.make({ ...site, reason: new AiError.InvalidResponseError({ description }) })

/** A body or stream larger than its limit: `InvalidResponseError`, reading stopped at the limit. */
export const tooLarge = (site: Site, what: string, limit: number): AiError.AiError =>
  invalidResponse(site, `${what} exceeds the limit of ${limit} bytes; reading stopped there`)

/** The model refused or a safety filter stopped it: `ContentPolicyError` (not retryable). */
export const contentPolicy = (site: Site, description: string): AiError.AiError =>
  AiError.make({ ...site, reason: new AiError.ContentPolicyError({ description }) })

/** The model produced tool-call arguments that are not JSON: `InvalidOutputError` (retryable). */
export const malformedToolCall = (
  site: Site,
  toolName: string,
  raw: string,
  secrets: ReadonlyArray<string>
): AiError.AiError =>
  AiError.make({
    ...site,
    reason: new AiError.InvalidOutputError({
      description: `tool call '${quote(toolName, secrets)}' has arguments that are not valid JSON: ${quote(raw, secrets)}`
    })
  })

/** Parses JSON without throwing; `undefined` when the text is not JSON. */
export const parseJson = (text: string): unknown => Result.getOrUndefined(Result.try(() => JSON.parse(text) as unknown))

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
