/**
 * The names of the Mixture of Providers' strategies, apart from `Mixture` so that a command line can offer them
 * (`troupe --strategy`) without loading the mixture and the adapters behind it (`pnpm bench cli`).
 */

/** The names of the strategies, as configurations write them (`--strategy`, a spec's `mixture.strategy`). */
export const strategyNames = ["weighted-score", "first-valid", "quorum", "fallback"] as const
