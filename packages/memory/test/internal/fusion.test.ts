import { assert, describe, it } from "@effect/vitest"
import * as Fusion from "../../src/internal/fusion.ts"

const candidate = (
  id: string,
  fields: Partial<Omit<Fusion.Candidate<string>, "id" | "row">> = {}
): Fusion.Candidate<string> => ({
  id,
  importance: 0.5,
  createdAt: 0,
  cosine: undefined,
  bm25: undefined,
  row: id,
  ...fields
})

const options = { weights: { vector: 1, bm25: 1, recency: 0, importance: 0 }, now: 0, halfLifeMs: 1000 }

describe("fusion", () => {
  it("min-max normalises each search over the candidates and weighs them", () => {
    const ranked = Fusion.fuse(
      [
        candidate("a", { cosine: 0.75, bm25: 0 }),
        candidate("b", { cosine: 0.25, bm25: 12 }),
        candidate("c", { cosine: 0.5, bm25: 6 })
      ],
      { ...options, weights: { vector: 2, bm25: 1, recency: 0, importance: 0 } }
    )
    assert.deepStrictEqual(
      ranked.map((r) => [r.candidate.id, r.scores.vector, r.scores.bm25, r.scores.cosine, r.scores.bm25Raw]),
      [
        ["a", 1, 0, 0.75, 0],
        ["c", 0.5, 0.5, 0.5, 6],
        ["b", 0, 1, 0.25, 12]
      ]
    )
    assert.deepStrictEqual(
      ranked.map((r) => Number(r.scores.total.toFixed(6))),
      [0.666667, 0.5, 0.333333]
    )
  })

  it("lets the weights decide and reports 0 for a search that did not run", () => {
    const vectorHeavy = Fusion.fuse([candidate("a", { cosine: 0.9 }), candidate("b", { cosine: 0.2 })], {
      ...options,
      weights: { vector: 3, bm25: 1, recency: 0, importance: 0 }
    })
    assert.deepStrictEqual(
      vectorHeavy.map((r) => r.candidate.id),
      ["a", "b"]
    )
    assert.strictEqual(vectorHeavy[0]!.scores.bm25, 0)
    assert.strictEqual(vectorHeavy[0]!.scores.total, 0.75)
  })

  it("decays recency by half-lives and clamps importance", () => {
    const ranked = Fusion.fuse(
      [candidate("old", { createdAt: 0, importance: 7 }), candidate("new", { createdAt: 2000, importance: -1 })],
      { weights: { vector: 0, bm25: 0, recency: 1, importance: 1 }, now: 2000, halfLifeMs: 1000 }
    )
    assert.deepStrictEqual(
      ranked.map((r) => [r.candidate.id, r.scores.recency, r.scores.importance, r.scores.total]),
      [
        ["old", 0.25, 1, 0.625],
        ["new", 1, 0, 0.5]
      ]
    )
  })

  it("breaks ties by recency, then id", () => {
    const ranked = Fusion.fuse([candidate("b"), candidate("a"), candidate("c", { createdAt: 5 })], options)
    assert.deepStrictEqual(
      ranked.map((r) => r.candidate.id),
      ["c", "a", "b"]
    )
  })
})
