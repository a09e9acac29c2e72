/**
 * `pnpm bench spec`: time to load and decode each built-in agent spec (stat + bounded read + YAML parse + env
 * interpolation + schema decode with defaults), in microseconds per file, median and p99 over many runs; then the
 * same for a generated spec of 40,000 keys (valid) and one of 40,000 unknown keys (invalid: fifty problems and a
 * count), in milliseconds, each against a plain read and YAML parse of the same file in the same run.
 *
 * Files are read synchronously (`node:fs` behind effect's `FileSystem`), so the figures are the loader's own work
 * and the syscalls of its bounded read, not event-loop turns.
 */
import * as NodeFs from "node:fs"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { SpecLoader } from "@troupe/agent-spec"
import * as ByteSize from "effect/ByteSize"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "effect/Path"
import * as PlatformError from "effect/PlatformError"
import { LineCounter, parseDocument } from "yaml"
import { quantile, report } from "./_report.ts"

const agents = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "agents")
const files = readdirSync(agents)
  .filter((f) => f.endsWith(".yaml") && f !== "team.yaml")
  .sort()

const failed = (method: string) => (cause: unknown) =>
  PlatformError.systemError({ _tag: "Unknown", module: "FileSystem", method, cause })

const info = (stats: NodeFs.Stats): FileSystem.File.Info => ({
  type: stats.isFile() ? "File" : stats.isDirectory() ? "Directory" : "Unknown",
  mtime: Option.none(),
  atime: Option.none(),
  birthtime: Option.none(),
  dev: BigInt(stats.dev),
  ino: Option.none(),
  mode: stats.mode,
  nlink: Option.none(),
  uid: Option.none(),
  gid: Option.none(),
  rdev: Option.none(),
  size: ByteSize.bytes(stats.size),
  blksize: Option.none(),
  blocks: Option.none()
})

const syncFile = (fd: number): FileSystem.File => {
  let position = 0
  return {
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    stat: Effect.try({ try: () => info(NodeFs.fstatSync(fd)), catch: failed("stat") }),
    readAlloc: (size: number) =>
      Effect.try({
        try: () => {
          const buffer = new Uint8Array(size)
          const read = NodeFs.readSync(fd, buffer, 0, size, position)
          position += read
          return read === 0 ? Option.none() : Option.some(buffer.subarray(0, read))
        },
        catch: failed("readAlloc")
      })
  } as unknown as FileSystem.File
}

const layer = Layer.mergeAll(
  FileSystem.layerNoop({
    stat: (path) => Effect.try({ try: () => info(NodeFs.statSync(path)), catch: failed("stat") }),
    open: (path) =>
      Effect.acquireRelease(Effect.try({ try: () => NodeFs.openSync(path, "r"), catch: failed("open") }), (fd) =>
        Effect.sync(() => NodeFs.closeSync(fd))
      ).pipe(Effect.map(syncFile))
  }),
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

// Baseline in the same run: reading the file and parsing it with positions, the part no loader can skip. The yaml
// package's own duplicate-key check compares each key with every earlier one (minutes for 40k keys); the loader
// turns it off and checks with a set, so the baseline turns it off too.
const plainParse = (path: string) =>
  parseDocument(readFileSync(path, "utf8"), { lineCounter: new LineCounter(), uniqueKeys: false })
const parseOnly: Array<number> = []
for (const file of files) {
  const path = join(agents, file)
  const parse = () => plainParse(path)
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

// Generated specs of 40,000 keys, over the default size limit (about 1 MB): the limit is raised for them.
const keys = 40_000
const bigRuns = 5
const dir = mkdtempSync(join(tmpdir(), "troupe-bench-spec-"))
const generated = {
  keys40k: `name: big\ntools:\n  - shell_run:\n      env:\n${Array.from({ length: keys }, (_, i) => `        K${i}: v${i}\n`).join("")}`,
  unknownKeys40k: `name: big\n${Array.from({ length: keys }, (_, i) => `k${i}: ${i}\n`).join("")}`
}
const big: Record<string, { bytes: number; load_p50_ms: number; parse_p50_ms: number; loader_vs_parse: number }> = {}
const millis = (f: () => unknown) => {
  const start = process.hrtime.bigint()
  f()
  return Number(process.hrtime.bigint() - start) / 1e6
}
try {
  for (const [name, text] of Object.entries(generated)) {
    const path = join(dir, `${name}.yaml`)
    writeFileSync(path, text)
    const load = SpecLoader.load(path, { maxFileBytes: 4 * SpecLoader.maxFileBytes }).pipe(
      Effect.exit,
      Effect.provideContext(context)
    )
    const parse = () => plainParse(path)
    // The two alternate, so that both see the same machine.
    millis(() => Effect.runSync(load))
    millis(parse)
    const loads: Array<number> = []
    const parses: Array<number> = []
    for (let i = 0; i < bigRuns; i++) {
      loads.push(millis(() => Effect.runSync(load)))
      parses.push(millis(parse))
    }
    loads.sort((a, b) => a - b)
    parses.sort((a, b) => a - b)
    const loadMs = quantile(loads, 0.5)
    const parseMs = quantile(parses, 0.5)
    big[name] = {
      bytes: Buffer.byteLength(text),
      load_p50_ms: Math.round(loadMs),
      parse_p50_ms: Math.round(parseMs),
      loader_vs_parse: loadMs / parseMs
    }
    rows.push([
      `${name === "keys40k" ? "40k keys, valid" : "40k unknown keys"} (${Math.round(Buffer.byteLength(text) / 1024)} KB)`,
      `p50 ${loadMs.toFixed(0)} ms   read + yaml parse ${parseMs.toFixed(0)} ms   (loader = ${(loadMs / parseMs).toFixed(2)}×)`
    ])
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

report(
  `spec load+decode per file (${runs} runs each after ${warmup} warm-up; generated specs ${bigRuns} runs; Node ${process.version})`,
  {
    runs,
    perFile: figures,
    p50AllUs: Math.round(p50All),
    p99AllUs: Math.round(quantile(all, 0.99)),
    baseline_parse_p50_us: Math.round(p50Parse),
    loader_vs_parse: p50All / p50Parse,
    ...big
  },
  rows
)
