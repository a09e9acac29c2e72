/**
 * `ProviderPool.layerRedis`: two pools in one test, each with its own connection to a real `redis-server` started
 * on 127.0.0.1, stand for two processes of one cluster. What one pool learns about a provider (its breaker opened,
 * its rate limit used up) the other obeys.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ProviderPool from "../src/mixture/ProviderPool.ts"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

let redis: ChildProcess | undefined
let dir = ""
let url = ""

beforeAll(async () => {
  const port = await freePort()
  dir = mkdtempSync(join(tmpdir(), "troupe-redis-"))
  redis = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "pipe", "pipe"] }
  )
  await new Promise<void>((resolve, reject) => {
    let seen = ""
    redis?.once("error", reject)
    redis?.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${seen.slice(-500)}`)))
    redis?.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString()
      if (seen.includes("Ready to accept connections")) resolve()
    })
  })
  url = `redis://127.0.0.1:${port}`
}, 30_000)

afterAll(() => {
  redis?.kill("SIGKILL")
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

const aiFail = (reason: AiError.AiErrorReason) => Effect.fail(AiError.make({ module: "T", method: "t", reason }))
const target = { provider: "openai", model: "gpt-4o-mini" }
const noUsage = { usageOf: () => undefined }

// A pool of its own, over a connection of its own: what a second process would have.
const poolOver = (settings: ProviderPool.Settings, prefix: string) =>
  Effect.map(
    Layer.build(ProviderPool.layerRedis(settings, { prefix }).pipe(Layer.provide(NodeRedis.layer({ url })))),
    Context.get(ProviderPool.ProviderPool)
  )

describe("ProviderPool.layerRedis", () => {
  it.live("a breaker opened by one process refuses the calls of another", () =>
    Effect.gen(function* () {
      const prefix = `breaker-${process.pid}-${Date.now()}:`
      const settings = { breaker: { failureThreshold: 2, cooldown: "1 minute" } } as const
      const first = yield* poolOver(settings, prefix)
      const second = yield* poolOver(settings, prefix)
      const failing = aiFail(new AiError.InternalProviderError({ description: "500" }))
      yield* Effect.flip(first.call(target, failing, noUsage))
      yield* Effect.flip(first.call(target, failing, noUsage))
      let ran = false
      const refused = yield* Effect.flip(
        second.call(
          target,
          Effect.sync(() => (ran = true)),
          noUsage
        )
      )
      assert.strictEqual(refused._tag, "CircuitOpen")
      assert.isFalse(ran)
      // Another provider's breaker is its own.
      const other = yield* second.call({ provider: "anthropic", model: "claude" }, Effect.succeed("ok"), noUsage)
      assert.strictEqual(other.value, "ok")
    }).pipe(Effect.scoped)
  )

  it.live("a rate limit used up by one process holds back another", () =>
    Effect.gen(function* () {
      const prefix = `limit-${process.pid}-${Date.now()}:`
      const settings = { limits: { openai: { requestsPerMinute: 2 } } }
      const first = yield* poolOver(settings, prefix)
      const second = yield* poolOver(settings, prefix)
      yield* first.call(target, Effect.void, noUsage)
      yield* first.call(target, Effect.void, noUsage)
      const refused = yield* Effect.flip(second.call({ ...target, maxWait: "200 millis" }, Effect.void, noUsage))
      assert.strictEqual(refused._tag, "RateLimited")
      // The same pools under another prefix share nothing with these.
      const fresh = yield* poolOver(settings, `${prefix}other:`)
      const allowed = yield* fresh.call({ ...target, maxWait: "200 millis" }, Effect.succeed("ok"), noUsage)
      assert.strictEqual(allowed.value, "ok")
    }).pipe(Effect.scoped)
  )
})
