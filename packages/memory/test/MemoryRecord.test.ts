import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { NewMemory } from "../src/MemoryRecord.ts"
import { withMemory } from "./support.ts"

const valid: NewMemory = { agent: "a", kind: "fact", text: "a valid memory" }

// Inputs a caller can build past the types (from JSON, from a model's tool call), each with what is wrong in it.
const invalid: ReadonlyArray<[string, unknown]> = [
  ["unknown kind", { ...valid, kind: "rumour" }],
  ["importance above 1", { ...valid, importance: 1.5 }],
  ["importance below 0", { ...valid, importance: -0.1 }],
  ["importance NaN", { ...valid, importance: Number.NaN }],
  ["importance infinite", { ...valid, importance: Number.POSITIVE_INFINITY }],
  ["empty text", { ...valid, text: "" }],
  ["blank text", { ...valid, text: " \n\t " }],
  ["text not a string", { ...valid, text: 42 }],
  ["text over 65,536 characters", { ...valid, text: "x".repeat(65_537) }],
  ["empty agent", { ...valid, agent: "" }],
  ["empty namespace", { ...valid, namespace: "" }],
  ["metadata not JSON", { ...valid, metadata: { size: 10n } }],
  ["metadata over 16,384 characters of JSON", { ...valid, metadata: { note: "y".repeat(16_400) } }],
  ["provenance not strings", { ...valid, provenance: [1, 2] }],
  ["id with spaces", { ...valid, id: "my id" }],
  ["id over 128 characters", { ...valid, id: "i".repeat(129) }]
]

describe("MemoryRecord", () => {
  it.effect("refuses each kind of invalid memory with InvalidMemory, writing nothing", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        for (const [why, input] of invalid) {
          const error = yield* memory.remember(input as NewMemory).pipe(Effect.flip)
          assert.strictEqual(error._tag, "InvalidMemory", why)
          if (error._tag === "InvalidMemory") assert.strictEqual(error.index, 0, why)
        }
        assert.strictEqual(yield* memory.count(), 0)
      })
    )
  )

  it.effect("refuses a whole batch for one invalid memory, naming its position", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        const error = yield* memory.rememberMany([valid, valid, { ...valid, importance: 2 }, valid]).pipe(Effect.flip)
        assert.strictEqual(error._tag, "InvalidMemory")
        if (error._tag === "InvalidMemory") {
          assert.strictEqual(error.index, 2)
          assert.include(error.message, "importance")
        }
        assert.strictEqual(yield* memory.count(), 0)
      })
    )
  )

  it.effect("accepts the limits themselves", () =>
    withMemory((memory) =>
      Effect.gen(function* () {
        const stored = yield* memory.rememberMany([
          { ...valid, importance: 0 },
          { ...valid, importance: 1 },
          { ...valid, text: `${"word ".repeat(13_107)}x` },
          { ...valid, id: "i".repeat(128), metadata: { note: "y".repeat(16_370) } }
        ])
        assert.deepStrictEqual(
          stored.map((r) => [r.importance, r.text.length]),
          [
            [0, 14],
            [1, 14],
            [0.5, 65_536],
            [0.5, 14]
          ]
        )
        assert.strictEqual(yield* memory.count(), 4)
      })
    )
  )
})
