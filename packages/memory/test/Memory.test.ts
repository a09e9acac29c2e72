import { spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as lancedb from "@lancedb/lancedb"
import { LocalEmbedder } from "@troupe/providers"
import * as arrow from "apache-arrow"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/testing/TestClock"
import * as KnowledgeBase from "../src/KnowledgeBase.ts"
import * as Memory from "../src/Memory.ts"
import { scriptedModel, tempDir } from "./_helpers.ts"

const withMemory = <A, E>(
  f: (memory: Memory.Service, dir: string) => Effect.Effect<A, E>,
  options: Omit<Memory.Options, "directory"> = {}
) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    return yield* Effect.gen(function* () {
      return yield* f(yield* Memory.Memory, dir)
    }).pipe(Effect.provide(Memory.layerTest(dir, options)))
  })

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
        const w = Memory.defaultWeights
        assert.closeTo(
          scores.total,
          w.vector * scores.vector +
            w.bm25 * scores.bm25 +
            w.recency * scores.recency +
            w.importance * scores.importance,
          1e-9
        )
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

  it.effect("consolidates old episodes into a lesson that keeps their ids as provenance", () =>
    Effect.gen(function* () {
      const prompts = yield* Ref.make<ReadonlyArray<string>>([])
      const model = yield* scriptedModel("Warm the cache before load tests.", prompts)
      yield* withMemory((memory) =>
        Effect.gen(function* () {
          const old = yield* Effect.forEach(["cache was cold", "load test failed", "warmed cache, passed"], (text) =>
            memory.remember({ agent: "ops", kind: "episode", text, importance: 0.4 })
          )
          yield* memory.remember({ agent: "ops", kind: "fact", text: "facts are not consolidated" })
          yield* TestClock.adjust("2 days")
          const fresh = yield* memory.remember({ agent: "ops", kind: "episode", text: "today's episode" })
          const lessons = yield* memory
            .consolidate({ namespace: "ops", olderThan: "1 day" })
            .pipe(Effect.provideService(LanguageModel.LanguageModel, model))
          assert.strictEqual(lessons.length, 1)
          const lesson = lessons[0]!
          assert.strictEqual(lesson.kind, "lesson")
          assert.strictEqual(lesson.text, "Warm the cache before load tests.")
          assert.deepStrictEqual([...lesson.provenance].sort(), old.map((r) => r.id).sort())
          const sent = yield* Ref.get(prompts)
          assert.strictEqual(sent.length, 1)
          for (const text of ["cache was cold", "load test failed", "warmed cache, passed"])
            assert.include(sent[0]!, text)
          const remaining = yield* memory.list({ namespace: "ops" })
          assert.deepStrictEqual(
            remaining.map((r) => r.id).sort(),
            [lesson.id, fresh.id, remaining.find((r) => r.kind === "fact")!.id].sort()
          )
          const [stored] = yield* memory.list({ ids: [lesson.id] })
          assert.deepStrictEqual(stored!.provenance, lesson.provenance)
        })
      )
    })
  )

  it.effect("consolidates in batches and can keep the originals", () =>
    Effect.gen(function* () {
      const prompts = yield* Ref.make<ReadonlyArray<string>>([])
      const model = yield* scriptedModel("Batch lesson.", prompts)
      yield* withMemory((memory) =>
        Effect.gen(function* () {
          const episodes = yield* memory.rememberMany(
            Array.from({ length: 5 }, (_, i) => ({ agent: "ops", kind: "episode" as const, text: `episode ${i}` }))
          )
          yield* memory.remember({ agent: "ops", namespace: "other", kind: "episode", text: "elsewhere" })
          yield* TestClock.adjust("2 hours")
          const lessons = yield* memory
            .consolidate({ namespace: "ops", olderThan: "1 hour", batchSize: 2, keepOriginals: true, agent: "curator" })
            .pipe(Effect.provideService(LanguageModel.LanguageModel, model))
          assert.deepStrictEqual(
            lessons.map((l) => l.provenance),
            [[episodes[0]!.id, episodes[1]!.id], [episodes[2]!.id, episodes[3]!.id], [episodes[4]!.id]]
          )
          assert.deepStrictEqual(
            lessons.map((l) => l.agent),
            ["curator", "curator", "curator"]
          )
          assert.strictEqual((yield* Ref.get(prompts)).length, 3)
          assert.strictEqual(yield* memory.count({ kinds: ["episode"] }), 6)
          assert.strictEqual(yield* memory.count({ namespace: "ops", kinds: ["lesson"] }), 3)
        })
      )
    })
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

  for (const vectorIndex of ["ivf_flat", "ivf_pq"] as const) {
    it.effect(`builds the ${vectorIndex} index past the threshold and keeps recall right`, () =>
      withMemory(
        (memory) =>
          Effect.gen(function* () {
            const topics = ["kafka consumer lag", "terraform state lock", "nginx upstream timeout", "jwt clock skew"]
            yield* memory.rememberMany(
              Array.from({ length: 600 }, (_, i) => ({
                agent: "a",
                kind: "document" as const,
                text: `note ${i} about ${topics[i % topics.length]} in service ${i % 37}`
              }))
            )
            const status = yield* memory.status
            assert.isTrue(status.vectorIndexed)
            assert.include(status.indices, "text_idx")
            assert.strictEqual(status.rows, 600)
            const hits = yield* memory.recall("terraform state lock in service 5", { k: 5 })
            assert.strictEqual(hits.length, 5)
            for (const hit of hits) assert.include(hit.record.text, "terraform state lock")
            const exact = yield* memory.recall("terraform state lock in service 5", { k: 5, exact: true })
            assert.deepStrictEqual(
              hits.map((h) => h.record.id),
              exact.map((h) => h.record.id)
            )
            // Rows written after the index are searchable before the next refresh.
            yield* memory.remember({ agent: "a", kind: "fact", text: "brand new zookeeper quorum note" })
            const fresh = yield* memory.recall("zookeeper quorum", { k: 1 })
            assert.strictEqual(fresh[0]!.record.text, "brand new zookeeper quorum note")
          }),
        { indexThreshold: 500, optimizeEvery: 100, vectorIndex }
      )
    )
  }

  it.effect("retrains the vector index when the table has quadrupled", () =>
    withMemory(
      (memory) =>
        Effect.gen(function* () {
          const batch = (from: number) =>
            memory.rememberMany(
              Array.from({ length: 300 }, (_, i) => ({
                agent: "a",
                kind: "episode" as const,
                text: `growth note ${from + i}`
              }))
            )
          yield* batch(0)
          assert.strictEqual((yield* memory.status).vectorIndexRows, 300)
          yield* batch(300)
          yield* batch(600)
          assert.strictEqual((yield* memory.status).vectorIndexRows, 300)
          yield* batch(900)
          assert.strictEqual((yield* memory.status).vectorIndexRows, 1200)
        }),
      { indexThreshold: 300, optimizeEvery: 300 }
    )
  )

  it.live(
    "keeps every acknowledged write when the writing process is killed",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const script = fileURLToPath(new URL("./fixtures/writer.ts", import.meta.url))
        // The workspace's pinned Node 24 (type stripping), wherever the checkout lives.
        const node = fileURLToPath(new URL("../../../node_modules/.bin/node", import.meta.url))
        const acked = yield* Effect.callback<ReadonlyArray<string>, Error>((resume) => {
          const child = spawn(node, [script, dir], { stdio: ["ignore", "pipe", "pipe"] })
          const ids: Array<string> = []
          let buffer = ""
          let stderr = ""
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString()
          })
          child.stdout.on("data", (chunk: Buffer) => {
            buffer += chunk.toString()
            const lines = buffer.split("\n")
            buffer = lines.pop()!
            for (const line of lines) if (line.startsWith("ack ")) ids.push(line.slice(4))
            if (ids.length >= 60 && child.exitCode === null) child.kill("SIGKILL")
          })
          child.on("exit", (_code, signal) => {
            if (signal === "SIGKILL") resume(Effect.succeed(ids))
            else resume(Effect.fail(new Error(`writer exited without being killed: ${stderr}`)))
          })
          return Effect.sync(() => child.kill("SIGKILL"))
        })
        assert.isAtLeast(acked.length, 60)
        yield* Effect.gen(function* () {
          const memory = yield* Memory.Memory
          const found = yield* memory.list({ ids: acked })
          assert.strictEqual(found.length, acked.length)
          assert.isAtLeast(yield* memory.count(), acked.length)
          // The table is writable after the crash.
          yield* memory.remember({ agent: "writer", kind: "episode", text: "after the crash" })
          assert.strictEqual((yield* memory.recall("after the crash", { k: 1 }))[0]!.record.text, "after the crash")
        }).pipe(Effect.provide(Memory.layerTest(dir)))
      }),
    30_000
  )
})
