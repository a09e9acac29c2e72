import { spawn } from "node:child_process"
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import * as AuditEntry from "../src/AuditEntry.ts"
import * as AuditLog from "../src/AuditLog.ts"
import { expectedHash, readAll, readLines, tempHome, trailPath, withAudit, writeTrail } from "./audit/support.ts"

describe("AuditLog", () => {
  it.effect("chains entries from a genesis, with hashes any reader can recompute", () =>
    withAudit((audit, home) =>
      Effect.gen(function* () {
        const log = yield* audit.open("run-1", "backend")
        yield* TestClock.adjust("1500 millis")
        const first = yield* log.append("AgentStepStarted", { step: 1 })
        const second = yield* log.append("AgentToolCalled", { tool: "fs_write", params: { path: "a.md", n: 2 } })
        assert.deepStrictEqual(yield* log.head, { seq: 2, hash: second.hash })
        yield* log.close

        const lines = readLines(trailPath(home, "run-1"))
        assert.strictEqual(lines.length, 3)
        const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
        for (const entry of entries) assert.strictEqual(entry.hash, expectedHash(entry))
        const genesis = entries[0]!
        assert.strictEqual(genesis.seq, 0)
        assert.strictEqual(genesis.type, "genesis")
        assert.strictEqual(genesis.prevHash, "0".repeat(64))
        assert.strictEqual((genesis.data as { version: number }).version, AuditEntry.formatVersion)
        assert.strictEqual(entries[1]!.prevHash, genesis.hash)
        assert.strictEqual(entries[2]!.prevHash, first.hash)
        assert.strictEqual(entries[1]!.time, "1970-01-01T00:00:01.500Z")
        assert.deepStrictEqual(Object.keys(entries[2]!), [
          "seq",
          "time",
          "runId",
          "agent",
          "type",
          "data",
          "prevHash",
          "hash"
        ])

        const read = yield* readAll(audit, "run-1")
        assert.deepStrictEqual(read.slice(1), [first, second])
        for (const entry of read) assert.isTrue(Schema.is(AuditEntry.AuditEntry)(entry))
        const verification = yield* audit.verify("run-1")
        assert.deepStrictEqual(verification, {
          _tag: "Intact",
          runId: "run-1",
          entries: 3,
          head: { seq: 2, hash: second.hash }
        })
        assert.match(AuditEntry.message(verification), /^intact: 3 entries, head seq 2 [0-9a-f]{64}$/)
      })
    )
  )

  it.effect("records events under their tag, and any JSON-encodable data", () =>
    withAudit((audit) =>
      Effect.gen(function* () {
        const log = yield* audit.open("run-events", "backend")
        const started = yield* log.appendEvent({ _tag: "ActorStarted", path: "/root/backend", incarnation: 1, at: 0 })
        assert.strictEqual(started.type, "ActorStarted")
        assert.deepStrictEqual(started.data, { path: "/root/backend", incarnation: 1, at: 0 })
        class ToolDenied extends Schema.TaggedError<ToolDenied>()("ToolDenied", { tool: Schema.String }) {}
        const denied = yield* log.appendEvent(new ToolDenied({ tool: "shell_run" }))
        assert.strictEqual(denied.type, "ToolDenied")
        assert.strictEqual((denied.data as { tool: string }).tool, "shell_run")

        const cyclic: Record<string, unknown> = { name: "loop" }
        cyclic.self = cyclic
        const odd = yield* log.append("Odd", {
          big: 12345678901234567890n,
          missing: undefined,
          nan: Number.NaN,
          map: new Map([["k", 1]]),
          set: new Set([1, 2]),
          error: new Error("boom"),
          cyclic,
          list: [undefined, () => 1]
        })
        assert.deepStrictEqual(odd.data, {
          big: "12345678901234567890",
          nan: null,
          map: [["k", 1]],
          set: [1, 2],
          error: { name: "Error", message: "boom" },
          cyclic: { name: "loop", self: "[circular]" },
          list: [null, null]
        })
        const nothing = yield* log.append("Nothing")
        assert.strictEqual(nothing.data, null)
        assert.strictEqual((yield* audit.verify("run-events"))._tag, "Intact")
      })
    )
  )

  it.effect("reopening a run continues its chain after an AuditResumed entry", () =>
    withAudit((audit, home) =>
      Effect.gen(function* () {
        yield* writeTrail(audit, home, "run-2", 3)
        const log = yield* audit.open("run-2", "backend")
        const before = yield* log.head
        assert.strictEqual(before.seq, 4)
        const [resumed] = (yield* readAll(audit, "run-2")).slice(-1)
        assert.strictEqual(resumed!.type, AuditEntry.resumedType)
        assert.deepStrictEqual(resumed!.data, { afterSeq: 3 })
        yield* log.append("Step", { i: 4 })
        yield* log.close
        const verification = yield* audit.verify("run-2")
        assert.strictEqual(verification._tag === "Intact" && verification.entries, 6)
      })
    )
  )

  it.effect("a partial last line (crash) verifies as intact with a warning, and reopening cuts it", () =>
    withAudit((audit, home) =>
      Effect.gen(function* () {
        const path = yield* writeTrail(audit, home, "run-3", 2)
        appendFileSync(path, '{"seq":3,"time":"1970-01-01T00:00:00.000Z","ru')
        const verification = yield* audit.verify("run-3")
        assert.deepStrictEqual(verification._tag === "Intact" && verification.incompleteLastEntry, {
          line: 4,
          bytes: 46
        })
        assert.match(AuditEntry.message(verification), /incomplete last entry \(crash\) at line 4: 46 bytes/)
        assert.strictEqual((yield* readAll(audit, "run-3")).length, 3)

        const log = yield* audit.open("run-3", "backend")
        yield* log.close
        const entries = yield* readAll(audit, "run-3")
        assert.deepStrictEqual(entries[3]!.data, { afterSeq: 2, droppedBytes: 46 })
        assert.isTrue(readFileSync(path, "utf8").endsWith("}\n"))
        const after = yield* audit.verify("run-3")
        assert.isTrue(after._tag === "Intact" && after.incompleteLastEntry === undefined && after.entries === 4)
      })
    )
  )

  it.effect("never continues a broken chain, and leaves it as it was", () =>
    withAudit((audit, home) =>
      Effect.gen(function* () {
        const path = yield* writeTrail(audit, home, "run-4", 3)
        const lines = readLines(path)
        writeFileSync(path, `${[lines[0], lines[1], lines[3]].join("\n")}\n`)
        const before = readFileSync(path, "utf8")
        const error = yield* Effect.flip(audit.open("run-4", "backend"))
        assert.strictEqual(error._tag, "AuditLogCorrupt")
        assert.deepStrictEqual(error._tag === "AuditLogCorrupt" && [error.line, error.reason], [3, "seq-gap"])
        assert.strictEqual(readFileSync(path, "utf8"), before)
      })
    )
  )

  it.effect("writers of one run share one chain, each stamping its agent", () =>
    withAudit((audit) =>
      Effect.gen(function* () {
        const planner = yield* audit.open("run-5", "planner")
        const coder = yield* audit.open("run-5", "coder")
        yield* Effect.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? planner : coder).append("Step", { i })),
          { concurrency: "unbounded" }
        )
        yield* planner.close
        yield* coder.append("Step", { last: true })
        const closed = yield* Effect.flip(planner.append("Step", {}))
        assert.strictEqual(closed._tag, "AuditLogClosed")
        yield* coder.close
        const entries = yield* readAll(audit, "run-5")
        assert.deepStrictEqual(
          entries.map((e) => e.seq),
          Array.from({ length: 22 }, (_, i) => i)
        )
        assert.strictEqual(entries.filter((e) => e.agent === "planner").length, 11)
        assert.strictEqual((yield* audit.verify("run-5"))._tag, "Intact")
      })
    )
  )

  for (const durability of ["durable", "written"] as const) {
    it.effect(`${durability}: 10 concurrent appends all land, in seq order, once synced`, () =>
      withAudit(
        (audit, home) =>
          Effect.gen(function* () {
            const log = yield* audit.open("run-6", "backend")
            const entries = yield* Effect.all(
              Array.from({ length: 10 }, (_, i) => log.append("Step", { i })),
              { concurrency: "unbounded" }
            )
            const lines = readLines(trailPath(home, "run-6"))
            assert.strictEqual(lines.length, 11)
            assert.deepStrictEqual(
              entries.map((e) => e.seq).sort((a, b) => a - b),
              Array.from({ length: 10 }, (_, i) => i + 1)
            )
            assert.deepStrictEqual(
              lines.map((l) => JSON.parse(l).seq),
              Array.from({ length: 11 }, (_, i) => i)
            )
          }),
        { durability }
      )
    )
  }

  it.effect("rejects run ids that are not a plain file name, and reports missing trails", () =>
    withAudit((audit) =>
      Effect.gen(function* () {
        for (const runId of ["../escape", "", ".hidden", "a/b", "x".repeat(129)]) {
          const error = yield* Effect.flip(audit.open(runId, "backend"))
          assert.strictEqual(error._tag, "AuditRunIdInvalid", runId)
        }
        const missing = yield* Effect.flip(audit.verify("no-such-run"))
        assert.strictEqual(missing._tag, "AuditLogNotFound")
        const unread = yield* Effect.flip(Stream.runCollect(audit.read("no-such-run")))
        assert.strictEqual(unread._tag, "AuditLogNotFound")
      })
    )
  )

  it.effect("bounds lines: oversized data becomes a hashed note, a hostile long line is reported, not held", () =>
    withAudit(
      (audit, home) =>
        Effect.gen(function* () {
          const log = yield* audit.open("run-7", "backend")
          const big = yield* log.append("AgentToolResult", { result: "y".repeat(10_000) })
          const note = big.data as { "@audit": string; bytes: number; preview: string }
          assert.strictEqual(note["@audit"], "oversized")
          assert.strictEqual(note.bytes, JSON.stringify({ result: "y".repeat(10_000) }).length)
          assert.strictEqual(note.preview.length, 4096)
          yield* log.close
          assert.strictEqual((yield* audit.verify("run-7"))._tag, "Intact")

          const path = trailPath(home, "run-7")
          appendFileSync(path, `${"z".repeat(3_000_000)}\n`)
          const verification = yield* audit.verify("run-7")
          assert.deepStrictEqual(
            verification._tag === "Broken" && [verification.line, verification.reason, verification.detail],
            [3, "oversized-line", "3000000 bytes, limit 8192"]
          )
          const error = yield* Effect.flip(Stream.runCollect(audit.read("run-7")))
          assert.deepStrictEqual(error._tag === "AuditLogCorrupt" && [error.line, error.reason], [3, "oversized-line"])
        }),
      { maxLineBytes: 8192 }
    )
  )

  it.effect("layerConfig writes under TROUPE_HOME and redacts the environment's secrets", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const key = "sk-test-config-0123456789abcdef"
      const provider = ConfigProvider.fromEnv({ env: { TROUPE_HOME: home, MY_SERVICE_API_KEY: key } })
      const entry = yield* Effect.gen(function* () {
        const audit = yield* AuditLog.AuditLog
        const log = yield* audit.open("run-8", "backend")
        return yield* log.append("AgentToolResult", { result: `token=${key}` })
      }).pipe(Effect.scoped, Effect.provide(AuditLog.layerConfig().pipe(Layer.provide(ConfigProvider.layer(provider)))))
      assert.deepStrictEqual(entry.data, { result: "token=[redacted:MY_SERVICE_API_KEY]" })
      assert.isTrue(statSync(trailPath(home, "run-8")).isFile())
      assert.notInclude(readFileSync(trailPath(home, "run-8"), "utf8"), key)
    })
  )

  for (const durability of ["durable", "written"] as const) {
    it.live(`${durability}: a writer killed mid-stream loses no acknowledged entry`, () =>
      Effect.gen(function* () {
        const home = yield* tempHome
        const acked = yield* killAfterAcks(home, "crash-run", durability, 150)
        assert.isAtLeast(acked, 150)
        const audit = yield* Effect.provide(AuditLog.AuditLog, AuditLog.layerTest(home))
        const verification = yield* audit.verify("crash-run")
        assert.strictEqual(verification._tag, "Intact", AuditEntry.message(verification))
        assert.isAtLeast(verification._tag === "Intact" ? verification.head.seq : -1, acked)
        const entries = yield* readAll(audit, "crash-run")
        assert.strictEqual(entries[acked]!.seq, acked)
      })
    )
  }
})

const root = fileURLToPath(new URL("../../../", import.meta.url))
const fixture = fileURLToPath(new URL("./audit/crashWriter.ts", import.meta.url))

/** Starts the crash writer, SIGKILLs it once it acknowledged `count` entries, and returns the highest ack. */
const killAfterAcks = (home: string, runId: string, durability: string, count: number) =>
  Effect.callback<number, Error>((resume) => {
    const child = spawn(`${root}node_modules/.bin/node`, [fixture, home, runId, durability], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let buffered = ""
    let highest = -1
    let seen = 0
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8")
      const lines = buffered.split("\n")
      buffered = lines.pop()!
      for (const line of lines) {
        if (!line.startsWith("ack ")) continue
        highest = Math.max(highest, Number(line.slice(4)))
        seen += 1
      }
      if (seen >= count && child.exitCode === null) child.kill("SIGKILL")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.on("close", (_code, signal) =>
      resume(
        signal === "SIGKILL" ? Effect.succeed(highest) : Effect.fail(new Error(`writer exited by itself: ${stderr}`))
      )
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })
