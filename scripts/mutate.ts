/**
 * `pnpm mutate [--json] [--module NAME] [--max N] [--seed N] [--root DIR] [--typecheck project|file|off] [--list]`:
 * mutation testing of the modules whose tests must be able to fail — supervision and actor cells (runtime),
 * redaction, retry and the mixture strategies (providers), fusion and the knowledge base (memory).
 *
 * For each module it runs the module's tests once unmodified (and stops if they fail), then takes a seeded,
 * deterministic sample of `--max` mutants (default 20) that type-check, writes each into its source file in turn,
 * runs the tests with `--bail 1` and a timeout of 3× the unmodified run (a mutant that hangs counts as killed),
 * and puts the original back every time — also on Ctrl-C (exit 130) and, through a journal under
 * `node_modules/.cache/troupe-mutate/`, after a run that was killed outright. It prints per module the mutants,
 * killed (timeouts included), survived, timed out, invalid (rejected by the type check, not counted) and
 * score = killed / (killed + survived), then each surviving mutant as file:line with the change, which is the
 * test to write. With `--json` the last line of stdout is one JSON object
 * `{ modules: { NAME: { mutants, killed, survived, timedOut, invalid, score, survivors } }, total: { ..., score } }`
 * with scores as fractions (0.85 = 85%). Progress goes to stderr. `--list` prints the sample without running.
 *
 * Mutants are written into the tree the script runs on, so that anyone running tests in that checkout meanwhile
 * sees them: run it on a copy (`git worktree add ../mutate-tree HEAD`, `pnpm install --offline` there, then
 * `pnpm mutate --root ../mutate-tree`), which is what `--root` is for.
 *
 * Why not StrykerJS: `@stryker-mutator/vitest-runner` 10.1 declares `vitest >= 2` and so admits vitest 5.1, but it
 * would add Stryker's core and its ~25 direct dependencies to the workspace lockfile, and its type checker
 * (`@stryker-mutator/typescript-checker`) drives the classic `typescript` compiler API, which TypeScript 7's
 * native package no longer ships, so type-invalid mutants could not be told apart. This tool parses and
 * type-checks with TypeScript 7's own API (`typescript/unstable/sync`, a `tsgo` server with mutated files
 * served from memory), which checks a mutant in milliseconds without touching the disk, and runs the tests
 * through the same vitest command as `pnpm test`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import type { Mutant } from "./mutate/mutants.ts"
import { apply, generate } from "./mutate/mutants.ts"
import { prepare, run, withMutant } from "./mutate/sandbox.ts"
import type { Depth } from "./mutate/typecheck.ts"
import { open } from "./mutate/typecheck.ts"

/** A module under mutation: source files (a directory and a file-name pattern each) and the tests that guard them. */
interface Module {
  readonly name: string
  readonly pkg: string
  readonly project: string
  readonly sources: ReadonlyArray<readonly [dir: string, pattern: RegExp]>
  /** Test files or folders under the package; empty runs the whole project. */
  readonly tests: ReadonlyArray<string>
}

const modules: ReadonlyArray<Module> = [
  {
    name: "runtime",
    pkg: "runtime",
    project: "runtime",
    sources: [["src/internal", /^(supervisor\w*|restarts|cell\w*)\.ts$/]],
    tests: []
  },
  {
    name: "providers",
    pkg: "providers",
    project: "providers",
    sources: [
      ["src", /^(ProviderError|Retry)\.ts$/],
      ["src/internal", /^redact\w*\.ts$/],
      ["src/mixture/internal", /^(fallback|firstValid|quorum|weightedScore|strategy|hedge)\.ts$/]
    ],
    tests: ["test/ProviderError.test.ts", "test/Retry.test.ts", "test/mixture/"]
  },
  {
    name: "memory",
    pkg: "memory",
    project: "memory",
    sources: [
      ["src/internal", /^fusion\.ts$/],
      ["src", /^KnowledgeBase\.ts$/]
    ],
    tests: ["test/internal/fusion.test.ts", "test/KnowledgeBase.test.ts"]
  }
]

