/**
 * How an adapter reaches its provider: base URL, API key, extra headers, per-request timeout and retry
 * policy. Every language and embedding model adapter takes these options.
 *
 * ```ts
 * const connection: Connection.Options = {
 *   baseUrl: "https://api.openai.com/v1",
 *   apiKey: Redacted.make(key),
 *   timeout: "60 seconds",
 *   retry: Retry.policy({ maxRetries: 2 })
 * }
 * ```
 */
import * as Duration from "effect/Duration"
import * as Redacted from "effect/Redacted"
import * as Retry from "./Retry.ts"

/** Connection options shared by all adapters. */
export interface Options {
  /** Base URL without a trailing slash, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. */
  readonly baseUrl: string
  /** The API key; `undefined` for servers that need none (Ollama, llama.cpp). Never printed. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Extra headers sent with every request (e.g. `OpenAI-Organization`, OpenRouter's `HTTP-Referer`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Per-request timeout, per attempt. For streams it bounds the wait for the response headers and then
   * each silence between events. Default 120 seconds.
   */
  readonly timeout?: Duration.Input | undefined
  /** Retry policy for retryable failures. Default {@link Retry.defaultPolicy}. */
  readonly retry?: Retry.Policy | undefined
}

/** The default per-request timeout. */
export const defaultTimeout: Duration.Duration = Duration.seconds(120)

/** Options with defaults applied and the key revealed once, for use inside adapters only. */
export interface Resolved {
  readonly baseUrl: string
  readonly apiKey: string | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly timeout: Duration.Duration
  readonly retry: Retry.Policy
  /** Strings that must never appear in an error (the key). */
  readonly secrets: ReadonlyArray<string>
}

/** Applies defaults; strips a trailing slash from the base URL. */
export const resolve = (options: Options): Resolved => {
  const apiKey = options.apiKey === undefined ? undefined : Redacted.value(options.apiKey)
  return {
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    apiKey,
    headers: options.headers ?? {},
    timeout: options.timeout === undefined ? defaultTimeout : Duration.fromInputUnsafe(options.timeout),
    retry: options.retry ?? Retry.defaultPolicy,
    secrets: apiKey === undefined ? [] : [apiKey]
  }
}
