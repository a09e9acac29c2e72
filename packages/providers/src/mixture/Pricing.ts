/**
 * Model prices in USD per million input and output tokens, and the cost of one call.
 *
 * The built-in table holds list prices of common models as the providers published them; prices change, so
 * pass your own table (`merge(defaults, { "my-model": { input: 1, output: 2 } })`) to the `ProviderPool`.
 * A model missing from the table has no known cost: its calls are counted in tokens and reported with
 * `costUsd: undefined`, never as free.
 */
import * as Schema from "effect/Schema"

/** The price of one model in USD per million tokens. */
export const Price = Schema.Struct({
  input: Schema.Finite,
  output: Schema.Finite
})

/** The price of one model in USD per million tokens. */
export type Price = typeof Price.Type

/** Prices by model id. A key ending in `*` matches every model id with that prefix. */
export const PriceTable = Schema.Record(Schema.String, Price)

/** Prices by model id. */
export type PriceTable = typeof PriceTable.Type

/** List prices of common models (USD per million tokens). Local models (Ollama) cost nothing. */
export const defaults: PriceTable = {
  "gpt-5": { input: 1.25, output: 10 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "o3-mini": { input: 1.1, output: 4.4 },
  "claude-haiku-4-*": { input: 1, output: 5 },
  "claude-3-5-haiku-latest": { input: 0.8, output: 4 },
  "claude-3-5-sonnet-latest": { input: 3, output: 15 },
  "claude-sonnet-4-*": { input: 3, output: 15 },
  "claude-opus-4-*": { input: 15, output: 75 },
  "gemini-2.0-flash": { input: 0.1, output: 0.4 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5 },
  "gemini-2.5-pro": { input: 1.25, output: 10 }
}

/** A table whose entries of `overrides` replace those of `base`. */
export const merge = (base: PriceTable, overrides: PriceTable): PriceTable => ({ ...base, ...overrides })

/** The price of `model`: an exact entry first, then the longest matching `prefix*` entry. */
export const lookup = (table: PriceTable, model: string): Price | undefined => {
  const exact = table[model]
  if (exact !== undefined) return exact
  let best: { readonly length: number; readonly price: Price } | undefined
  for (const [key, price] of Object.entries(table)) {
    if (!key.endsWith("*")) continue
    const prefix = key.slice(0, -1)
    if (model.startsWith(prefix) && (best === undefined || prefix.length > best.length)) {
      best = { length: prefix.length, price }
    }
  }
  return best?.price
}

/** The cost in USD of a call to `model` that used these tokens, or undefined when the model has no price. */
export const cost = (
  table: PriceTable,
  model: string,
  inputTokens: number,
  outputTokens: number
): number | undefined => {
  const price = lookup(table, model)
  if (price === undefined) return undefined
  return (inputTokens * price.input + outputTokens * price.output) / 1_000_000
}
