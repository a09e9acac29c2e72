/**
 * `pnpm bench orchestrator [--json]`: the distributed mode on this machine — a throwaway PostgreSQL, `troupe runner`
 * processes on 127.0.0.1, agent tasks submitted through a cluster client, and fake OpenAI servers as the models.
 *
 * - Throughput on 1, 2 and 3 runners: `BENCH_TASKS` tasks (default 600: with fewer, the hash of their ids splits them less evenly) at once, each an agent that plans, answers
 *   and reflects (three model calls of `BENCH_LATENCY_MS`, default 150 ms, as a real provider would take), each runner
 *   running at most `BENCH_CONCURRENCY` tasks at once (default 4). Tasks per second from the first submit to the last
 *   result; `scaling_3_vs_1` is the ratio of the 3-runner figure to the 1-runner one. Tasks are placed by the hash of
 *   their id, so the runners' shares vary; `busiest_runner_share_3` (1/3 when even) bounds the speed-up. Runners join one at a time and
 *   the cluster is left to rebalance before each measurement.
 * - Delegation overhead: the median wall time of one task through the cluster (submitted, stored, placed, run on a
 *   runner, replied through storage; sequential, against a model that answers at once) minus the median of the same
 *   agent made and run in this process, the two alternating.
 * - Recovery: with every slot of three runners busy, one is killed with SIGKILL while it runs tasks; `recovery_s` is
 *   the time from the kill until the last of its unfinished tasks has started again on another runner (the cluster's shard lock
 *   expiry is 35 s by default; Troupe's `ClusterTuning` brings it down).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Agent, AgentEvents } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import { AgentTask, Client, ThrowawayPostgres } from "@troupe/cluster"
import { ProviderPool } from "@troupe/providers"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { quantile, report } from "./_report.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const tasks = Number(process.env.BENCH_TASKS ?? 600)
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 150)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4)
const overheadRuns = Number(process.env.BENCH_RUNS ?? 30)

const schemaName = (request: FakeServer.Received) =>
  (request.body as { response_format?: { json_schema?: { name?: string } } }).response_format?.json_schema?.name

// The agent's three calls: no plan, an answer, a reflection saying done.
const turns = (request: FakeServer.Received) => {
  const name = schemaName(request)
  if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
  if (name === "reflection") {
    return { text: JSON.stringify({ outcome: "done", reasoning: "done", progress: [], answer: "done" }) }
  }
  return { text: "done" }
}

const specFor = (url: string) =>
  Schema.decodeUnknownSync(
    AgentSpec.AgentSpec,
    AgentSpec.parseOptions
  )({
    name: "bench",
    memory: { enabled: false },
    providers: { fake: { kind: "openai", baseUrl: url } },
    model: { provider: "fake", model: "gpt-bench" },
    limits: { maxSteps: 4 }
  })

/** A runner process, with when each task started and ended on it. */
interface Runner {
  readonly child: ChildProcess
  readonly started: Map<string, number>
  readonly finished: Map<string, number>
  address: string | undefined
}

const startRunner = (postgres: string, workspace: string) =>
  Effect.acquireRelease(
    Effect.callback<Runner, string>((resume) => {
      const child = spawn(
        process.execPath,
        [
          "packages/cli/src/bin.ts",
          "runner",
          "--postgres",
          postgres,
          "--workspace",
          workspace,
          "--concurrency",
          String(concurrency)
        ],
        { cwd: root, env: { PATH: process.env.PATH ?? "", TROUPE_BUNDLE: "0" }, stdio: ["ignore", "pipe", "pipe"] }
      )
      const runner: Runner = { child, started: new Map(), finished: new Map(), address: undefined }
      let pending = ""
      let stderr = ""
      child.stdout!.on("data", (chunk: Buffer) => {
        pending += chunk.toString("utf8")
        const lines = pending.split("\n")
        pending = lines.pop() ?? ""
        for (const line of lines) {
          const ready = /^runner (\S+) ready/.exec(line)
          if (ready !== null) {
            runner.address = ready[1]
            resume(Effect.succeed(runner))
          }
          const task = /^task (\S+) (started|done|failed)$/.exec(line)
          if (task?.[2] === "started") runner.started.set(task[1]!, performance.now())
          else if (task !== null) runner.finished.set(task[1]!, performance.now())
        }
      })
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8")
      })
      child.on("exit", (code) => resume(Effect.fail(`a runner exited (${code}) before it was ready: ${stderr}`)))
    }),
    (runner) =>
      Effect.sync(() => {
        runner.child.kill("SIGKILL")
      })
  )

const median = (values: ReadonlyArray<number>) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5
  )

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits

