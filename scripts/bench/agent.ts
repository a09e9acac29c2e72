/**
 * `pnpm bench agent [--json]`: Troupe against the peer agent frameworks and a hand-written `fetch` loop, on one
 * task of 10 tool steps and a final answer, against one instant fake OpenAI-compatible server. A second floor row,
 * `effect_ai_loop`, runs the task as a bare `effect/ai` tool loop over the model an agent gets: what the parts every
 * agent call goes through cost before the agent layer (`troupe_lean` minus it: `agent_layer_us_p50`).
 *
 * Each framework runs in a process of its own (`agent/child.ts`, runner in `agent/<name>.ts` or `agent/peers/`);
 * the fake server (`agent/fakeServer.ts`) runs here and accounts every request to its run, with its own time.
 *
 * - step overhead: per run, (wall time − the server's own time over the run's requests) ÷ 10 task steps; p50 and
 *   p99 over the runs. A framework that makes more model calls for the same task pays for them here (model calls
 *   per run are reported beside it). Sequential runs are taken in rounds that alternate between the frameworks, so
 *   that drift on a shared machine hits them alike.
 * - memory: RSS sampled every 5 ms while 1,000 runs are in flight at once, after a GC; the peak, the RSS before,
 *   and their difference.
 * - cold start: a fresh `node` process imports the framework and runs the task; the time from its spawn to the
 *   server receiving its first request (median of `BENCH_COLD` spawns).
 *
 * Peers are installed on first use into `agent/peers/node_modules` (see `agent/install.ts`); one that cannot be
 * installed or run is reported as unavailable, with why.
 *
 * Environment: `BENCH_RUNS` sequential runs per framework (200), `BENCH_WARMUP` (20), `BENCH_CONCURRENT` (1000),
 * `BENCH_COLD` (3), `BENCH_ONLY` (comma-separated names, e.g. `fetch_loop,troupe`).
 */
import { type ChildProcess, fork, spawn } from "node:child_process"
import { availableParallelism, loadavg } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { quantile, report } from "./_report.ts"
import type { Command, Report, TimedRun } from "./agent/child.ts"
import * as FakeServer from "./agent/fakeServer.ts"
import { ensurePeers, peersDir, versionOf } from "./agent/install.ts"
import { API_KEY, STEPS } from "./agent/task.ts"

const here = dirname(fileURLToPath(import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 200)
const ROUNDS = Math.min(10, RUNS)
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 1000)
const COLD = Number(process.env.BENCH_COLD ?? 3)
const LANES = Math.max(1, Math.min(2, availableParallelism()))
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim())

type Group = "troupe" | "peers" | "floor"

interface Framework {
  readonly key: string
  readonly group: Group
  readonly label: string
  readonly runner: string
  /** Peer packages whose versions are reported. */
  readonly packages: ReadonlyArray<string>
}

const frameworks: ReadonlyArray<Framework> = (
  [
    { key: "fetch_loop", group: "floor", label: "fetch loop", runner: join(here, "agent/fetchLoop.ts"), packages: [] },
    {
      key: "effect_ai_loop",
      group: "floor",
      label: "effect/ai loop, pooled model",
      runner: join(here, "agent/effectAiLoop.ts"),
      packages: []
    },
    {
      key: "troupe",
      group: "troupe",
      label: "Troupe Agent.make",
      runner: join(here, "agent/troupe.ts"),
      packages: []
    },
    {
      key: "troupe_durable",
      group: "troupe",
      label: "Troupe durable (journal + audit)",
      runner: join(here, "agent/troupeDurable.ts"),
      packages: []
    },
    {
      key: "troupe_lean",
      group: "troupe",
      label: "Troupe lean (no plan, no reflections)",
      runner: join(here, "agent/troupeLean.ts"),
      packages: []
    },
    {
      key: "langgraph",
      group: "peers",
      label: "LangGraph.js",
      runner: join(peersDir, "langgraph.mjs"),
      packages: ["@langchain/langgraph", "@langchain/openai", "@langchain/core"]
    },
    {
      key: "openai_agents",
      group: "peers",
      label: "@openai/agents",
      runner: join(peersDir, "openaiAgents.mjs"),
      packages: ["@openai/agents"]
    },
    {
      key: "ai_sdk",
      group: "peers",
      label: "Vercel ai",
      runner: join(peersDir, "aiSdk.mjs"),
      packages: ["ai", "@ai-sdk/openai"]
    },
    {
      key: "mastra",
      group: "peers",
      label: "Mastra",
      runner: join(peersDir, "mastra.mjs"),
      packages: ["@mastra/core", "@ai-sdk/openai"]
    }
  ] satisfies ReadonlyArray<Framework>
).filter((f) => only === undefined || only.includes(f.key))

