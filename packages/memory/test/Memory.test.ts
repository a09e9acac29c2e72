import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as lancedb from "@lancedb/lancedb"
import { LocalEmbedder } from "@troupe/providers"
import * as arrow from "apache-arrow"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/testing/TestClock"
import * as KnowledgeBase from "../src/KnowledgeBase.ts"
import * as Memory from "../src/Memory.ts"
import { type Captured, captureLogs, runFixture, tempDir, useMemory, withMemory } from "./support.ts"

describe("Memory", () => {
  it.effect("remembers and recalls a record with all its fields", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        const stored = yield* memory.remember({
          agent: "backend",
          kind: "fact",
          text: "The staging database runs PostgreSQL 16 on port 5433",
          metadata: { source: "runbook", line: 12 },
          importance: 0.8
        })
        assert.strictEqual(stored.namespace, "backend")
        const [listed] = yield* memory.list()
        assert.deepStrictEqual(listed, stored)
        const recalled = yield* memory.recall("which port does the staging database use?")
        assert.strictEqual(recalled.length, 1)
        assert.deepStrictEqual(recalled[0]!.record, stored)
        const scores = recalled[0]!.scores
        assert.isAbove(scores.cosine, 0.1)
        assert.closeTo(
          scores.cosine,
          LocalEmbedder.cosine(
            LocalEmbedder.embed("which port does the staging database use?"),
            LocalEmbedder.embed(stored.text)
          ),
          1e-5
        )
        assert.isAbove(scores.bm25Raw, 0)
        // A lone candidate is the best of both searches.
        assert.strictEqual(scores.vector, 1)
        assert.strictEqual(scores.bm25, 1)
        assert.strictEqual(scores.importance, 0.8)
        assert.strictEqual(scores.recency, 1)
        // The default weights (0.72, 0.08, 0.1, 0.1) by hand: 0.72 + 0.08 + 0.1 + 0.1 × 0.8.
        assert.closeTo(scores.total, 0.98, 1e-9)
        // Weights are normalised by their sum: (2 × 1 + 1 × 1 + 1 × 1 + 4 × 0.8) / 8.
        const [weighted] = yield* memory.recall("which port does the staging database use?", {
          weights: { vector: 2, bm25: 1, recency: 1, importance: 4 }
        })
        assert.closeTo(weighted!.scores.total, 0.9, 1e-9)
      })
    )
  )

  it.effect("stores under $TROUPE_HOME/memory with layerConfig", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const config = ConfigProvider.layer(ConfigProvider.fromEnvRecord({ TROUPE_HOME: home }))
      yield* Effect.gen(function* () {
        yield* (yield* Memory.Memory).remember({ agent: "a", kind: "fact", text: "configured home" })
        yield* (yield* KnowledgeBase.KnowledgeBase).assert({ subject: "home", predicate: "is", object: "configured" })
      }).pipe(
        Effect.provide(
          Layer.mergeAll(Memory.layerConfig().pipe(Layer.provide(LocalEmbedder.layer())), KnowledgeBase.layerConfig)
        ),
        Effect.provide(config)
      )
      assert.deepStrictEqual(readdirSync(join(home, "memory")).sort(), ["knowledge.lance", "memories.lance"])
    })
  )

  it.effect("keeps agent namespaces apart and shares the team namespace", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        yield* memory.remember({ agent: "alice", kind: "fact", text: "alice private note about deploy keys" })
        yield* memory.remember({ agent: "bob", kind: "fact", text: "bob private note about deploy keys" })
        yield* memory.remember({ agent: "bob", namespace: "team", kind: "lesson", text: "team note about deploy keys" })
        const alice = yield* memory.recall("deploy keys", { namespace: ["alice", "team"] })
        assert.deepStrictEqual(alice.map((r) => r.record.text).sort(), [
          "alice private note about deploy keys",
          "team note about deploy keys"
        ])
        const lessons = yield* memory.recall("deploy keys", { kinds: ["lesson"] })
        assert.deepStrictEqual(
          lessons.map((r) => r.record.namespace),
          ["team"]
        )
        assert.strictEqual(yield* memory.count({ namespace: "bob" }), 1)
        assert.strictEqual(yield* memory.count({ agent: "bob" }), 2)
      })
    )
  )

  it.effect("a where that would escape its parentheses is refused; one that stays inside them narrows", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        yield* memory.remember({ agent: "alice", kind: "fact", text: "alice (private) note" })
        yield* memory.remember({ agent: "bob", kind: "fact", text: "bob's note" })
        const escapes = [
          "true) OR (true",
          "true)) OR ((true",
          "/* ( */ true) OR (true /* ) */",
          "true) OR true --",
          "true; DELETE FROM memories",
          "text = 'unterminated"
        ]
        for (const where of escapes) {
          const listed = yield* Effect.flip(memory.list({ namespace: "alice", where }))
          assert.strictEqual(listed._tag, "MemoryError", where)
          assert.strictEqual((yield* Effect.flip(memory.count({ namespace: "alice", where })))._tag, "MemoryError")
          assert.strictEqual((yield* Effect.flip(memory.forget({ namespace: "alice", where })))._tag, "MemoryError")
          const recalled = yield* Effect.flip(memory.recall("note", { namespace: "alice", filter: { where } }))
          assert.strictEqual(recalled._tag, "InvalidRecallOptions", where)
        }
        assert.strictEqual(yield* memory.count({}), 2)
        // Parentheses and quotes inside string literals are the literal's own.
        assert.strictEqual(yield* memory.count({ namespace: "alice", where: "text LIKE '%(private)%'" }), 1)
        assert.strictEqual(yield* memory.count({ where: "text = 'bob''s note' OR (text LIKE '%)%')" }), 2)
        assert.strictEqual(yield* memory.count({ namespace: "bob", where: "(text LIKE '%(%')" }), 0)
      })
    )
  )

  it.effect("filters by metadata, time and importance", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        yield* memory.remember({ agent: "a", kind: "episode", text: "ran the tests", metadata: { repo: "api" } })
        yield* TestClock.adjust("1 hour")
        yield* memory.remember({
          agent: "a",
          kind: "episode",
          text: "ran the tests again",
          metadata: { repo: "web" },
          importance: 0.9
        })
        const api = yield* memory.recall("tests", { filter: { metadata: { repo: "api" } } })
        assert.deepStrictEqual(
          api.map((r) => r.record.text),
          ["ran the tests"]
        )
        assert.strictEqual(yield* memory.count({ createdAfter: 1000 }), 1)
        assert.strictEqual(yield* memory.count({ minImportance: 0.6 }), 1)
        assert.strictEqual(yield* memory.count({ where: "text LIKE '%again%'" }), 1)
      })
    )
  )

  it.effect("ranks a hand-made corpus by vector, BM25, recency and importance", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        const add = (text: string, importance = 0.5) => memory.remember({ agent: "a", kind: "fact", text, importance })
        yield* add("The payment service times out when the Redis cache is cold")
        yield* add("Deploys to production need an approval from the on-call engineer")
        yield* add("Error ZX-4471 means the signing certificate has expired")
        yield* add("Certificates are renewed automatically every sixty days")
        yield* add("The marketing site is a static build served from a CDN")
        // An exact rare code: BM25 finds it, and the hybrid score puts it first.
        const code = yield* memory.recall("what does ZX-4471 mean", { k: 3 })
        assert.strictEqual(code[0]!.record.text, "Error ZX-4471 means the signing certificate has expired")
        assert.strictEqual(code[0]!.scores.bm25, 1)
        // Vector similarity handles inflections the FTS index also stems; the unrelated text ranks last.
        const timeouts = yield* memory.recall("payment timeouts with a cold cache", { k: 5 })
        assert.strictEqual(timeouts[0]!.record.text, "The payment service times out when the Redis cache is cold")
        assert.isAbove(timeouts[0]!.scores.vector, timeouts[1]!.scores.vector)

        // Recency: the same text, older, ranks below the newer copy.
        yield* TestClock.adjust("14 days")
        yield* add("Flaky test: retry the websocket suite once")
        yield* TestClock.adjust("14 days")
        yield* add("Flaky test: retry the websocket suite once")
        const recent = yield* memory.recall("flaky websocket suite", { k: 2 })
        assert.isAbove(recent[0]!.record.createdAt, recent[1]!.record.createdAt)
        assert.strictEqual(recent[0]!.scores.recency, 1)
        assert.closeTo(recent[1]!.scores.recency, 0.25, 1e-9)

        // Importance: the same text at the same time, the more important copy first.
        yield* add("Rotate the API keys before the audit", 0.2)
        yield* add("Rotate the API keys before the audit", 0.95)
        const important = yield* memory.recall("rotate API keys", { k: 2 })
        assert.deepStrictEqual(
          important.map((r) => r.scores.importance),
          [0.95, 0.2]
        )

        // Weights change the order: with recency alone, the newest memories come first.
        const byRecency = yield* memory.recall("certificate", {
          k: 1,
          weights: { vector: 0, bm25: 0.0001, recency: 1, importance: 0 }
        })
        assert.strictEqual(byRecency[0]!.scores.vector, 0)
        assert.strictEqual(byRecency[0]!.record.text, "Certificates are renewed automatically every sixty days")
      })
    )
  )

  it.effect("forgets by id and by filter; an empty filter forgets nothing", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        const a = yield* memory.remember({ agent: "a", kind: "episode", text: "one" })
        yield* memory.remember({ agent: "a", kind: "episode", text: "two", metadata: { tmp: true } })
        yield* memory.remember({ agent: "b", kind: "fact", text: "three" })
        assert.strictEqual(yield* memory.forget({}), 0)
        assert.strictEqual(yield* memory.forget({ ids: [a.id] }), 1)
        assert.strictEqual(yield* memory.forget({ metadata: { tmp: true } }), 1)
        assert.strictEqual(yield* memory.forget({ ids: ["missing"] }), 0)
        assert.deepStrictEqual(
          (yield* memory.list()).map((r) => r.text),
          ["three"]
        )
        assert.strictEqual(yield* memory.forget({ agent: "b" }), 1)
        assert.strictEqual(yield* memory.count(), 0)
      })
    )
  )

  it.effect("exports JSONL", () =>
    withMemory((memory, dir) =>
      Effect.gen(function* () {
        yield* memory.remember({ agent: "a", kind: "fact", text: "first", metadata: { n: 1 } })
        yield* memory.remember({ agent: "a", kind: "fact", text: "second" })
        const file = join(dir, "out", "memory.jsonl")
        assert.strictEqual(yield* memory.exportJsonl(file), 2)
        const lines = readFileSync(file, "utf8").trimEnd().split("\n")
        assert.deepStrictEqual(
          lines.map((l) => JSON.parse(l).text),
          ["first", "second"]
        )
        assert.deepStrictEqual(JSON.parse(lines[0]!).metadata, { n: 1 })
      })
    )
  )

  it.effect("refuses vectors of another dimension with a typed error", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.gen(function* () {
        yield* (yield* Memory.Memory).remember({ agent: "a", kind: "fact", text: "384 dimensions" })
      }).pipe(Effect.provide(Memory.layerTest(dir)))
      // Declared dimensions are checked when the storage opens.
      const opened = yield* Layer.build(
        Memory.layer({ directory: dir }).pipe(Layer.provide(LocalEmbedder.layer({ dimensions: 64 })))
      ).pipe(Effect.flip)
      assert.strictEqual(opened._tag, "DimensionMismatch")
      // Undeclared dimensions are checked on every write and query.
      const undeclared = Layer.effect(EmbeddingModel.EmbeddingModel, LocalEmbedder.make({ dimensions: 64 }))
      const error = yield* Effect.gen(function* () {
        return yield* (yield* Memory.Memory).remember({ agent: "a", kind: "fact", text: "64 dimensions" })
      }).pipe(Effect.provide(Memory.layer({ directory: dir }).pipe(Layer.provide(undeclared))), Effect.flip)
      assert.strictEqual(error._tag, "DimensionMismatch")
      if (error._tag === "DimensionMismatch") {
        assert.strictEqual(error.expected, 384)
        assert.strictEqual(error.actual, 64)
      }
      const recallError = yield* Effect.gen(function* () {
        return yield* (yield* Memory.Memory).recall("anything")
      }).pipe(Effect.provide(Memory.layer({ directory: dir }).pipe(Layer.provide(undeclared))), Effect.flip)
      assert.strictEqual(recallError._tag, "DimensionMismatch")
    })
  )

  it.effect("refuses a table of another schema version", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.promise(async () => {
        const db = await lancedb.connect(dir)
        const schema = new arrow.Schema(
          [new arrow.Field("id", new arrow.Utf8(), false)],
          new Map([["troupe.memory.schema_version", "0"]])
        )
        await db.createEmptyTable(Memory.tableName, schema)
        db.close()
      })
      const error = yield* Layer.build(Memory.layerTest(dir)).pipe(Effect.flip)
      assert.strictEqual(error._tag, "SchemaVersionMismatch")
    })
  )

  it.effect("reads and writes a table of layout 1 (every field a column, no record column)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const utf8 = (name: string) => new arrow.Field(name, new arrow.Utf8(), false)
      const float = (name: string) => new arrow.Field(name, new arrow.Float64(), false)
      yield* Effect.promise(async () => {
        const db = await lancedb.connect(dir)
        const schema = new arrow.Schema(
          [
            ...["id", "agent", "namespace", "kind", "text", "metadata"].map(utf8),
            float("importance"),
            float("created_at"),
            utf8("provenance"),
            new arrow.Field(
              "vector",
              new arrow.FixedSizeList(384, new arrow.Field("item", new arrow.Float32(), true)),
              false
            )
          ],
          new Map([["troupe.memory.schema_version", "1"]])
        )
        const table = await db.createEmptyTable(Memory.tableName, schema)
        const text = "the nightly backup runs at 02:00 UTC"
        await table.add([
          {
            id: "mem_old",
            agent: "ops",
            namespace: "ops",
            kind: "fact",
            text,
            metadata: '{"source":"wiki"}',
            importance: 0.7,
            created_at: 5,
            provenance: '["mem_src"]',
            vector: LocalEmbedder.embed(text)
          }
        ])
        db.close()
      })
      yield* useMemory(dir, (memory) =>
        Effect.gen(function* () {
          const old = {
            id: "mem_old",
            agent: "ops",
            namespace: "ops",
            kind: "fact" as const,
            text: "the nightly backup runs at 02:00 UTC",
            metadata: { source: "wiki" },
            importance: 0.7,
            createdAt: 5,
            provenance: ["mem_src"]
          }
          assert.deepStrictEqual(yield* memory.list(), [old])
          yield* TestClock.adjust(10)
          const added = yield* memory.remember({ agent: "ops", kind: "fact", text: "restores are tested monthly" })
          assert.deepStrictEqual(
            (yield* memory.list()).map((r) => r.id),
            ["mem_old", added.id]
          )
          const [hit] = yield* memory.recall("when does the backup run?", { k: 1 })
          assert.deepStrictEqual(hit!.record, old)
        })
      )
      const columns = yield* Effect.promise(async () => {
        const db = await lancedb.connect(dir)
        const names = (await (await db.openTable(Memory.tableName)).schema()).fields.map((f) => f.name)
        db.close()
        return names
      })
      assert.notInclude(columns, "record")
    })
  )

  it.effect("restores a missing full-text index when it opens the table", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.gen(function* () {
        yield* (yield* Memory.Memory).remember({ agent: "a", kind: "fact", text: "the quarterly invoice run" })
      }).pipe(Effect.provide(Memory.layerTest(dir)))
      // What a crash between creating the table and indexing it leaves behind.
      yield* Effect.promise(async () => {
        const db = await lancedb.connect(dir)
        const table = await db.openTable(Memory.tableName)
        await table.dropIndex("text_idx")
        db.close()
      })
      yield* Effect.gen(function* () {
        const memory = yield* Memory.Memory
        assert.include((yield* memory.status).indices, "text_idx")
        const [hit] = yield* memory.recall("invoice", { weights: { vector: 0, bm25: 1, recency: 0, importance: 0 } })
        assert.isAbove(hit!.scores.bm25Raw, 0)
      }).pipe(Effect.provide(Memory.layerTest(dir)))
    })
  )

  it.effect("serialises concurrent writers without losing a write", () =>
    withMemory(
      (memory) =>
        Effect.gen(function* () {
          const written = yield* Effect.forEach(
            Array.from({ length: 40 }, (_, i) => i),
            (i) =>
              i % 4 === 0
                ? memory.rememberMany([
                    { agent: "w", kind: "episode", text: `batch ${i} a` },
                    { agent: "w", kind: "episode", text: `batch ${i} b` }
                  ])
                : memory.remember({ agent: "w", kind: "episode", text: `single ${i}` }).pipe(Effect.map((r) => [r])),
            { concurrency: "unbounded" }
          )
          const ids = written.flat().map((r) => r.id)
          assert.strictEqual(new Set(ids).size, 50)
          assert.strictEqual(yield* memory.count(), 50)
          assert.strictEqual((yield* memory.list({ ids })).length, 50)
        }),
      { optimizeEvery: 7 }
    )
  )

  it.effect("ranks on recency alone, newest first, when only the recency weight is set", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        yield* memory.remember({ agent: "a", kind: "fact", text: "oldest: the build uses gradle", importance: 1 })
        yield* TestClock.adjust("7 days")
        yield* memory.remember({ agent: "a", kind: "fact", text: "middle: the cache lives in redis" })
        yield* TestClock.adjust("7 days")
        yield* memory.remember({ agent: "a", kind: "fact", text: "newest: deploys happen on fridays", importance: 0 })
        // Half-life 7 days: ages 14, 7 and 0 days weigh 0.25, 0.5 and 1; the query plays no part.
        const recent = yield* memory.recall("kubernetes", {
          weights: { vector: 0, bm25: 0, recency: 1, importance: 0 }
        })
        assert.deepStrictEqual(
          recent.map((r) => [r.record.text.split(":")[0], r.scores.total, r.scores.recency, r.scores.vector]),
          [
            ["newest", 1, 1, 0],
            ["middle", 0.5, 0.5, 0],
            ["oldest", 0.25, 0.25, 0]
          ]
        )
        const two = yield* memory.recall("kubernetes", {
          k: 2,
          weights: { vector: 0, bm25: 0, recency: 1, importance: 0 }
        })
        assert.deepStrictEqual(
          two.map((r) => r.record.text.split(":")[0]),
          ["newest", "middle"]
        )
        // With importance beside it: (0.25 + 1) / 2 = 0.625, (1 + 0) / 2 = 0.5, (0.5 + 0.5) / 2 = 0.5, newer first.
        const mixed = yield* memory.recall("kubernetes", {
          weights: { vector: 0, bm25: 0, recency: 1, importance: 1 },
          filter: { kinds: ["fact"] }
        })
        assert.deepStrictEqual(
          mixed.map((r) => [r.record.text.split(":")[0], r.scores.total]),
          [
            ["oldest", 0.625],
            ["newest", 0.5],
            ["middle", 0.5]
          ]
        )
      })
    )
  )

  it.effect("lets namespace and kinds of a recall take precedence over the filter's", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        yield* memory.remember({ agent: "x", namespace: "alpha", kind: "fact", text: "alpha deploy checklist" })
        yield* memory.remember({ agent: "x", namespace: "beta", kind: "fact", text: "beta deploy checklist" })
        yield* memory.remember({ agent: "x", namespace: "beta", kind: "lesson", text: "beta deploy lesson" })
        const hits = yield* memory.recall("deploy checklist", { namespace: "alpha", filter: { namespace: "beta" } })
        assert.deepStrictEqual(
          hits.map((h) => h.record.text),
          ["alpha deploy checklist"]
        )
        const lessons = yield* memory.recall("deploy", { kinds: ["lesson"], filter: { kinds: ["fact"] } })
        assert.deepStrictEqual(
          lessons.map((h) => h.record.text),
          ["beta deploy lesson"]
        )
      })
    )
  )

  it.effect("returns 8 memories by default and refuses a k, weight or list limit out of range", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        yield* memory.rememberMany(
          Array.from({ length: 12 }, (_, i) => ({ agent: "a", kind: "fact" as const, text: `runbook entry ${i}` }))
        )
        assert.strictEqual((yield* memory.recall("runbook entry")).length, 8)
        assert.strictEqual((yield* memory.recall("runbook entry", { k: 1000 })).length, 12)
        for (const k of [Number.NaN, 0, -1, 1.5, 1001, Number.POSITIVE_INFINITY]) {
          const error = yield* memory.recall("runbook entry", { k }).pipe(Effect.flip)
          assert.strictEqual(error._tag, "InvalidRecallOptions", `k = ${k}`)
        }
        for (const limit of [Number.NaN, -1, 2.5]) {
          const error = yield* memory.list({}, limit).pipe(Effect.flip)
          assert.include(error.message, "limit must be a non-negative integer", `limit = ${limit}`)
        }
        assert.strictEqual((yield* memory.list({}, 3)).length, 3)
        for (const options of [
          { candidates: 0 },
          { weights: { vector: -1 } },
          { weights: { bm25: Number.NaN } }
        ] as const) {
          const error = yield* memory.recall("runbook entry", options).pipe(Effect.flip)
          assert.strictEqual(error._tag, "InvalidRecallOptions", JSON.stringify(options))
        }
      })
    )
  )

  it.effect("skips and reports stored rows that do not decode, and reads the rest", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* useMemory(dir, (memory) =>
        memory.rememberMany([
          { agent: "a", kind: "fact", text: "the invoice service retries twice" },
          { agent: "a", kind: "fact", text: "invoices are archived after a year" },
          { agent: "a", kind: "episode", text: "an invoice export timed out" }
        ])
      )
      // Rows written past this module: a record of an unknown kind, and a record that is not JSON.
      yield* Effect.promise(async () => {
        const db = await lancedb.connect(dir)
        const table = await db.openTable(Memory.tableName)
        const bad = (id: string, record: string) => ({
          id,
          agent: "a",
          namespace: "a",
          kind: "fact",
          text: "invoice invoice invoice",
          metadata: "{}",
          importance: 0.5,
          created_at: 0,
          provenance: "[]",
          vector: LocalEmbedder.embed("invoice invoice invoice"),
          record
        })
        const rumour = { id: "bad_kind", agent: "a", namespace: "a", kind: "rumour", text: "invoice invoice invoice" }
        await table.add([
          bad("bad_kind", JSON.stringify({ ...rumour, metadata: {}, importance: 0.5, createdAt: 0, provenance: [] })),
          bad("bad_json", "{not json")
        ])
        db.close()
      })
      const logs: Array<Captured> = []
      yield* useMemory(dir, (memory) =>
        Effect.gen(function* () {
          assert.deepStrictEqual(
            (yield* memory.list()).map((r) => r.text),
            ["the invoice service retries twice", "invoices are archived after a year", "an invoice export timed out"]
          )
          const hits = yield* memory.recall("invoice", { k: 2 })
          assert.strictEqual(hits.length, 2)
          for (const hit of hits) assert.notStrictEqual(hit.record.text, "invoice invoice invoice")
          assert.strictEqual(yield* memory.exportJsonl(join(dir, "export.jsonl")), 3)
          // `count` counts stored rows, readable or not.
          assert.strictEqual(yield* memory.count(), 5)
          assert.strictEqual(yield* memory.forget({ ids: ["bad_kind", "bad_json"] }), 2)
          assert.strictEqual((yield* memory.list()).length, 3)
        }).pipe(captureLogs(logs))
      )
      const warnings = logs.filter((l) => l.level === "Warn")
      assert.deepStrictEqual(
        warnings.map((w) => [w.annotations.operation, w.annotations.skipped, w.annotations.ids]),
        // Recall reads no id column: it names a row by the id inside its record, when that parses.
        [
          ["list", 2, "bad_kind,bad_json"],
          ["recall", 2, "bad_kind,(no id)"],
          ["list", 2, "bad_kind,bad_json"]
        ]
      )
    })
  )

  it.live(
    "keeps every acknowledged write, and nothing twice, when the writing process is killed",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const ackedOf = (lines: ReadonlyArray<string>) =>
          lines.filter((l) => l.startsWith("ack ")).map((l) => l.slice(4))
        const run = yield* runFixture("writer", [dir, "forever"], { killWhen: (lines) => ackedOf(lines).length >= 60 })
        assert.strictEqual(run.signal, "SIGKILL", `the writer exited by itself: ${run.stderr}`)
        const acked = ackedOf(run.lines)
        yield* useMemory(dir, (memory) =>
          Effect.gen(function* () {
            const stored = (yield* memory.list()).map((r) => r.id)
            assert.strictEqual(new Set(stored).size, stored.length)
            const missing = acked.filter((id) => !stored.includes(id))
            assert.deepStrictEqual(missing, [])
            // Beyond the acknowledged writes, at most the one write in flight (a batch of 3) may have landed.
            assert.isAtMost(stored.length - acked.length, 3)
            // The table is writable after the crash.
            yield* memory.remember({ agent: "writer", kind: "episode", text: "after the crash" })
            assert.strictEqual((yield* memory.recall("after the crash", { k: 1 }))[0]!.record.text, "after the crash")
          })
        )
      }),
    30_000
  )
})
