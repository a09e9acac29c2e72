/**
 * `http_fetch {url, method?, body?}`: one HTTP request to an allowed host, through `effect/http`'s `HttpClient`.
 *
 * Enforced by the tool (the spec's `HttpFetchOptions`): only `http:` and `https:` URLs without user or password;
 * the host must match `hosts` (`api.example.com` exactly, `*.example.com` any subdomain but not the apex, `*` any
 * host; empty allows none; compared on the host name, any port); the method must be one of `methods` (default
 * GET). Redirects are followed by the tool, at most {@link Options.maxRedirects} (5) of them, and every hop is
 * checked again, so a redirect to a host off the list is refused rather than followed (303, and 301/302 after a
 * POST, continue as GET, which must be allowed too). The whole exchange, redirects included, is bounded by
 * `timeout`; the body is read as a stream and cut at `maxResponseBytes` (1 MB), the rest never read.
 *
 * Returns `{ status, url, headers, body, truncated }` whatever the status (a 404 is an answer the model should
 * see); `headers` holds only `content-type`, `content-length`, `location`, `retry-after`, `etag` and
 * `last-modified`. A body given for POST, PUT, PATCH or DELETE is sent as `application/json` when it parses as
 * JSON, as `text/plain` otherwise.
 *
 * Not covered: the allowlist is on names, so a listed name whose DNS points at a private address is fetched
 * (DNS rebinding is the network's business, or the allowlist's: list only hosts you trust).
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Idempotency from "./Idempotency.ts"
import { HostNotAllowed, InvalidArgument, MethodNotAllowed, RequestFailed, TimedOut, TooLarge } from "./ToolError.ts"

/** The methods `http_fetch` knows. */
export const Method = Schema.Literals(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])

/** An HTTP method `http_fetch` knows. */
export type Method = typeof Method.Type

/** Makes one HTTP request to an allowed host. */
export const HttpFetch = Tool.make("http_fetch", {
  description:
    "Make an HTTP request to an allowed host and get the status, a few headers and the body (cut when long).",
  parameters: Schema.Struct({
    url: Schema.String.annotate({ description: "An http:// or https:// URL" }),
    method: Schema.optionalKey(Method.annotate({ description: "Default GET" })),
    body: Schema.optionalKey(Schema.String.annotate({ description: "Request body, for POST, PUT, PATCH, DELETE" }))
  }),
  success: Schema.Struct({
    status: Schema.Int,
    url: Schema.String,
    headers: Schema.Record(Schema.String, Schema.String),
    body: Schema.String,
    truncated: Schema.Boolean
  }),
  failure: Schema.Union([HostNotAllowed, MethodNotAllowed, InvalidArgument, RequestFailed, TimedOut, TooLarge]),
  failureMode: "return"
})

/** The HTTP tool. */
export const toolkit = Toolkit.make(HttpFetch)

/** The options of `http_fetch`: the spec's, and the bounds. */
export interface Options extends Partial<ToolSpec.ToolOptions["http_fetch"]> {
  /** Bytes of the response body kept (default 1,000,000). */
  readonly maxResponseBytes?: number
  /** Bytes of request body accepted (default 1,000,000). */
  readonly maxRequestBytes?: number
  /** Redirects followed (default 5). */
  readonly maxRedirects?: number
}

/** Whether `host` (a URL's host name) matches one of `patterns` (`name`, `*.domain`, or `*`). */
export const hostAllowed = (patterns: ReadonlyArray<string>, host: string): boolean => {
  const name = host.toLowerCase().replace(/\.$/u, "")
  return patterns.some((pattern) => {
    const p = pattern.toLowerCase().replace(/\.$/u, "")
    if (p === "*") return true
    if (p.startsWith("*.")) return name.endsWith(p.slice(1)) && name.length > p.length - 1
    return name === p
  })
}

const keptHeaders = ["content-type", "content-length", "location", "retry-after", "etag", "last-modified"]

const redirects = new Set([301, 302, 303, 307, 308])

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: false })

const isJson = (text: string) => Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))(text)._tag === "Some"

// The first `limit` bytes of the body; reading stops there and the connection is dropped with the scope.
const readCapped = (response: HttpClientResponse.HttpClientResponse, limit: number) =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let kept = 0
    let truncated = false
    return Stream.runForEachWhile(response.stream, (chunk) =>
      Effect.sync(() => {
        const room = limit - kept
        if (chunk.length > room) truncated = true
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk
        chunks.push(part)
        kept += part.length
        return !truncated
      })
    ).pipe(Effect.map(() => ({ body: decoder.decode(Buffer.concat(chunks)), truncated })))
  })