const childPath = join(here, "agent/child.ts")
// Where the benchmark's own time goes, in seconds.
const seconds: Record<string, number> = {}
let mark = performance.now()
const lap = (phase: string) => {
  const now = performance.now()
  seconds[phase] = Math.round((now - mark) / 100) / 10
  mark = now
}
const loadAtStart = loadavg()
const server = await FakeServer.start()
const env = {
  ...process.env,
  OPENAI_API_KEY: API_KEY,
  OPENAI_BASE_URL: server.baseUrl,
  // Nothing may leave the machine: no tracing exporters, no telemetry.
  OPENAI_AGENTS_DISABLE_TRACING: "1",
  LANGCHAIN_TRACING_V2: "false",
  LANGSMITH_TRACING: "false",
  MASTRA_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1"
}

const unavailable = new Map<string, string>()
if (frameworks.some((f) => f.group === "peers")) {
  const problem = ensurePeers()
  if (problem !== undefined) for (const f of frameworks) if (f.group === "peers") unavailable.set(f.key, problem)
}
lap("install")

// Cold starts first, while nothing else is loaded; the frameworks take turns.
const cold = new Map<string, Array<number>>()
const coldOnce = (f: Framework, i: number): Promise<number | string> =>
  new Promise((resolve) => {
    const tag = `cold.${f.key}.${i}`
    let stderr = ""
    const start = performance.now()
    const child = spawn(process.execPath, [childPath, "cold", f.runner, server.baseUrl, tag], {
      env,
      stdio: ["ignore", "ignore", "pipe"]
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    const timer = setTimeout(() => child.kill(), 120_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      const first = server.runs.get(tag)?.firstAt
      if (code === 0 && first !== undefined) resolve(first - start)
      else resolve(`the cold run exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" ")}`)
    })
  })
for (let i = 0; i < COLD; i++) {
  for (const f of frameworks) {
    if (unavailable.has(f.key)) continue
    const result = await coldOnce(f, i)
    if (typeof result === "string") unavailable.set(f.key, result)
    else cold.set(f.key, [...(cold.get(f.key) ?? []), result])
  }
}

lap("cold_start")

// One measuring process per framework, started together, then driven one at a time.
interface Worker {
  readonly framework: Framework
  readonly child: ChildProcess
  /** The child's next report; an error report if none comes within `seconds`. */
  readonly next: (seconds: number) => Promise<Report>
}

const startWorker = (f: Framework): Worker => {
  const child = fork(childPath, ["measure", f.runner, server.baseUrl, f.key], {
    env,
    execArgv: ["--expose-gc"],
    stdio: ["ignore", process.stderr, process.stderr, "ipc"]
  })
  const inbox: Array<Report> = []
  const waiting: Array<(report: Report) => void> = []
  const deliver = (report: Report) => {
    const taker = waiting.shift()
    if (taker === undefined) inbox.push(report)
    else taker(report)
  }
  child.on("message", (message) => deliver(message as Report))
  child.on("exit", (code) => deliver({ type: "error", message: `the process exited with ${code}` }))
  return {
    framework: f,
    child,
    next: (seconds) =>
      new Promise((resolve) => {
        const report = inbox.shift()
        if (report !== undefined) return resolve(report)
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(taker), 1)
          resolve({ type: "error", message: `no answer within ${seconds} s` })
        }, seconds * 1000)
        const taker = (report: Report) => {
          clearTimeout(timer)
          resolve(report)
        }
        waiting.push(taker)
      })
  }
}

