import { assert, describe, it } from "@effect/vitest"
import * as lancedb from "@lancedb/lancedb"
import * as Effect from "effect/Effect"
import * as Write from "../../src/internal/write.ts"
import * as Memory from "../../src/Memory.ts"
import { runFixture, tempDir, useMemory, withMemory } from "../support.ts"

const acked = (lines: ReadonlyArray<string>) => lines.filter((l) => l.startsWith("ack ")).map((l) => l.slice(4))

// Two writer processes start together on an empty store, each writing 60 records, then read until they see all 120.
const twoWriters = Effect.scoped(
  Effect.gen(function* () {
    const dir = yield* tempDir
    const perWriter = 60
    const [a, b] = yield* Effect.all(
      [
        runFixture("writer", [dir, "count", String(perWriter), "alpha", String(2 * perWriter)]),
        runFixture("writer", [dir, "count", String(perWriter), "beta", String(2 * perWriter)])
      ],
      { concurrency: 2 }
    )
    for (const run of [a, b]) {
      assert.strictEqual(run.code, 0, run.stderr)
      // Each process reads the other's writes too, within the refresh interval.
      // (Other lines are upkeep passes that lost a race with the other process, logged as warnings.)
      assert.deepStrictEqual(
        run.lines.filter((l) => l === "done" || l.startsWith("saw ")),
        ["done", `saw ${2 * perWriter}`],
        run.stderr
      )
      assert.strictEqual(acked(run.lines).length, perWriter)
    }
    yield* useMemory(dir, (memory) =>
      Effect.gen(function* () {
        const all = yield* memory.list()
        assert.strictEqual(all.length, 2 * perWriter)
        assert.strictEqual(yield* memory.count(), 2 * perWriter)
        assert.deepStrictEqual(all.map((r) => r.id).sort(), [...acked(a.lines), ...acked(b.lines)].sort())
        assert.strictEqual(new Set(all.map((r) => r.text)).size, 2 * perWriter)
        assert.strictEqual(yield* memory.count({ agent: "alpha" }), perWriter)
        assert.strictEqual(yield* memory.count({ agent: "beta" }), perWriter)
      })
    )
  })
)

describe("writes", () => {
  // Two rounds: the races (creating the table and its FTS index, compacting) go either way at random.
  it.live(
    "two processes writing to one store keep every record exactly once",
    () => Effect.forEach([1, 2], () => twoWriters, { discard: true }),
    120_000
  )

  it.effect("stores a memory with a chosen id once, however often it is written", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        const first = yield* memory.remember({ id: "run-7:step-3", agent: "a", kind: "episode", text: "deployed v2" })
        assert.strictEqual(first.id, "run-7:step-3")
        const again = yield* memory.remember({ id: "run-7:step-3", agent: "a", kind: "episode", text: "other text" })
        assert.deepStrictEqual(again, first)
        const batch = yield* memory.rememberMany([
          { id: "run-7:step-3", agent: "a", kind: "episode", text: "third try" },
          { id: "run-7:step-4", agent: "a", kind: "episode", text: "rolled back v2" },
          { id: "run-7:step-4", agent: "a", kind: "episode", text: "same id twice in one call" },
          { agent: "a", kind: "episode", text: "no id" }
        ])
        assert.deepStrictEqual(
          batch.map((r) => r.text),
          ["deployed v2", "rolled back v2", "rolled back v2", "no id"]
        )
        assert.strictEqual(yield* memory.count(), 3)
        assert.deepStrictEqual(
          (yield* memory.list()).map((r) => r.text),
          // Same creation time: by id, and generated ids (`mem_...`) sort before these chosen ones.
          ["no id", "deployed v2", "rolled back v2"]
        )
      })
    )
  )

  it.live("a write retried after its commit landed does not store the rows twice", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* useMemory(dir, (memory) => memory.remember({ agent: "a", kind: "fact", text: "seed" }))
      // What a commit that landed but reported a conflict leaves: the row is stored, and the write runs again.
      const db = yield* Effect.promise(() => lancedb.connect(dir))
      const table = yield* Effect.promise(() => db.openTable(Memory.tableName))
      const [row] = yield* Effect.promise(() => table.query().limit(1).toArray())
      const copy = { ...row, id: "mem_copy", vector: Array.from(row.vector.toArray() as Float32Array) }
      const calls = { add: 0 }
      const flaky = new Proxy(table, {
        get: (target, key) =>
          key === "add"
            ? (data: Array<Record<string, unknown>>) => {
                calls.add++
                return target
                  .add(data)
                  .then(() =>
                    calls.add === 1 ? Promise.reject(new Error("Retryable commit conflict for version 9")) : undefined
                  )
              }
            : Reflect.get(target, key)
      })
      yield* Write.commit(flaky, [copy], { byId: false })
      assert.strictEqual(calls.add, 1)
      assert.strictEqual(yield* Effect.promise(() => table.countRows("id = 'mem_copy'")), 1)
      table.close()
      db.close()
    })
  )
})
