import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Memory from "../../src/Memory.ts"
import { awaitUpkeep, tempDir, useMemory, withMemory } from "../support.ts"

const topics = ["kafka consumer lag", "terraform state lock", "nginx upstream timeout", "jwt clock skew"]
const documents = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    agent: "a",
    kind: "document" as const,
    text: `note ${from + i} about ${topics[(from + i) % topics.length]} in service ${(from + i) % 37}`
  }))

const ids = (hits: ReadonlyArray<{ readonly record: { readonly id: string } }>) => hits.map((h) => h.record.id)

// Recall through the index must give what exact search gives, for every query. IVF_PQ compares quantised distances
// (refined for the best candidates) and its training samples at random: there, 4 of the exact 5 must be found.
const assertExact = (memory: Memory.Service, queries: ReadonlyArray<string>, quantised = false) =>
  Effect.forEach(queries, (query) =>
    Effect.gen(function* () {
      const indexed = yield* memory.recall(query, { k: 5 })
      const exact = yield* memory.recall(query, { k: 5, exact: true })
      assert.strictEqual(indexed.length, 5)
      if (!quantised) return assert.deepStrictEqual(ids(indexed), ids(exact), query)
      const found = ids(indexed).filter((id) => ids(exact).includes(id))
      assert.isAtLeast(found.length, 4, query)
    })
  )

describe("index upkeep", () => {
  for (const vectorIndex of ["ivf_flat", "ivf_pq"] as const) {
    it.live(`builds the ${vectorIndex} index in the background past the threshold and keeps recall exact`, () =>
      withMemory(
        (memory) =>
          Effect.gen(function* () {
            yield* memory.rememberMany(documents(0, 600))
            const status = yield* awaitUpkeep(memory, 1)
            assert.isTrue(status.vectorIndexed, JSON.stringify(status))
            assert.include(status.indices, "text_idx")
            assert.strictEqual(status.rows, 600)
            assert.strictEqual(status.vectorIndexRows, 600)
            const hits = yield* memory.recall("terraform state lock in service 5", { k: 5 })
            for (const hit of hits) assert.include(hit.record.text, "terraform state lock")
            yield* assertExact(
              memory,
              ["terraform state lock in service 5", "jwt clock skew", "kafka lag service 12"],
              vectorIndex === "ivf_pq"
            )

            // Rows written after the last pass are in no index yet, and both searches still find them.
            yield* memory.remember({ agent: "a", kind: "fact", text: "brand new zookeeper quorum note" })
            assert.strictEqual((yield* memory.status).upkeep.pendingRows, 1)
            const byVector = yield* memory.recall("zookeeper quorum", {
              k: 1,
              weights: { vector: 1, bm25: 0, recency: 0, importance: 0 }
            })
            assert.strictEqual(byVector[0]!.record.text, "brand new zookeeper quorum note")
            const byText = yield* memory.recall("zookeeper", {
              k: 1,
              weights: { vector: 0, bm25: 1, recency: 0, importance: 0 }
            })
            assert.strictEqual(byText[0]!.record.text, "brand new zookeeper quorum note")
            assert.isAbove(byText[0]!.scores.bm25Raw, 0)
          }),
        { indexThreshold: 500, optimizeEvery: 100, vectorIndex }
      )
    )
  }

  it.live("keeps recall exact while a pass runs and after it, for rows written since the index was built", () =>
    withMemory(
      (memory) =>
        Effect.gen(function* () {
          yield* memory.rememberMany(documents(0, 600))
          yield* awaitUpkeep(memory, 1)
          const queries = ["nginx upstream timeout in service 3", "note 640 about jwt", "kafka consumer lag"]
          yield* memory.rememberMany(documents(600, 300))
          // The pass these rows woke runs (or has just run) while these recalls are answered.
          yield* assertExact(memory, queries)
          const after = yield* awaitUpkeep(memory, 2)
          assert.strictEqual(after.upkeep.pendingRows, 0)
          assert.strictEqual(after.rows, 900)
          yield* assertExact(memory, queries)
          const newest = yield* memory.recall("note 899 about jwt clock skew in service 11", { k: 1 })
          assert.strictEqual(newest[0]!.record.text, "note 899 about jwt clock skew in service 11")
        }),
      { indexThreshold: 500, optimizeEvery: 100 }
    )
  )

  it.live("retrains the vector index when the table has quadrupled", () =>
    withMemory(
      (memory) =>
        Effect.gen(function* () {
          const trained = [] as Array<number>
          for (let batch = 0; batch < 4; batch++) {
            yield* memory.rememberMany(documents(300 * batch, 300))
            trained.push((yield* awaitUpkeep(memory, batch + 1)).vectorIndexRows)
          }
          // Built at 300 rows, kept at 600 and 900, retrained at 1,200 = 4 × 300.
          assert.deepStrictEqual(trained, [300, 300, 300, 1200])
        }),
      { indexThreshold: 300, optimizeEvery: 300 }
    )
  )

  it.live("closes cleanly in the middle of a pass, and the store reopens whole", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        Memory.layerTest(dir, { indexThreshold: 300, optimizeEvery: 300 }),
        scope
      )
      const memory = Context.get(context, Memory.Memory)
      yield* memory.rememberMany(documents(0, 400))
      yield* memory.status.pipe(
        Effect.flatMap((s) => (s.upkeep.running || s.upkeep.runs > 0 ? Effect.void : Effect.fail("not yet"))),
        Effect.retry({ while: (e) => e === "not yet" })
      )
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.exit)
      assert.isTrue(Exit.isSuccess(closed))
      yield* useMemory(dir, (reopened) =>
        Effect.gen(function* () {
          assert.strictEqual(yield* reopened.count(), 400)
          const [hit] = yield* reopened.recall("note 123 about", { k: 1 })
          assert.strictEqual(hit!.record.text, "note 123 about jwt clock skew in service 12")
        })
      )
    })
  )
})
