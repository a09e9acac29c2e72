/**
 * `pnpm bench spec`: time to load and decode each built-in agent spec (read + YAML parse + env interpolation +
 * schema decode with defaults), in microseconds per file, median and p99 over many runs.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { SpecLoader } from "@troupe/agent-spec"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Path from "effect/Path"
import { LineCounter, parseDocument } from "yaml"
import { quantile, report } from "./_report.ts"

const agents = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "agents")
const files = readdirSync(agents)
  .filter((f) => f.endsWith(".yaml") && f !== "team.yaml")
  .sort()
const layer = Layer.mergeAll(
  FileSystem.layerNoop({ readFileString: (path) => Effect.sync(() => readFileSync(path, "utf8")) }),
  Path.layer
)
const context = Effect.runSync(Layer.build(layer).pipe(Effect.scoped))
const runs = 2_000
const warmup = 200

const figures: Record<string, { p50: number; p99: number }> = {}
const rows: Array<[string, string]> = []
const all: Array<number> = []
for (const file of files) {
  const path = join(agents, file)
  const load = SpecLoader.loadAgent(path).pipe(Effect.provideContext(context))
  for (let i = 0; i < warmup; i++) Effect.runSync(load)
  const samples: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    Effect.runSync(load)
    samples.push(Number(process.hrtime.bigint() - start) / 1_000)
  }
  samples.sort((a, b) => a - b)
  all.push(...samples)
  const p50 = quantile(samples, 0.5)
  const p99 = quantile(samples, 0.99)
  figures[file] = { p50: Math.round(p50), p99: Math.round(p99) }
  rows.push([file, `p50 ${p50.toFixed(0)} µs   p99 ${p99.toFixed(0)} µs`])
}
all.sort((a, b) => a - b)

// Baseline in the same run: reading the file and parsing it with positions, the part no loader can skip.
const parseOnly: Array<number> = []
for (const file of files) {
  const path = join(agents, file)
  const parse = () => parseDocument(readFileSync(path, "utf8"), { lineCounter: new LineCounter() })
  for (let i = 0; i < warmup; i++) parse()
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    parse()
    parseOnly.push(Number(process.hrtime.bigint() - start) / 1_000)
  }
}
parseOnly.sort((a, b) => a - b)
const p50All = quantile(all, 0.5)
const p50Parse = quantile(parseOnly, 0.5)
rows.push(["all nine", `p50 ${p50All.toFixed(0)} µs   p99 ${quantile(all, 0.99).toFixed(0)} µs`])
rows.push([
  "baseline: read + yaml parse",
  `p50 ${p50Parse.toFixed(0)} µs   (loader = ${(p50All / p50Parse).toFixed(2)}×)`
])
report(
  `spec load+decode per file (${runs} runs each after ${warmup} warm-up, Node ${process.version})`,
  {
    runs,
    perFile: figures,
    p50AllUs: Math.round(p50All),
    p99AllUs: Math.round(quantile(all, 0.99)),
    baseline_parse_p50_us: Math.round(p50Parse),
    loader_vs_parse: p50All / p50Parse
  },
  rows
)