const ask = (worker: Worker, command: Command, seconds: number): Promise<Report> => {
  worker.child.send(command)
  return worker.next(seconds)
}

const workers: Array<Worker> = []
for (const worker of frameworks.filter((f) => !unavailable.has(f.key)).map(startWorker)) {
  const ready = await worker.next(300)
  if (ready.type === "ready") workers.push(worker)
  else {
    unavailable.set(worker.framework.key, ready.type === "error" ? ready.message : `unexpected ${ready.type}`)
    worker.child.kill()
  }
}

lap("load_and_warm_up")

const sequential = new Map<string, Array<TimedRun>>()
const wrong = new Map<string, number>()
const fail = (worker: Worker, reason: string) => {
  unavailable.set(worker.framework.key, reason)
  workers.splice(workers.indexOf(worker), 1)
  worker.child.kill()
}
for (let round = 0; round < ROUNDS; round++) {
  const count = Math.floor(RUNS / ROUNDS) + (round < RUNS % ROUNDS ? 1 : 0)
  // Rotate the order each round, so no framework always follows the same one.
  const order = workers.map((_, i) => workers[(i + round) % workers.length]!)
  for (const worker of order) {
    const result = await ask(worker, { type: "seq", round, count }, 300)
    if (result.type !== "seq") {
      fail(worker, result.type === "error" ? result.message : `unexpected ${result.type}`)
      continue
    }
    const key = worker.framework.key
    sequential.set(key, [...(sequential.get(key) ?? []), ...result.runs])
    wrong.set(key, (wrong.get(key) ?? 0) + result.wrongAnswers)
  }
}

lap("sequential")

// Memory is measured per process, so the concurrent phases of two frameworks can share the machine's two cores
// (their completion times, `concurrent_ms`, are then only indicative).
const concurrent = new Map<string, Extract<Report, { type: "conc" }>>()
const queue = [...workers]
const lane = async () => {
  for (let worker = queue.shift(); worker !== undefined; worker = queue.shift()) {
    const result = await ask(worker, { type: "conc", count: CONCURRENT }, 900)
    if (result.type === "conc") {
      concurrent.set(worker.framework.key, result)
      worker.child.send({ type: "exit" } satisfies Command)
    } else fail(worker, result.type === "error" ? result.message : `unexpected ${result.type}`)
  }
}
await Promise.all(Array.from({ length: LANES }, lane))
lap("concurrent")
const loadAtEnd = loadavg()
await server.close()

// Figures.
const round1 = (n: number) => Math.round(n * 10) / 10
const round2 = (n: number) => Math.round(n * 100) / 100
const median = (xs: ReadonlyArray<number>) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5
  )

