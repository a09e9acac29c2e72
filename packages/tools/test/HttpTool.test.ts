import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpTool from "../src/HttpTool.ts"
import * as Idempotency from "../src/Idempotency.ts"
import { caller } from "./support.ts"

interface Seen {
  readonly method: string
  readonly path: string
  readonly host: string
}

// A server on 127.0.0.1 with the routes the tests need; it records every request and how much of /huge it sent.
const server = Effect.acquireRelease(
  Effect.callback<{ port: number; seen: Array<Seen>; hugeSent: { bytes: number }; close: () => void }>((resume) => {
    const seen: Array<Seen> = []
    const hugeSent = { bytes: 0 }
    let port = 0
    const srv = Http.createServer((req, res) => {
      seen.push({ method: req.method!, path: req.url!, host: req.headers.host ?? "" })
      const chunks: Array<Buffer> = []
      req.on("data", (c) => chunks.push(c))
      req.on("end", () => {
        switch (req.url) {
          case "/hello":
            return res.writeHead(200, { "content-type": "text/plain", "x-secret-header": "s" }).end("hello")
          case "/redirect-ok":
            return res.writeHead(302, { location: "/hello" }).end()
          case "/redirect-out":
            return res.writeHead(302, { location: `http://localhost:${port}/hello` }).end()
          case "/loop":
            return res.writeHead(302, { location: "/loop" }).end()
          case "/see-other":
            return res.writeHead(303, { location: "/echo" }).end()
          case "/key":
            return res
              .writeHead(200, { "content-type": "application/json" })
              .end(JSON.stringify({ method: req.method, key: req.headers["idempotency-key"] ?? null }))
          case "/echo":
            return res.writeHead(201, { "content-type": "application/json" }).end(
              JSON.stringify({
                method: req.method,
                type: req.headers["content-type"] ?? null,
                body: Buffer.concat(chunks).toString()
              })
            )
          case "/huge": {
            res.writeHead(200, { "content-type": "application/octet-stream" })
            const chunk = Buffer.alloc(64 * 1024, 97)
            const pump = () => {
              while (hugeSent.bytes < 100_000_000 && !res.destroyed) {
                hugeSent.bytes += chunk.length
                if (!res.write(chunk)) return res.once("drain", pump)
              }
              res.end()
            }
            return pump()
          }
          case "/hang":
            return
          default:
            return res.writeHead(404).end("not here")
        }
      })
    })
    srv.listen(0, "127.0.0.1", () => {
      port = (srv.address() as AddressInfo).port
      resume(Effect.succeed({ port, seen, hugeSent, close: () => srv.close() }))
    })
  }),
  (s) =>
    Effect.sync(() => {
      s.close()
    })
)

