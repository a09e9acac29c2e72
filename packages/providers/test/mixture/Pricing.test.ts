import { assert, describe, it } from "@effect/vitest"
import * as Pricing from "../../src/mixture/Pricing.ts"

describe("Pricing", () => {
  it("prices a call per million input and output tokens", () => {
    assert.closeTo(Pricing.cost(Pricing.defaults, "gpt-4o", 1_000_000, 1_000_000) ?? 0, 12.5, 1e-9)
    assert.closeTo(Pricing.cost(Pricing.defaults, "gpt-4o-mini", 2000, 1000) ?? 0, 0.0009, 1e-12)
  })

  it("matches prefix entries, preferring the longest and exact entries", () => {
    const table = Pricing.merge(Pricing.defaults, {
      "claude-*": { input: 1, output: 1 },
      "claude-sonnet-4-5": { input: 9, output: 9 }
    })
    assert.deepStrictEqual(Pricing.lookup(table, "claude-sonnet-4-20250514"), { input: 3, output: 15 })
    assert.deepStrictEqual(Pricing.lookup(table, "claude-instant"), { input: 1, output: 1 })
    assert.deepStrictEqual(Pricing.lookup(table, "claude-sonnet-4-5"), { input: 9, output: 9 })
  })

  it("leaves unknown models without a cost instead of calling them free", () => {
    assert.isUndefined(Pricing.cost(Pricing.defaults, "my-local-model", 10, 10))
  })

  it("lets the user override a price", () => {
    const table = Pricing.merge(Pricing.defaults, { "gpt-4o": { input: 1, output: 2 } })
    assert.closeTo(Pricing.cost(table, "gpt-4o", 1_000_000, 1_000_000) ?? 0, 3, 1e-9)
  })
})