const program = Effect.gen(function* () {
  const workspace = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-bench-cluster-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const postgres = yield* ThrowawayPostgres.make()
  const slow = specFor((yield* FakeOpenAi.make({ turns, latency: { fixedMs: latencyMs } })).url)
  const instant = specFor((yield* FakeOpenAi.make({ turns })).url)
  const runners: Array<Runner> = []
  const join_ = Effect.gen(function* () {
    runners.push(yield* startRunner(postgres.url, workspace))
    // Every runner and the client see the new one and the shards move before anything is measured.
    yield* Effect.sleep("5 seconds")
  })
  yield* join_
  const client = Context.get(yield* Layer.build(Client.layer({ postgres: postgres.url })), Client.Client)

  let batch = 0
  const submitAll = (spec: AgentSpec.AgentSpec, count: number) => {
    batch++
    return Effect.forEach(
      Array.from({ length: count }, (_, i) => `b${batch}-t${i}`),
      (id) => client.submit(AgentTask.task(id, spec, `Task ${id}`)),
      { concurrency: "unbounded" }
    )
  }
  const throughput = Effect.gen(function* () {
    yield* submitAll(slow, concurrency * runners.length) // warm-up
    const start = performance.now()
    const results = yield* submitAll(slow, tasks)
    const seconds = (performance.now() - start) / 1000
    const perRunner = new Map<string, number>()
    for (const r of results) perRunner.set(r.runner, (perRunner.get(r.runner) ?? 0) + 1)
    return {
      tasksPerSecond: tasks / seconds,
      runnersUsed: perRunner.size,
      // Tasks are placed by the hash of their id: the busiest runner's share bounds the speed-up.
      busiestShare: Math.max(...perRunner.values()) / tasks
    }
  })

  const one = yield* throughput
  yield* join_
  const two = yield* throughput
  yield* join_
  const three = yield* throughput

  // Delegation overhead: one task at a time through the cluster, and the same agent run here, alternately so that
  // drift on a shared machine hits both alike.
  const clusterMs: Array<number> = []
  const localMs: Array<number> = []
  for (let i = 0; i < overheadRuns + 3; i++) {
    let start = performance.now()
    yield* client.submit(AgentTask.task(`overhead-${i}`, instant, "Answer at once"))
    if (i >= 3) clusterMs.push(performance.now() - start)
    start = performance.now()
    yield* Effect.scoped(
      Effect.flatMap(Agent.make(instant), (agent) => agent.run("Answer at once", { runId: `local-${i}` }))
    ).pipe(Effect.provide([ActorSystem.layer(), AgentEvents.layer]))
    if (i >= 3) localMs.push(performance.now() - start)
  }

  // Recovery: three busy runners, one killed while it runs tasks.
  const recovery = yield* Effect.gen(function* () {
    // As many tasks as there are slots: the moved ones find free slots, so the figure is the failover itself.
    const fiber = yield* Effect.forkChild(submitAll(slow, concurrency * runners.length))
    let victim: Runner | undefined
    while (victim === undefined) {
      yield* Effect.sleep("20 millis")
      victim = runners.find(
        (r) =>
          r.child.exitCode === null &&
          [...r.started.keys()].some((t) => t.startsWith(`b${batch}-`) && !r.finished.has(t))
      )
    }
    const killedAt = performance.now()
    victim.child.kill("SIGKILL")
    yield* Effect.callback<void>((resume) => {
      if (victim!.child.exitCode !== null || victim!.child.signalCode !== null) resume(Effect.void)
      else victim!.child.once("close", () => resume(Effect.void))
    })
    const unfinished = [...victim.started.keys()].filter((t) => t.startsWith(`b${batch}-`) && !victim!.finished.has(t))
    yield* Fiber.join(fiber)
    const restarts = unfinished.map((task) =>
      Math.min(...runners.filter((r) => r !== victim).map((r) => r.started.get(task) ?? Number.POSITIVE_INFINITY))
    )
    return { seconds: (Math.max(...restarts) - killedAt) / 1000, moved: unfinished.length }
  })

  const figures = {
    tasks,
    model_latency_ms: latencyMs,
    concurrency_per_runner: concurrency,
    tasks_per_s: {
      runners_1: round(one.tasksPerSecond),
      runners_2: round(two.tasksPerSecond),
      runners_3: round(three.tasksPerSecond)
    },
    runners_used: { runners_1: one.runnersUsed, runners_2: two.runnersUsed, runners_3: three.runnersUsed },
    scaling_3_vs_1: round(three.tasksPerSecond / one.tasksPerSecond),
    busiest_runner_share_3: round(three.busiestShare),
    task_ms_p50: { cluster: round(median(clusterMs), 1), local: round(median(localMs), 1) },
    delegation_overhead_ms_p50: round(median(clusterMs) - median(localMs), 1),
    recovery_s: round(recovery.seconds),
    tasks_moved: recovery.moved
  }
  report("Distributed mode: agent tasks on troupe runner processes sharing PostgreSQL (127.0.0.1)", figures, [
    ["tasks per run, model latency, slots per runner", `${tasks}, ${latencyMs} ms × 3 calls, ${concurrency}`],
    ["tasks/s on 1 runner", `${figures.tasks_per_s.runners_1}`],
    ["tasks/s on 2 runners", `${figures.tasks_per_s.runners_2} (${two.runnersUsed} used)`],
    ["tasks/s on 3 runners", `${figures.tasks_per_s.runners_3} (${three.runnersUsed} used)`],
    ["scaling 3 vs 1", `${figures.scaling_3_vs_1}×`],
    ["one task, p50: cluster / in process", `${figures.task_ms_p50.cluster} ms / ${figures.task_ms_p50.local} ms`],
    ["delegation overhead per task, p50", `${figures.delegation_overhead_ms_p50} ms`],
    ["recovery after SIGKILL of a runner", `${figures.recovery_s} s (${recovery.moved} tasks moved)`]
  ])
}).pipe(
  Effect.scoped,
  Effect.provide(Layer.mergeAll(ProviderPool.layer(), NodeHttpClient.layerUndici, AgentEvents.layer))
)

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