const usage = `usage: pnpm mutate [--json] [--module NAME]... [--max N] [--seed N] [--root DIR] [--typecheck project|file|off] [--list]
modules: ${modules.map((m) => m.name).join(", ")}`

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    module: { type: "string", multiple: true },
    max: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    root: { type: "string" },
    typecheck: { type: "string", default: "project" },
    list: { type: "boolean", default: false },
    help: { type: "boolean", default: false }
  },
  strict: true
})
const fail = (message: string, code = 2): never => {
  console.error(message)
  process.exit(code)
}
if (args.help) {
  console.log(usage)
  process.exit(0)
}
const max = Number(args.max)
const seed = Number(args.seed)
const depth = args.typecheck as Depth
if (!Number.isInteger(max) || max < 1) fail(`--max must be a positive integer\n${usage}`)
if (!Number.isInteger(seed)) fail(`--seed must be an integer\n${usage}`)
if (!["project", "file", "off"].includes(depth)) fail(`--typecheck must be project, file or off\n${usage}`)
const wanted = (args.module ?? []).flatMap((m) => m.split(",")).filter((m) => m !== "")
for (const m of wanted) if (!modules.some((x) => x.name === m)) fail(`unknown module ${m}\n${usage}`)
const selected = wanted.length === 0 ? modules : modules.filter((m) => wanted.includes(m.name))

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(args.root ?? join(here, ".."))
const vitest = join(root, "node_modules", "vitest", "vitest.mjs")
if (!existsSync(vitest)) fail(`${vitest} not found: run pnpm install in ${root} first`)
if (args.root === undefined && !args.list)
  console.error(
    `note: mutants are written into ${root} itself; anyone running tests there meanwhile sees them. ` +
      "A copy is safer: git worktree add ../mutate-tree HEAD && (cd ../mutate-tree && pnpm install --offline), then --root ../mutate-tree"
  )
for (const file of prepare(root)) console.error(`restored ${file}, left mutated by an interrupted run`)

