import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@troupe/memory"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TeamMemory from "../src/TeamMemory.ts"
import { tempDir } from "./support.ts"

const store = Layer.unwrap(Effect.map(tempDir("troupe-team-memory-"), (dir) => Memory.layerTest(dir)))

describe("TeamMemory", () => {
  it.live("each agent reads its own namespace and the team's; another's only through a grant", () =>
    Effect.gen(function* () {
      const memory = yield* Memory.Memory
      const backend = TeamMemory.view(memory, { agent: "backend", own: "backend" })
      const reviewer = TeamMemory.view(memory, { agent: "reviewer", own: "reviewer" })
      const granted = TeamMemory.view(memory, { agent: "auditor", own: "auditor", grants: ["backend"] })
      yield* backend.remember({ agent: "backend", kind: "lesson", text: "Run the migrations before the API tests" })
      yield* backend.remember({
        agent: "backend",
        kind: "fact",
        namespace: "team",
        text: "The API listens on port 8080"
      })
      yield* reviewer.remember({ agent: "reviewer", kind: "lesson", text: "Reviews start from the tests" })

      const texts = (hits: ReadonlyArray<{ readonly record: { readonly text: string } }>) =>
        hits.map((h) => h.record.text).sort()
      assert.deepStrictEqual(texts(yield* reviewer.recall("API tests port", { k: 10 })), [
        "Reviews start from the tests",
        "The API listens on port 8080"
      ])
      // Asking for another agent's namespace outright yields nothing, whether as an option or in a filter.
      assert.deepStrictEqual(yield* reviewer.recall("migrations", { namespace: "backend" }), [])
      assert.deepStrictEqual(yield* reviewer.list({ namespace: ["backend"] }), [])
      assert.strictEqual(yield* reviewer.count(), 2)
      // A grant opens the backend's namespace to the auditor, and to it alone.
      assert.include(texts(yield* granted.recall("migrations", { k: 10 })), "Run the migrations before the API tests")
      assert.strictEqual(yield* granted.count(), 2)
      // Writes reach only the agent's own namespace and the team's.
      const refused = yield* Effect.flip(
        reviewer.remember({ agent: "reviewer", kind: "fact", namespace: "backend", text: "planted" })
      )
      assert.strictEqual(refused._tag, "MemoryError")
      assert.strictEqual(yield* reviewer.forget({ namespace: "backend", kinds: ["lesson"] }), 0)
      // A raw predicate could widen the namespace condition (the store joins predicates as text): refused.
      const widened = yield* Effect.flip(reviewer.list({ where: "true) OR (true" }))
      assert.strictEqual(widened._tag, "MemoryError")
      assert.strictEqual((yield* Effect.flip(reviewer.forget({ where: "true) OR (true" })))._tag, "MemoryError")
      assert.strictEqual(yield* memory.count({ namespace: "backend" }), 1)
    }).pipe(Effect.scoped, Effect.provide(store))
  )
})
