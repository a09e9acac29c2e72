/**
 * Shared output for benchmarks: a readable table, or with `--json` one JSON object as the last line.
 */
export const wantsJson = (argv: ReadonlyArray<string> = process.argv): boolean => argv.includes("--json")

/** Prints rows as an aligned two-column table followed, with `--json`, by the JSON object as the last line. */
export const report = (title: string, figures: Record<string, unknown>, rows: ReadonlyArray<[string, string]>) => {
  const width = Math.max(...rows.map(([k]) => k.length))
  console.log(title)
  console.log("-".repeat(title.length))
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`)
  if (wantsJson()) console.log(JSON.stringify(figures))
}

/** The q-quantile (0..1) of a sample, by nearest rank. */
export const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