/** A seeded PRNG (mulberry32): the same seed and sources give the same sample. */
const prng = (s: number) => () => {
  s = (s + 0x6d2b79f5) | 0
  let t = Math.imul(s ^ (s >>> 15), 1 | s)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const hash = (s: string): number => {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h
}
const shuffled = <A>(xs: ReadonlyArray<A>, s: number): Array<A> => {
  const out = [...xs]
  const random = prng(s)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

interface Survivor {
  readonly file: string
  readonly line: number
  readonly operator: string
  readonly before: string
  readonly after: string
}
interface Tally {
  candidates: number
  mutants: number
  killed: number
  survived: number
  timedOut: number
  invalid: number
  seconds: number
  survivors: Array<Survivor>
}
const score = (t: { killed: number; survived: number }): number | null =>
  t.killed + t.survived === 0 ? null : Math.round((1000 * t.killed) / (t.killed + t.survived)) / 1000
const pct = (s: number | null): string => (s === null ? "-" : `${(100 * s).toFixed(1)}%`)
const change = (m: { before: string; after: string }): string => `\`${m.before}\` → \`${m.after}\``

const testArgv = (m: Module): Array<string> => {
  const tests = m.tests.map((t) => `packages/${m.pkg}/${t}`).filter((t) => existsSync(join(root, t)))
  return [
    vitest,
    "run",
    "--config",
    "vitest.workspace.ts",
    "--project",
    m.project,
    "--bail",
    "1",
    "--reporter",
    "dot",
    ...tests
  ]
}

const sourcesOf = (m: Module): Array<string> =>
  m.sources.flatMap(([dir, pattern]) => {
    const abs = join(root, "packages", m.pkg, dir)
    return existsSync(abs)
      ? readdirSync(abs)
          .filter((f) => pattern.test(f))
          .sort()
          .map((f) => join(abs, f))
      : []
  })

const started = performance.now()
const tallies = new Map<string, Tally>()

for (const m of selected) {
  const moduleStarted = performance.now()
  const tally: Tally = {
    candidates: 0,
    mutants: 0,
    killed: 0,
    survived: 0,
    timedOut: 0,
    invalid: 0,
    seconds: 0,
    survivors: []
  }
  tallies.set(m.name, tally)
  const sources = sourcesOf(m)
  if (sources.length === 0) {
    console.error(`${m.name}: no source files found, skipped`)
    continue
  }
  const argv = testArgv(m)
  let timeoutMs = 0
  if (!args.list) {
    console.error(`${m.name}: running its tests unmutated (${argv.slice(6).join(" ")})`)
    const baseline = await run(root, argv, 10 * 60_000)
    if (baseline.outcome !== "passed") {
      console.error(baseline.tail)
      fail(`${m.name}: the tests fail (or hang) without any mutant, so mutants cannot be judged: fix them first.`, 1)
    }
    // Under load a run can take longer than the baseline: never less than 15 s.
    timeoutMs = Math.max(3 * baseline.ms, 15_000)
    console.error(
      `${m.name}: baseline ${(baseline.ms / 1000).toFixed(1)} s, timeout ${(timeoutMs / 1000).toFixed(0)} s`
    )
  }
  const checker = open(root, join(root, "packages", m.pkg, "tsconfig.json"))
  const originals = new Map<string, string>()
  const all: Array<Mutant> = []
  for (const abs of sources) {
    const sf = checker.sourceFile(abs)
    originals.set(abs, sf.text)
    if (readFileSync(abs, "utf8") !== sf.text) fail(`${abs} changed while being read`, 1)
    all.push(...generate(sf, relative(root, abs).split("\\").join("/")))
  }
  tally.candidates = all.length
  console.error(`${m.name}: type-checking a seeded sample of the ${all.length} candidate mutants`)
  const sample: Array<Mutant> = []
  for (const mutant of shuffled(all, hash(m.name) ^ seed)) {
    if (sample.length >= max) break
    const abs = join(root, mutant.file)
    const problem = checker.check(abs, apply(originals.get(abs)!, mutant), depth)
    if (problem === undefined) sample.push(mutant)
    else tally.invalid++
  }
  checker.close()
  console.error(
    `${m.name}: sampled ${sample.length} mutants from ${sources.length} files; ${tally.invalid} rejected by the type check`
  )
  for (const [i, mutant] of sample.entries()) {
    const where = `${mutant.file}:${mutant.line}`
    if (args.list) {
      console.log(`${where}  ${mutant.operator}  ${change(mutant)}`)
      continue
    }
    const abs = join(root, mutant.file)
    const original = originals.get(abs)!
    const result = await withMutant(abs, original, apply(original, mutant), () => run(root, argv, timeoutMs))
    tally.mutants++
    if (result.outcome === "passed") {
      tally.survived++
      tally.survivors.push({
        file: mutant.file,
        line: mutant.line,
        operator: mutant.operator,
        before: mutant.before,
        after: mutant.after
      })
    } else {
      tally.killed++
      if (result.outcome === "timeout") tally.timedOut++
    }
    const verdict = result.outcome === "passed" ? "SURVIVED" : result.outcome === "timeout" ? "timeout " : "killed  "
    console.error(
      `[${m.name} ${i + 1}/${sample.length}] ${verdict} ${where} ${mutant.operator} ${change(mutant)} (${(result.ms / 1000).toFixed(1)} s)`
    )
  }
  tally.seconds = Math.round((performance.now() - moduleStarted) / 1000)
}

if (!args.list) {
  const rows = [...tallies].map(([name, t]) => [
    name,
    String(t.mutants),
    String(t.killed),
    String(t.survived),
    String(t.timedOut),
    String(t.invalid),
    pct(score(t)),
    `${t.seconds} s`
  ])
  const header = ["module", "mutants", "killed", "survived", "timed out", "invalid", "score", "time"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  console.log(`Mutation testing (seed ${seed}, up to ${max} mutants per module)`)
  console.log(line(header))
  for (const r of rows) console.log(line(r))
  for (const [name, t] of tallies) {
    if (t.survivors.length === 0) continue
    console.log(`\nsurviving mutants in ${name} (each one is a missing test):`)
    for (const s of t.survivors) console.log(`  ${s.file}:${s.line}  ${s.operator}  ${change(s)}`)
  }
  const total = { mutants: 0, killed: 0, survived: 0, timedOut: 0, invalid: 0 }
  for (const t of tallies.values()) {
    total.mutants += t.mutants
    total.killed += t.killed
    total.survived += t.survived
    total.timedOut += t.timedOut
    total.invalid += t.invalid
  }
  const seconds = Math.round((performance.now() - started) / 1000)
  console.log(`\ntotal: ${pct(score(total))} of ${total.mutants} mutants killed in ${seconds} s`)
  if (args.json) {
    const figures = Object.fromEntries(
      [...tallies].map(([name, t]) => [
        name,
        {
          mutants: t.mutants,
          killed: t.killed,
          survived: t.survived,
          timedOut: t.timedOut,
          invalid: t.invalid,
          score: score(t),
          survivors: t.survivors.map((s) => ({ at: `${s.file}:${s.line}`, operator: s.operator, change: change(s) }))
        }
      ])
    )
    console.log(JSON.stringify({ modules: figures, total: { ...total, score: score(total), seconds }, seed, max }))
  }
}