const figures = (f: Framework): Record<string, unknown> => {
  const reason = unavailable.get(f.key)
  if (reason !== undefined) return { available: false, reason }
  const runs = sequential.get(f.key) ?? []
  const perStep: Array<number> = []
  const perCall: Array<number> = []
  const calls: Array<number> = []
  const serverUs: Array<number> = []
  let streamed = 0
  for (const run of runs) {
    const stats = server.runs.get(run.tag)
    if (stats === undefined) continue
    perStep.push((run.wallUs - stats.serverUs) / STEPS)
    perCall.push((run.wallUs - stats.serverUs) / stats.requests)
    calls.push(stats.requests)
    serverUs.push(stats.serverUs)
    streamed += stats.streamed
  }
  perStep.sort((a, b) => a - b)
  perCall.sort((a, b) => a - b)
  const conc = concurrent.get(f.key)
  const versions = Object.fromEntries(f.packages.map((p) => [p, versionOf(p) ?? "missing"]))
  return {
    available: true,
    ...(f.packages.length > 0 ? { versions } : {}),
    runs: perStep.length,
    step_overhead_us_p50: round1(quantile(perStep, 0.5)),
    step_overhead_us_p99: round1(quantile(perStep, 0.99)),
    call_overhead_us_p50: round1(quantile(perCall, 0.5)),
    model_calls_per_run: round1(calls.reduce((a, b) => a + b, 0) / Math.max(1, calls.length)),
    server_us_per_run_p50: round1(median(serverUs)),
    streams: streamed > 0,
    wrong_answers: wrong.get(f.key) ?? 0,
    peak_rss_mb: conc === undefined ? null : round1(conc.rssPeakMb),
    rss_before_mb: conc === undefined ? null : round1(conc.rssBeforeMb),
    rss_growth_mb: conc === undefined ? null : round1(conc.rssPeakMb - conc.rssBeforeMb),
    concurrent_runs: CONCURRENT,
    concurrent_ms: conc === undefined ? null : Math.round(conc.ms),
    concurrent_cpu_ms: conc === undefined ? null : Math.round(conc.cpuMs),
    concurrent_failed: conc === undefined ? null : conc.failed + conc.wrongAnswers,
    ...(conc?.firstError === undefined ? {} : { concurrent_first_error: conc.firstError }),
    cold_start_ms: round1(median(cold.get(f.key) ?? [])),
    cold_start_ms_all: (cold.get(f.key) ?? []).map(round1)
  }
}

const all = new Map(frameworks.map((f) => [f.key, figures(f)]))
const floor = all.get("fetch_loop")
const floorP50 = floor?.available === true ? (floor.step_overhead_us_p50 as number) : undefined
const floorCold = floor?.available === true ? (floor.cold_start_ms as number) : undefined
for (const [key, entry] of all) {
  if (entry.available !== true || floorP50 === undefined || key === "fetch_loop") continue
  entry.ratio_to_floor_p50 = round2((entry.step_overhead_us_p50 as number) / floorP50)
  entry.ratio_to_floor_p99 = round2((entry.step_overhead_us_p99 as number) / (floor!.step_overhead_us_p99 as number))
}

// What durability costs per step: the durable row against the plain one, measured in the same rounds.
const plain = all.get("troupe")
const durable = all.get("troupe_durable")
if (plain?.available === true && durable?.available === true) {
  durable.durability_us_p50 = round1((durable.step_overhead_us_p50 as number) - (plain.step_overhead_us_p50 as number))
}

// What the agent layer costs over the bare effect/ai loop on the same pooled model, for the same 11 calls.
const lean = all.get("troupe_lean")
const bare = all.get("effect_ai_loop")
if (lean?.available === true && bare?.available === true) {
  lean.agent_layer_us_p50 = round1((lean.step_overhead_us_p50 as number) - (bare.step_overhead_us_p50 as number))
  if (typeof lean.peak_rss_mb === "number" && typeof bare.peak_rss_mb === "number") {
    lean.agent_layer_peak_rss_mb = round1(lean.peak_rss_mb - bare.peak_rss_mb)
  }
}

const group = (g: Group) =>
  Object.fromEntries(frameworks.filter((f) => f.group === g).map((f) => [f.key, all.get(f.key)]))