/** The handler of `http_fetch`, over one HTTP client. */
export const handlers = (client: HttpClient.HttpClient, options: Options = {}) => {
  const hosts = options.hosts ?? []
  const methods = options.methods ?? ["GET"]
  const timeout = options.timeout ?? Duration.seconds(30)
  const maxResponse = options.maxResponseBytes ?? 1_000_000
  const maxRequest = options.maxRequestBytes ?? 1_000_000
  const maxRedirects = options.maxRedirects ?? 5
  const scoped = HttpClient.withScope(client)

  const check = (url: URL, method: Method) => {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Effect.fail(
        new InvalidArgument({ argument: "url", reason: `scheme ${url.protocol} is not http or https` })
      )
    }
    if (url.username !== "" || url.password !== "") {
      return Effect.fail(new InvalidArgument({ argument: "url", reason: "carries a user or password" }))
    }
    if (!hostAllowed(hosts, url.hostname))
      return Effect.fail(new HostNotAllowed({ host: url.hostname, allowed: hosts }))
    if (!methods.includes(method)) return Effect.fail(new MethodNotAllowed({ method, allowed: methods }))
    return Effect.void
  }

  const fetch = Effect.fnUntraced(function* (start: URL, startMethod: Method, body: string | undefined) {
    // A request run again after a crash carries the same key, so a server that honours it acts once.
    const key = yield* Idempotency.CurrentKey
    let url = start
    let method = startMethod
    let payload = body
    for (let hop = 0; hop <= maxRedirects; hop++) {
      yield* check(url, method)
      const base = HttpClientRequest.make(method)(url.href).pipe(
        key === undefined || method === "GET" || method === "HEAD"
          ? (r) => r
          : HttpClientRequest.setHeader(Idempotency.header, key)
      )
      const request =
        payload === undefined || method === "GET" || method === "HEAD"
          ? base
          : HttpClientRequest.bodyText(base, payload, isJson(payload) ? "application/json" : "text/plain")
      const outcome = yield* Effect.scoped(
        Effect.gen(function* () {
          const response = yield* scoped.execute(request)
          const location = response.headers.location
          if (redirects.has(response.status) && location !== undefined) {
            return { _tag: "redirect" as const, status: response.status, location }
          }
          const read = method === "HEAD" ? { body: "", truncated: false } : yield* readCapped(response, maxResponse)
          const headers: Record<string, string> = {}
          for (const name of keptHeaders) {
            const value = response.headers[name]
            if (value !== undefined) headers[name] = value
          }
          return { _tag: "done" as const, result: { status: response.status, url: url.href, headers, ...read } }
        })
      ).pipe(Effect.mapError((e) => new RequestFailed({ url: url.href, reason: e.message })))
      if (outcome._tag === "done") return outcome.result
      const next = URL.parse(outcome.location, url.href)
      if (next === null) return yield* new RequestFailed({ url: url.href, reason: "redirect to an invalid URL" })
      if (outcome.status === 303 || ((outcome.status === 301 || outcome.status === 302) && method === "POST")) {
        method = method === "HEAD" ? "HEAD" : "GET"
        payload = undefined
      }
      url = next
    }
    return yield* new RequestFailed({ url: url.href, reason: `more than ${maxRedirects} redirects` })
  })

  return toolkit.of({
    http_fetch: ({ url, method, body }) =>
      Effect.gen(function* () {
        const parsed = URL.parse(url)
        if (parsed === null) return yield* new InvalidArgument({ argument: "url", reason: "is not a URL" })
        if (body !== undefined && encoder.encode(body).length > maxRequest) {
          return yield* new TooLarge({ what: "body", size: encoder.encode(body).length, limit: maxRequest })
        }
        return yield* fetch(parsed, method ?? "GET", body).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () =>
              Effect.fail(new TimedOut({ operation: "http_fetch", timeoutMillis: Duration.toMillis(timeout) }))
          })
        )
      })
  })
}

/** The handler of `http_fetch`, over the `HttpClient` in context. */
export const layer = (options: Options = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      return handlers(yield* HttpClient.HttpClient, options)
    })
  )
