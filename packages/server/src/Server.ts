/**
 * `troupe serve`'s server: the API of `ServerApi` with its OpenAPI document at `/openapi.json`, and the team's agents
 * over MCP at `/mcp`, on Node's HTTP server, or HTTPS when a certificate is given.
 *
 * Nothing anonymous gets in: every request, whatever its path (the document, the MCP endpoint and unknown paths
 * too), is answered 401 unless it carries `Authorization: Bearer TOKEN` with an accepted token (`Tokens`, compared in
 * constant time). Request bodies are bounded (`maxBodyBytes`, default 1 MiB; larger is 413), and Node bounds how long
 * receiving a request may take.
 *
 * @example
 * ```ts
 * const tokens = yield* Tokens.fromEnvironment("TROUPE_TOKEN", process.env)
 * const running = yield* Server.start({ host: "127.0.0.1", port: 8787, tokens, jobs: { team, specRoot, approvals, audit } })
 * console.log(running.url) // http://127.0.0.1:8787
 * ```
 */
import * as NodeHttp from "node:http"
import * as NodeHttps from "node:https"
import * as NodeTls from "node:tls"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as ByteSize from "effect/ByteSize"
import * as Effect from "effect/Effect"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as AgentTools from "./AgentTools.ts"
import * as Jobs from "./Jobs.ts"
import { Caller, ServerApi } from "./ServerApi.ts"
import * as ServerHandlers from "./ServerHandlers.ts"
import * as Tokens from "./Tokens.ts"

/** The server's version, in the OpenAPI document and the MCP handshake. */
export const version = "0.1.0"

/** Where the OpenAPI document is served. */
export const openapiPath = "/openapi.json"

/** Options of `start`. */
export interface Options {
  readonly host: string
  /** `0` picks a free port (see `Running.port`). */
  readonly port: number
  readonly tokens: Tokens.Tokens
  /** PEM certificate and key: HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined
  /** The largest request body accepted (default 1 MiB). */
  readonly maxBodyBytes?: number | undefined
  readonly jobs: Jobs.Options
}

/** A server that listens. */
export interface Running {
  readonly port: number
  /** `http://HOST:PORT` or `https://HOST:PORT`. */
  readonly url: string
  readonly jobs: Jobs.Jobs
}

/** The certificate and key given for TLS do not make a TLS context (unreadable, or not each other's). */
export class TlsInvalid extends Schema.TaggedError<TlsInvalid>()("TlsInvalid", { reason: Schema.String }) {
  override get message(): string {
    return `TLS: ${this.reason}`
  }
}

const unauthorized = HttpServerResponse.jsonUnsafe(
  { _tag: "Unauthorized", message: "a valid bearer token is required" },
  { status: 401, headers: { "www-authenticate": 'Bearer realm="troupe"' } }
)

/**
 * Refuses every request without an accepted bearer token, bounds every request body, and provides who holds the
 * token (`Caller`) to every route.
 */
export const guard = (tokens: Tokens.Tokens, maxBodyBytes: number) =>
  HttpRouter.middleware<{ provides: Caller }>()(
    (httpEffect) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const name = Tokens.check(tokens, request.headers.authorization)
        return name === undefined
          ? Effect.succeed(unauthorized)
          : httpEffect.pipe(
              Effect.provideService(Caller, { name }),
              Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBodyBytes))
            )
      }),
    { global: true }
  )

/**
 * Starts the server's jobs (its team first, when it has one), serves them, and returns once it listens. Everything
 * stops with the scope.
 */
export const start = (options: Options) =>
  Effect.gen(function* () {
    const tls = options.tls
    if (tls !== undefined) {
      // Checked here, as a typed failure: Node's server would throw while it is being created.
      yield* Effect.try({
        try: () => NodeTls.createSecureContext({ cert: tls.cert, key: tls.key }),
        catch: () => new TlsInvalid({ reason: "the certificate and key are not PEM, or not a pair" })
      })
    }
    const jobs = yield* Jobs.make(options.jobs)
    const routes = Layer.mergeAll(
      HttpApiBuilder.layer(ServerApi, { openapiPath }).pipe(
        Layer.provide(
          ServerHandlers.layer({ jobs, approvals: options.jobs.approvals, audit: options.jobs.audit }, options.tokens)
        )
      ),
      AgentTools.layer(jobs, options.jobs.team, version)
    ).pipe(Layer.provideMerge(guard(options.tokens, options.maxBodyBytes ?? 1024 * 1024)))
    // Node's defaults let a client take 300 s to send one request; a minute is plenty for a goal.
    const timeouts = { requestTimeout: 60_000, headersTimeout: 30_000 }
    let server: NodeHttp.Server | undefined
    const create = () => {
      server =
        tls === undefined
          ? NodeHttp.createServer(timeouts)
          : NodeHttps.createServer({ ...timeouts, cert: tls.cert, key: tls.key })
      return server
    }
    yield* Layer.build(
      HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provide(NodeHttpServer.layer(create, { host: options.host, port: options.port }))
      )
    )
    const address = server?.address()
    const port = typeof address === "object" && address !== null ? address.port : options.port
    const host = options.host.includes(":") ? `[${options.host}]` : options.host
    return { port, url: `${tls === undefined ? "http" : "https"}://${host}:${port}`, jobs }
  })