const withHttp = <A, E>(
  options: HttpTool.Options,
  f: (env: {
    base: string
    port: number
    seen: Array<Seen>
    hugeSent: { bytes: number }
    tool: ReturnType<typeof caller>
  }) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const s = yield* server
    const client = yield* HttpClient.HttpClient
    const tool = caller(HttpTool.toolkit, HttpTool.toolkit.toLayer(HttpTool.handlers(client, options)))
    return yield* f({ base: `http://127.0.0.1:${s.port}`, port: s.port, seen: s.seen, hugeSent: s.hugeSent, tool })
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

describe("HttpTool", () => {
  it("matches host patterns on names", () => {
    const patterns = ["api.example.com", "*.example.org"]
    assert.isTrue(HttpTool.hostAllowed(patterns, "API.example.com"))
    assert.isFalse(HttpTool.hostAllowed(patterns, "example.com"))
    assert.isTrue(HttpTool.hostAllowed(patterns, "a.b.example.org"))
    assert.isFalse(HttpTool.hostAllowed(patterns, "example.org"))
    assert.isFalse(HttpTool.hostAllowed(patterns, "evilexample.org"))
    assert.isFalse(HttpTool.hostAllowed([], "api.example.com"))
    assert.isTrue(HttpTool.hostAllowed(["*"], "anything.test"))
  })

  it.live("fetches from an allowed host, and refuses every host when hosts is empty", () =>
    withHttp({ hosts: ["127.0.0.1"] }, ({ base, tool }) =>
      Effect.gen(function* () {
        const ok = yield* tool("http_fetch", { url: `${base}/hello` })
        assert.deepStrictEqual(ok, {
          isFailure: false,
          result: {
            status: 200,
            url: `${base}/hello`,
            headers: { "content-type": "text/plain" },
            body: "hello",
            truncated: false
          }
        })
        const missing = yield* tool("http_fetch", { url: `${base}/nope` })
        assert.strictEqual(missing.result.status, 404)
      })
    ).pipe(
      Effect.andThen(
        withHttp({}, ({ base, seen, tool }) =>
          Effect.gen(function* () {
            const refused = yield* tool("http_fetch", { url: `${base}/hello` })
            assert.deepStrictEqual(refused.result, { _tag: "HostNotAllowed", host: "127.0.0.1", allowed: [] })
            assert.strictEqual(seen.length, 0)
          })
        )
      )
    )
  )

  it.live("follows redirects on the list, refuses one off the list, and stops after 5", () =>
    withHttp({ hosts: ["127.0.0.1"] }, ({ base, seen, tool }) =>
      Effect.gen(function* () {
        const followed = yield* tool("http_fetch", { url: `${base}/redirect-ok` })
        assert.strictEqual(followed.result.body, "hello")
        assert.strictEqual(followed.result.url, `${base}/hello`)
        seen.length = 0
        const out = yield* tool("http_fetch", { url: `${base}/redirect-out` })
        assert.deepStrictEqual(out.result, { _tag: "HostNotAllowed", host: "localhost", allowed: ["127.0.0.1"] })
        assert.deepStrictEqual(
          seen.map((s) => s.path),
          ["/redirect-out"]
        )
        seen.length = 0
        const loop = yield* tool("http_fetch", { url: `${base}/loop` })
        assert.deepInclude(loop.result, { _tag: "RequestFailed", reason: "more than 5 redirects" })
        assert.strictEqual(seen.length, 6)
      })
    )
  )

  it.live("caps a huge body without reading the rest", () =>
    withHttp({ hosts: ["127.0.0.1"], maxResponseBytes: 100_000 }, ({ base, hugeSent, tool }) =>
      Effect.gen(function* () {
        const huge = yield* tool("http_fetch", { url: `${base}/huge` })
        assert.isTrue(huge.result.truncated)
        assert.strictEqual(huge.result.body.length, 100_000)
        yield* Effect.sleep(Duration.millis(100))
        assert.isBelow(hugeSent.bytes, 50_000_000)
      })
    )
  )

  it.live("times out a server that never answers", () =>
    withHttp({ hosts: ["127.0.0.1"], timeout: Duration.millis(300) }, ({ base, tool }) =>
      Effect.gen(function* () {
        const started = Date.now()
        const hung = yield* tool("http_fetch", { url: `${base}/hang` })
        assert.deepStrictEqual(hung.result, { _tag: "TimedOut", operation: "http_fetch", timeoutMillis: 300 })
        assert.isBelow(Date.now() - started, 3_000)
      })
    )
  )

  it.live("allows only the listed methods, sends bodies, and turns a 303 into a GET", () =>
    withHttp({ hosts: ["127.0.0.1"], methods: ["GET", "POST"] }, ({ base, tool }) =>
      Effect.gen(function* () {
        const put = yield* tool("http_fetch", { url: `${base}/echo`, method: "PUT", body: "x" })
        assert.deepStrictEqual(put.result, { _tag: "MethodNotAllowed", method: "PUT", allowed: ["GET", "POST"] })
        const post = yield* tool("http_fetch", { url: `${base}/echo`, method: "POST", body: '{"a":1}' })
        assert.strictEqual(post.result.status, 201)
        assert.deepStrictEqual(JSON.parse(post.result.body), {
          method: "POST",
          type: "application/json",
          body: '{"a":1}'
        })
        const seeOther = yield* tool("http_fetch", { url: `${base}/see-other`, method: "POST", body: "plain" })
        assert.deepStrictEqual(JSON.parse(seeOther.result.body), { method: "GET", type: null, body: "" })
      })
    )
  )

  it.live("sends the call's idempotency key with every request but GET and HEAD", () =>
    withHttp({ hosts: ["127.0.0.1"], methods: ["GET", "POST", "DELETE"] }, ({ base, tool }) =>
      Effect.gen(function* () {
        const keyed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
          Effect.provideService(effect, Idempotency.CurrentKey, "run-1/tool/3/call_0")
        const post = yield* keyed(tool("http_fetch", { url: `${base}/key`, method: "POST", body: "{}" }))
        assert.deepStrictEqual(JSON.parse(post.result.body), { method: "POST", key: "run-1/tool/3/call_0" })
        const del = yield* keyed(tool("http_fetch", { url: `${base}/key`, method: "DELETE" }))
        assert.deepStrictEqual(JSON.parse(del.result.body), { method: "DELETE", key: "run-1/tool/3/call_0" })
        const get = yield* keyed(tool("http_fetch", { url: `${base}/key` }))
        assert.deepStrictEqual(JSON.parse(get.result.body), { method: "GET", key: null })
        const outside = yield* tool("http_fetch", { url: `${base}/key`, method: "POST", body: "{}" })
        assert.deepStrictEqual(JSON.parse(outside.result.body), { method: "POST", key: null })
      })
    )
  )

  it.live("refuses other schemes, credentials in the URL, and what is not a URL", () =>
    withHttp({ hosts: ["*"] }, ({ port, tool }) =>
      Effect.gen(function* () {
        for (const url of [
          "file:///etc/passwd",
          "ftp://127.0.0.1/x",
          `http://u:p@127.0.0.1:${port}/hello`,
          "not a url"
        ]) {
          const outcome = yield* tool("http_fetch", { url })
          assert.deepInclude(outcome.result, { _tag: "InvalidArgument", argument: "url" }, url)
        }
      })
    )
  )
})