const json = {
  definition: `step_overhead_us = (run wall time − fake server's own time over the run's requests) ÷ ${STEPS} task steps; p50/p99 over sequential runs. peak_rss_mb = peak RSS sampled while ${CONCURRENT} runs are in flight (rss_before_mb after a GC just before; rss_growth_mb = the difference). cold_start_ms = spawn of a fresh node process to the server receiving its first request (median).`,
  runs: RUNS,
  concurrent: CONCURRENT,
  node: process.version,
  load: { start: loadAtStart.map(round1), end: loadAtEnd.map(round1) },
  seconds,
  ...(frameworks.some((f) => f.key === "troupe") ? { troupe: all.get("troupe") } : {}),
  ...(frameworks.some((f) => f.key === "troupe_durable") ? { troupe_durable: all.get("troupe_durable") } : {}),
  ...(frameworks.some((f) => f.key === "troupe_lean") ? { troupe_lean: all.get("troupe_lean") } : {}),
  peers: group("peers"),
  floor: group("floor"),
  ...(server.stray.length > 0 ? { stray_requests: server.stray.slice(0, 10) } : {})
}

const us = (n: unknown) => (typeof n === "number" ? `${n.toFixed(0)} µs` : "–")
const times = (n: unknown) => (typeof n === "number" ? `${n.toFixed(1)}×` : "")
const mb = (n: unknown) => (typeof n === "number" ? `${n.toFixed(0)} MB` : "–")
const ms = (n: unknown) => (typeof n === "number" ? `${n.toFixed(0)} ms` : "–")
const columns = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>) =>
  cells.map((c, i) => c.padStart(widths[i]!)).join("  ")
const widths = [9, 9, 7, 6, 9, 8, 9, 10, 9]
const rows: Array<[string, string]> = [
  [
    "",
    columns(
      ["step p50", "step p99", "÷ floor", "calls", "call p50", "RSS peak", "RSS grown", "RSS before", "cold"],
      widths
    )
  ]
]
for (const f of frameworks) {
  const e = all.get(f.key)!
  if (e.available !== true) {
    rows.push([f.label, `unavailable: ${e.reason}`])
    continue
  }
  rows.push([
    f.label,
    columns(
      [
        us(e.step_overhead_us_p50),
        us(e.step_overhead_us_p99),
        f.key === "fetch_loop" ? "1.0×" : times(e.ratio_to_floor_p50),
        String(e.model_calls_per_run),
        us(e.call_overhead_us_p50),
        mb(e.peak_rss_mb),
        mb(e.rss_growth_mb),
        mb(e.rss_before_mb),
        ms(e.cold_start_ms)
      ],
      widths
    )
  ])
}
rows.push(["", ""])
rows.push(["step", `(run wall − server time) ÷ ${STEPS} tool steps; ${RUNS} sequential runs per framework, in rounds`])
rows.push(["call", "(run wall − server time) ÷ the run's model calls"])
rows.push([
  "RSS",
  `${CONCURRENT} concurrent runs per framework, each framework in its own process (${LANES} at a time)`
])
rows.push(["cold", `spawn → first request at the server, median of ${COLD}; fetch floor ${ms(floorCold)}`])
if (lean?.agent_layer_us_p50 !== undefined) {
  rows.push([
    "agent layer",
    `Troupe lean over the effect/ai loop: ${us(lean.agent_layer_us_p50)} a step, ${mb(lean.agent_layer_peak_rss_mb)} of peak RSS`
  ])
}
if (durable?.durability_us_p50 !== undefined) {
  rows.push(["durable", `journal + audit trail flushed: ${us(durable.durability_us_p50)} a step over Troupe's p50`])
}
rows.push([
  "load",
  `${loadAtStart.map((n) => n.toFixed(2)).join(" ")} → ${loadAtEnd.map((n) => n.toFixed(2)).join(" ")}`
])
for (const f of frameworks) {
  const e = all.get(f.key)!
  if (e.available === true && ((e.wrong_answers as number) > 0 || (e.concurrent_failed as number) > 0)) {
    rows.push([`${f.label} errors`, `${e.wrong_answers} wrong answers, ${e.concurrent_failed} concurrent failures`])
  }
}
if (server.stray.length > 0) rows.push(["stray requests", server.stray.slice(0, 3).join("; ")])

report(
  `Agent frameworks, one task of ${STEPS} tool steps against an instant fake OpenAI server (Node ${process.version})`,
  json,
  rows
)
