/**
 * `pnpm bench <name> [--json]`: runs `scripts/bench/<name>.ts`.
 *
 * Each benchmark prints a readable table; with `--json` the last line of stdout is one JSON object.
 * Benchmarks run with `--expose-gc` so heap figures are taken after a full collection.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const [name, ...rest] = process.argv.slice(2)
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "index.ts" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))

if (name === undefined || !available.includes(name)) {
  console.error(`usage: pnpm bench <name> [--json]\navailable: ${available.join(", ")}`)
  process.exit(2)
}
const result = spawnSync(process.execPath, ["--expose-gc", join(here, `${name}.ts`), ...rest], { stdio: "inherit" })
process.exit(result.status ?? 1)
