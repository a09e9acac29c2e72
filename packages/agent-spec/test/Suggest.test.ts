import { assert, describe, it } from "@effect/vitest"
import * as Suggest from "../src/internal/suggest.ts"

describe("suggest", () => {
  it("counts insertions, deletions, substitutions and swaps as one edit each", () => {
    assert.strictEqual(Suggest.distance("model", "model"), 0)
    assert.strictEqual(Suggest.distance("modl", "model"), 1)
    assert.strictEqual(Suggest.distance("modle", "model"), 1)
    assert.strictEqual(Suggest.distance("mdoel", "model"), 1)
    assert.strictEqual(Suggest.distance("Model", "model"), 0)
    assert.strictEqual(Suggest.distance("kitten", "sitting"), 3)
  })

  it("stops at a bound: any distance over max is max + 1", () => {
    assert.strictEqual(Suggest.distance("kitten", "sitting", 3), 3)
    assert.strictEqual(Suggest.distance("kitten", "sitting", 2), 3)
    assert.strictEqual(Suggest.distance("kitten", "sitting", 0), 1)
    assert.strictEqual(Suggest.distance("abcdef", "badcfe", 3), 3)
    assert.strictEqual(Suggest.distance("abcdef", "badcfe", 2), 3)
    assert.strictEqual(Suggest.distance("x".repeat(10_000), "model", 3), 4)
    assert.strictEqual(Suggest.distance("mdoel", "model", 1), 1)
    // Letters one has more of than the other count too.
    assert.strictEqual(Suggest.distance("aaab", "abbb", 1), 2)
    assert.strictEqual(Suggest.distance("aaab", "abbb"), 2)
  })

  it("suggests only plausible typos", () => {
    const keys = ["name", "description", "persona", "maxSteps", "maxTokens", "max_cost"]
    assert.strictEqual(Suggest.closest("descripton", keys), "description")
    assert.strictEqual(Suggest.closest("maxstep", keys), "maxSteps")
    assert.strictEqual(Suggest.closest("max-cost", keys), "max_cost")
    assert.isUndefined(Suggest.closest("zzz", keys))
    assert.isUndefined(Suggest.closest("goals", keys))
    assert.strictEqual(Suggest.didYouMean("nmae", keys), ' (did you mean "name"?)')
    assert.strictEqual(Suggest.didYouMean("qqqq", keys), "")
  })

  it("looks at the first few hundred candidates only", () => {
    const many = Array.from({ length: Suggest.maxCandidates }, (_, i) => `name-${i}`)
    assert.strictEqual(Suggest.closest("nmae-7", [...many, "other"]), "name-7")
    assert.isUndefined(Suggest.closest("othre", [...many, "other"]))
    assert.strictEqual(Suggest.closest("othre", [...many.slice(1), "other"]), "other")
  })
})
