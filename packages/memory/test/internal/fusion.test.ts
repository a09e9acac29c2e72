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
    assert.deepStrictEqual(
      vectorHeavy.map((r) => [r.scores.bm25, r.scores.bm25Raw, r.scores.total]),
      [
        [0, 0, 0.75],
        [0, 0, 0]
      ]
    )
    const textOnly = Fusion.fuse([candidate("a", { bm25: 2 }), candidate("b", { bm25: 6 })], options)
    assert.deepStrictEqual(
      textOnly.map((r) => [r.candidate.id, r.scores.vector, r.scores.cosine, r.scores.bm25, r.scores.total]),
      [
        ["b", 0, 0, 1, 0.5],
        ["a", 0, 0, 0, 0]
      ]
    )
  })

  it("normalises each search over the candidates it scored only", () => {
    const ranked = Fusion.fuse(
      [
        candidate("low", { cosine: 0.2, bm25: 2 }),
        candidate("high", { cosine: 0.6, bm25: 6 }),
        candidate("unscored", { cosine: undefined, bm25: undefined })
      ],
      options
    )
    assert.deepStrictEqual(
      ranked.map((r) => [r.candidate.id, r.scores.vector, r.scores.bm25, r.scores.cosine, r.scores.bm25Raw]),
      [
        ["high", 1, 1, 0.6, 6],
        ["low", 0, 0, 0.2, 2],
        ["unscored", 0, 0, 0, 0]
      ]
    )
  })

  it("scores equal values 1 when positive and 0 otherwise", () => {
    const positive = Fusion.fuse(
      [candidate("a", { cosine: 0.3, bm25: 4 }), candidate("b", { cosine: 0.3, bm25: 4 })],
      options
    )
    assert.deepStrictEqual(
      positive.map((r) => [r.scores.vector, r.scores.bm25, r.scores.total]),
      [
        [1, 1, 1],
        [1, 1, 1]
      ]
    )
    const zero = Fusion.fuse(
      [candidate("a", { cosine: 0, bm25: 0 }), candidate("b", { cosine: -0.2, bm25: 0 })],
      options
    )
    assert.deepStrictEqual(
      zero.map((r) => [r.candidate.id, r.scores.vector, r.scores.bm25]),
      [
        ["a", 1, 0],
        ["b", 0, 0]
      ]
    )
    const lone = Fusion.fuse([candidate("a", { cosine: 0, bm25: 0 })], options)
    assert.deepStrictEqual([lone[0]!.scores.vector, lone[0]!.scores.bm25], [0, 0])
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

  it("counts a memory from the future as new, and no half-life as no decay", () => {
    const ranked = Fusion.fuse([candidate("future", { createdAt: 3000 }), candidate("past", { createdAt: 0 })], {
      weights: { vector: 0, bm25: 0, recency: 1, importance: 0 },
      now: 1000,
      halfLifeMs: 1000
    })
    assert.deepStrictEqual(
      ranked.map((r) => [r.candidate.id, r.scores.recency]),
      [
        ["future", 1],
        ["past", 0.5]
      ]
    )
    const flat = Fusion.fuse([candidate("old", { createdAt: 0 })], {
      weights: { vector: 0, bm25: 0, recency: 1, importance: 0 },
      now: 10_000,
      halfLifeMs: 0
    })
    assert.deepStrictEqual([flat[0]!.scores.recency, flat[0]!.scores.total], [1, 1])
  })

  it("scores 0 when every weight is 0", () => {
    const ranked = Fusion.fuse([candidate("a", { cosine: 0.9, importance: 1 }), candidate("b", { createdAt: 1 })], {
      weights: { vector: 0, bm25: 0, recency: 0, importance: 0 },
      now: 0,
      halfLifeMs: 1000
    })
    assert.deepStrictEqual(
      ranked.map((r) => [r.candidate.id, r.scores.total]),
      [
        ["b", 0],
        ["a", 0]
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
