/**
 * How an adapter reaches its provider: base URL, API key, extra headers, time limits (per attempt and for the
 * whole call), retry policy and size limits. Every language and embedding model adapter takes these options.
 *
 * ```ts
 * const connection: Connection.Options = {
 *   baseUrl: "https://api.openai.com/v1",
 *   apiKey: Redacted.make(key),
 *   timeout: "60 seconds",
 *   deadline: "5 minutes",
 *   retry: Retry.policy({ maxRetries: 2 })
 * }
 * ```
 *
 * A base URL may carry credentials (`http://user:pass@proxy/v1`, sent as HTTP basic authentication and never
 * printed) and a query string (`https://gateway/v1?api-version=2`, kept after every request path).
 */
import * as Duration from "effect/Duration"
import * as Base64 from "effect/encoding/Base64"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as ProviderError from "./ProviderError.ts"
import * as Retry from "./Retry.ts"

/** Connection options shared by all adapters. */
export interface Options {
  /**
   * Base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. Credentials in it become basic
   * authentication; a query string in it is appended to every request.
   */
  readonly baseUrl: string
  /** The API key; `undefined` for servers that need none (Ollama, llama.cpp). Never printed. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Extra headers sent with every request (e.g. `OpenAI-Organization`, OpenRouter's `HTTP-Referer`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Per-attempt timeout. For streams it bounds the wait for the response headers and then each silence
   * between events. Default 120 seconds.
   */
  readonly timeout?: Duration.Input | undefined
  /**
   * The whole call's time limit, retries and their waits included; for a stream, the time from the request to
   * its last event. Default 10 minutes. The CLI's `--timeout` (`TROUPE_TIMEOUT`) and an agent's `stepTimeout`
   * set it.
   */
  readonly deadline?: Duration.Input | undefined
  /** Retry policy for retryable failures. Default {@link Retry.defaultPolicy}. */
  readonly retry?: Retry.Policy | undefined
  /** The largest JSON response body read, in bytes. Default 16 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** The largest streamed response, all events together, in bytes. Default 64 MiB. */
  readonly maxStreamBytes?: number | undefined
  /** The largest single server-sent event, in characters. Default 8 MiB. */
  readonly maxEventBytes?: number | undefined
}

/** The default per-attempt timeout. */
export const defaultTimeout: Duration.Duration = Duration.seconds(120)

/** The default time limit of a whole call. */
export const defaultDeadline: Duration.Duration = Duration.minutes(10)

/** The default limits on what a response may weigh. */
export const defaultLimits = {
  bodyBytes: 16 * 1024 * 1024,
  streamBytes: 64 * 1024 * 1024,
  eventBytes: 8 * 1024 * 1024,
  /** An error body is read only as far as an error keeps it. */
  errorBodyBytes: 8 * 1024
} as const

/** Options with defaults applied and the key revealed once, for use inside adapters only. */
export interface Resolved {
  /** The base URL without credentials, query string or trailing slash. */
  readonly baseUrl: string
  /** The base URL's query string without its `?`, or `""`. */
  readonly query: string
  readonly apiKey: string | undefined
  /** The `authorization` header made of the base URL's credentials, if it had some. */
  readonly basicAuth: string | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly timeout: Duration.Duration
  readonly deadline: Duration.Duration
  readonly retry: Retry.Policy
  readonly limits: {
    readonly bodyBytes: number
    readonly streamBytes: number
    readonly eventBytes: number
    readonly errorBodyBytes: number
  }
  /** Strings that must never appear in an error: the key, the URL's credentials, secret-looking query values. */
  readonly secrets: ReadonlyArray<string>
}

/** Where one request goes: its URL, and the same URL as errors may print it (secrets redacted). */
export interface Endpoint {
  readonly url: string
  readonly display: string
}

// Query parameters whose values are treated as secrets (`?key=`, `?access_token=`, `?sig=`...).
const secretParameter = /key|token|secret|password|auth|sig/i

interface ParsedBase {
  readonly baseUrl: string
  readonly query: string
  readonly user: string
  readonly password: string
  readonly secretValues: ReadonlyArray<string>
}

const parseBase = (raw: string): ParsedBase => {
  const url = URL.parse(raw)
  if (url === null) {
    // Left to fail at request time; any `user:pass@` is cut from what an error could print.
    const bare = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1")
    return { baseUrl: bare.replace(/\/+$/, ""), query: "", user: "", password: "", secretValues: [] }
  }
  const user = decode(url.username)
  const password = decode(url.password)
  const query = url.search.replace(/^\?/, "")
  const secretValues: Array<string> = []
  for (const [name, value] of url.searchParams) if (secretParameter.test(name)) secretValues.push(value)
  url.username = ""
  url.password = ""
  url.search = ""
  url.hash = ""
  return { baseUrl: url.href.replace(/\/+$/, ""), query, user, password, secretValues }
}

// A malformed escape leaves the component as it was written.
const decode = (component: string): string =>
  Result.getOrElse(
    Result.try(() => globalThis.decodeURIComponent(component)),
    () => component
  )

/** Applies defaults, takes credentials and query string out of the base URL, and lists what must stay secret. */
export const resolve = (options: Options): Resolved => {
  const apiKey = options.apiKey === undefined ? undefined : Redacted.value(options.apiKey)
  const base = parseBase(options.baseUrl)
  const credentials = base.user === "" && base.password === "" ? undefined : `${base.user}:${base.password}`
  const basicAuth = credentials === undefined ? undefined : `Basic ${Base64.encode(credentials)}`
  return {
    baseUrl: base.baseUrl,
    query: base.query,
    apiKey,
    basicAuth,
    headers: options.headers ?? {},
    timeout: options.timeout === undefined ? defaultTimeout : Duration.fromInputUnsafe(options.timeout),
    deadline: options.deadline === undefined ? defaultDeadline : Duration.fromInputUnsafe(options.deadline),
    retry: options.retry ?? Retry.defaultPolicy,
    limits: {
      bodyBytes: options.maxBodyBytes ?? defaultLimits.bodyBytes,
      streamBytes: options.maxStreamBytes ?? defaultLimits.streamBytes,
      eventBytes: options.maxEventBytes ?? defaultLimits.eventBytes,
      errorBodyBytes: defaultLimits.errorBodyBytes
    },
    // Longest first, so that a secret containing another is redacted whole.
    secrets: [apiKey, credentials, basicAuth?.slice(6), base.password, base.user, ...base.secretValues]
      .filter((s): s is string => s !== undefined && s !== "")
      .sort((a, b) => b.length - a.length)
  }
}

/**
 * The endpoint at `path` (which may carry its own query, as in `models/m:streamGenerateContent?alt=sse`):
 * the base URL, one slash, the path, then the base URL's query and the path's.
 */
export const endpoint = (connection: Resolved, path: string): Endpoint => {
  const at = path.indexOf("?")
  const pathPart = (at === -1 ? path : path.slice(0, at)).replace(/^\/+/, "")
  const queries = [connection.query, at === -1 ? "" : path.slice(at + 1)].filter((q) => q !== "")
  const url = `${connection.baseUrl}/${pathPart}${queries.length === 0 ? "" : `?${queries.join("&")}`}`
  return { url, display: ProviderError.quote(url, connection.secrets, 500) }
}
