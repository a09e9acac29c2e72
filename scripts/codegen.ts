/**
 * `pnpm codegen`: writes the generated files (the JSON Schema of agent specs and team files, `agents/agent.schema.json`).
 *
 * With `--check` it writes nothing and exits 1 when a generated file is stale, so CI can fail on it.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { JsonSchema } from "@troupe/agent-spec"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const outputs: ReadonlyArray<[string, string]> = [["agents/agent.schema.json", JsonSchema.agentSchemaText()]]
const check = process.argv.includes("--check")
let stale = 0
for (const [file, text] of outputs) {
  const target = join(root, file)
  let current: string | undefined
  try {
    current = readFileSync(target, "utf8")
  } catch {
    current = undefined
  }
  if (current === text) continue
  if (check) {
    console.error(`${file} is stale: run pnpm codegen`)
    stale++
  } else {
    writeFileSync(target, text)
    console.log(`wrote ${file}`)
  }
}
if (stale > 0) process.exit(1)
