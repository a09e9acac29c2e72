import { assert, describe, it } from "@effect/vitest"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import * as Effect from "effect/Effect"
import * as LocalEmbedder from "../src/LocalEmbedder.ts"

const norm = (v: ReadonlyArray<number>) => Math.sqrt(v.reduce((s, x) => s + x * x, 0))

describe("LocalEmbedder", () => {
  it("is deterministic", () => {
    const a = LocalEmbedder.embed("The deployment failed because the disk was full")
    const b = LocalEmbedder.embed("The deployment failed because the disk was full")
    assert.deepStrictEqual(a, b)
  })

  it("returns unit vectors of the default dimension", () => {
    for (const text of ["hello", "Rust borrow checker errors", "naïve café ñandú 42", "a b c d e f g"]) {
      const v = LocalEmbedder.embed(text)
      assert.strictEqual(v.length, 384)
      assert.closeTo(norm(v), 1, 1e-9)
    }
  })

  it("embeds text without words to the zero vector", () => {
    const v = LocalEmbedder.embed("  ... !!! ")
    assert.strictEqual(v.length, 384)
    assert.strictEqual(norm(v), 0)
  })

  it("places similar texts closer than unrelated ones", () => {
    const q = LocalEmbedder.embed("postgres connection pool exhausted")
    const near = LocalEmbedder.embed("the Postgres connection pool was exhausted under load")
    const typo = LocalEmbedder.embed("postgress conection pools exhausted")
    const far = LocalEmbedder.embed("my favourite colour is green and I like hiking")
    assert.isAbove(LocalEmbedder.cosine(q, near), LocalEmbedder.cosine(q, far) + 0.3)
    assert.isAbove(LocalEmbedder.cosine(q, typo), LocalEmbedder.cosine(q, far) + 0.2)
    assert.isBelow(Math.abs(LocalEmbedder.cosine(q, far)), 0.15)
  })

  it("honours the dimension option", () => {
    const v = LocalEmbedder.embed("dimension option", { dimensions: 64 })
    assert.strictEqual(v.length, 64)
    assert.closeTo(norm(v), 1, 1e-9)
  })

  it.effect("serves as an EmbeddingModel with its Dimensions", () =>
    Effect.gen(function* () {
      const model = yield* EmbeddingModel.EmbeddingModel
      const dims = yield* EmbeddingModel.Dimensions
      const one = yield* model.embed("remember the milk")
      const many = yield* model.embedMany(["remember the milk", "forget the bread"])
      assert.strictEqual(dims, 128)
      assert.strictEqual(one.vector.length, 128)
      assert.deepStrictEqual(one.vector, many.embeddings[0]!.vector)
      assert.deepStrictEqual(many.embeddings[1]!.vector, LocalEmbedder.embed("forget the bread", { dimensions: 128 }))
    }).pipe(Effect.provide(LocalEmbedder.layer({ dimensions: 128 })))
  )
})
