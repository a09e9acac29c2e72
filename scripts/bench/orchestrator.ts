/**
 * `pnpm bench orchestrator [--json]`: the distributed mode on this machine — a throwaway PostgreSQL, `troupe runner`
 * processes on 127.0.0.1, agent tasks submitted through a cluster client, and fake OpenAI servers as the models.
 *
 * - Throughput on 1, 2 and 3 runners: `BENCH_TASKS` tasks (default 600) at once, each an agent that plans, answers and
 *   reflects (three model calls of `BENCH_LATENCY_MS`, default 150 ms, as a real provider would take), each runner
 *   running at most `BENCH_CONCURRENCY` tasks at once (default 4). Tasks per second from the first submit to the last
 *   result. Runners join one at a time and the cluster is left to rebalance before each measurement, and the database
 *   is analysed (`ANALYZE`, as autovacuum would) after each warm-up. After the recovery figure all runners but one are
 *   stopped and 1 runner is measured again: `scaling_3_vs_1` is the 3-runner figure over the mean of the two 1-runner
 *   ones, so that the machine's load drifting over the run weighs on both sides.
 * - Placement: a task goes to the runner owning the shard its id hashes to, so with ids taken in order the runners'
 *   shares vary (`busiest_runner_share_3_hashed` is what ids in order would have given the busiest of 3, 1/3 when
 *   even). By default (`BENCH_PLACEMENT=hashed`) ids are taken in order, placed by their hash as an orchestration's
 *   own task ids are. `BENCH_PLACEMENT=balanced` chooses each batch's ids so that every runner gets the same share,
 *   from each id's shard (`Sharding.getShardId`) and the shards' owners as effect/cluster assigns them (a hash ring of
 *   the runners' addresses), to measure the cluster without the hash's imbalance, which Troupe's own placement does
 *   not avoid; `placement_predicted_3` is the share of tasks that ran where predicted.
 * - CPU per task: the CPU time of the runner processes, of PostgreSQL (postmaster and backends, from /proc) and of
 *   this process (client and fake models) over each timed batch, divided by its tasks; `cpu_bound_tasks_per_s_3` is
 *   what the machine's cores would allow at the 3-runner cost if CPU were the only limit.
 * - Delegation overhead: the median wall time of one task through the cluster (submitted, stored, placed, run on a
 *   runner, replied through storage; sequential, against a model that answers at once) minus the median of the same
 *   agent made and run in this process, the two alternating.
 * - Recovery: with every slot of three runners busy, one is killed with SIGKILL while it runs tasks; `recovery_s` is
 *   the time from the kill until the last of its unfinished tasks has started again on another runner (the cluster's shard lock
 *   expiry is 35 s by default; Troupe's `ClusterTuning` brings it down).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Agent, AgentEvents } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import { AgentTask, Client, Runner as ClusterRunner, ClusterTuning, ThrowawayPostgres } from "@troupe/cluster"
import { ProviderPool } from "@troupe/providers"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import * as Context from "effect/Context"
import * as EntityId from "effect/cluster/EntityId"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as Sharding from "effect/cluster/Sharding"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HashRing from "effect/HashRing"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { quantile, report } from "./_report.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const tasks = Number(process.env.BENCH_TASKS ?? 600)
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 150)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4)
const overheadRuns = Number(process.env.BENCH_RUNS ?? 30)
// "balanced" (default): each batch's task ids are chosen so that every runner gets the same share; "hashed": ids
// b1-t0, b1-t1, ... wherever their hash puts them.
const placement = process.env.BENCH_PLACEMENT === "balanced" ? "balanced" : "hashed"

// CPU time (ms) of a process and of its children that have exited, from /proc (Linux; 0 elsewhere).
const ticksPerMs = 100 / 1000
const cpuOfPid = (pid: number, withChildren: boolean): number => {
  const stat = (() => {
    try {
      return readFileSync(`/proc/${pid}/stat`, "utf8")
    } catch {
      return undefined
    }
  })()
  if (stat === undefined) return 0
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]))
  return (utime! + stime! + (withChildren ? cutime! + cstime! : 0)) / ticksPerMs
}
const parentOf = (pid: string): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return undefined
  }
}
// The PostgreSQL server's CPU: the postmaster, its live backends, and the backends that have exited.
const cpuOfPostgres = (dataDirectory: string): number => {
  const postmaster = Number(readFileSync(join(dataDirectory, "postmaster.pid"), "utf8").split("\n")[0])
  const children = readdirSync("/proc").filter((pid) => /^\d+$/.test(pid) && parentOf(pid) === postmaster)
  return cpuOfPid(postmaster, true) + children.reduce((sum, pid) => sum + cpuOfPid(Number(pid), false), 0)
}

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

interface CpuPerTask {
  readonly runners: number
  readonly postgres: number
  readonly client: number
}
const cpuTotal = (cpu: CpuPerTask) => cpu.runners + cpu.postgres + cpu.client
const cpuFigures = (cpu: CpuPerTask) => ({
  runners: round(cpu.runners, 1),
  postgres: round(cpu.postgres, 1),
  client: round(cpu.client, 1),
  total: round(cpuTotal(cpu), 1)
})
const cpuLine = (cpu: ReturnType<typeof cpuFigures>) =>
  `${cpu.runners} + ${cpu.postgres} + ${cpu.client} = ${cpu.total}`

const program = Effect.gen(function* () {
  const workspace = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-bench-cluster-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const postgres = yield* ThrowawayPostgres.make()
  const slow = specFor((yield* FakeOpenAi.make({ turns, latency: { fixedMs: latencyMs } })).url)
  const instant = specFor((yield* FakeOpenAi.make({ turns })).url)
  const runners: Array<Runner> = []
  const live = () => runners.filter((r) => r.child.exitCode === null && r.child.signalCode === null)
  const join_ = Effect.gen(function* () {
    runners.push(yield* startRunner(postgres.url, workspace))
    // Every runner and the client see the new one and the shards move before anything is measured.
    yield* Effect.sleep("5 seconds")
  })
  yield* join_
  // Client.layer, with the cluster's Sharding kept: it says which shard a task id falls in.
  const clientContext = yield* Layer.build(
    Layer.effect(Client.Client, Client.make).pipe(
      Layer.provideMerge(
        NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: ClusterTuning.client })
      ),
      Layer.provideMerge(ClusterRunner.postgres(postgres.url))
    )
  )
  const sql = Context.get(clientContext, SqlClient.SqlClient)
  const client = Context.get(clientContext, Client.Client)
  const sharding = Context.get(clientContext, Sharding.Sharding)

  // Which runner a task id lands on: its shard (the hash of the id), and the shard's owner as effect/cluster assigns
  // shards (a hash ring of the runners' addresses, each of weight 1, every runner the same share of shards).
  const placementOf = () => {
    const ring = HashRing.make<RunnerAddress.RunnerAddress>()
    for (const runner of live()) {
      const [host, port] = runner.address!.split(":")
      HashRing.add(ring, RunnerAddress.make(host!, Number(port)), { weight: ClusterTuning.shared.runnerShardWeight })
    }
    const owners = HashRing.getShards(ring, ClusterTuning.shared.shardsPerGroup)!
    return (id: string) => {
      const owner = owners[sharding.getShardId(EntityId.make(id), "default").id - 1]!
      return `${owner.host}:${owner.port}`
    }
  }
  const busiestShare = (runnerOf: ReadonlyArray<string>) => {
    const counts = new Map<string, number>()
    for (const r of runnerOf) counts.set(r, (counts.get(r) ?? 0) + 1)
    return Math.max(...counts.values()) / runnerOf.length
  }

  let batch = 0
  // A batch's ids: in order, or (balanced) skipping those whose runner already has its share.
  const idsOf = (count: number, balanced: boolean) => {
    batch++
    if (!balanced) return Array.from({ length: count }, (_, i) => `b${batch}-t${i}`)
    const place = placementOf()
    const quota = Math.ceil(count / live().length)
    const taken = new Map<string, number>()
    const ids: Array<string> = []
    for (let i = 0; ids.length < count; i++) {
      const id = `b${batch}-t${i}`
      const runner = place(id)
      if ((taken.get(runner) ?? 0) >= quota) continue
      taken.set(runner, (taken.get(runner) ?? 0) + 1)
      ids.push(id)
    }
    return ids
  }
  const submitAll = (spec: AgentSpec.AgentSpec, count: number, balanced = false) =>
    Effect.forEach(idsOf(count, balanced), (id) => client.submit(AgentTask.task(id, spec, `Task ${id}`)), {
      concurrency: "unbounded"
    })
  const cpuNow = () => ({
    runners: runners.reduce((sum, r) => sum + cpuOfPid(r.child.pid!, false), 0),
    postgres: cpuOfPostgres(join(postgres.directory, "data")),
    client: (process.cpuUsage().user + process.cpuUsage().system) / 1000
  })
  const throughput = Effect.gen(function* () {
    yield* submitAll(slow, concurrency * live().length) // warm-up
    // Planner statistics as autovacuum keeps them on a long-lived database: without them the storage polls scan the
    // whole message table (about 3 – 5 scans a task), which grows with every batch, so later phases would pay more.
    yield* Effect.orDie(sql`ANALYZE`)
    const place = placementOf()
    const cpuBefore = cpuNow()
    const start = performance.now()
    const results = yield* submitAll(slow, tasks, placement === "balanced")
    const seconds = (performance.now() - start) / 1000
    const cpuAfter = cpuNow()
    const perTask = (key: "runners" | "postgres" | "client") => (cpuAfter[key] - cpuBefore[key]) / tasks
    return {
      tasksPerSecond: tasks / seconds,
      runnersUsed: new Set(results.map((r) => r.runner)).size,
      // The busiest runner's share bounds the speed-up.
      busiestShare: busiestShare(results.map((r) => r.runner)),
      // What the same number of ids in order would have given the busiest runner.
      hashedShare: busiestShare(Array.from({ length: tasks }, (_, i) => place(`b0-t${i}`))),
      predicted: results.filter((r) => place(r.taskId) === r.runner).length / tasks,
      cpuMsPerTask: { runners: perTask("runners"), postgres: perTask("postgres"), client: perTask("client") }
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
    const recoveryBatch = batch + 1
    // As many tasks as there are slots: the moved ones find free slots, so the figure is the failover itself.
    const fiber = yield* Effect.forkChild(submitAll(slow, concurrency * runners.length))
    let victim: Runner | undefined
    while (victim === undefined) {
      yield* Effect.sleep("20 millis")
      victim = runners.find(
        (r) =>
          r.child.exitCode === null &&
          [...r.started.keys()].some((t) => t.startsWith(`b${recoveryBatch}-`) && !r.finished.has(t))
      )
    }
    const killedAt = performance.now()
    victim.child.kill("SIGKILL")
    yield* Effect.callback<void>((resume) => {
      if (victim!.child.exitCode !== null || victim!.child.signalCode !== null) resume(Effect.void)
      else victim!.child.once("close", () => resume(Effect.void))
    })
    const unfinished = [...victim.started.keys()].filter(
      (t) => t.startsWith(`b${recoveryBatch}-`) && !victim!.finished.has(t)
    )
    yield* Fiber.join(fiber)
    const restarts = unfinished.map((task) =>
      Math.min(...runners.filter((r) => r !== victim).map((r) => r.started.get(task) ?? Number.POSITIVE_INFINITY))
    )
    return { seconds: (Math.max(...restarts) - killedAt) / 1000, moved: unfinished.length }
  })

  // One runner again, the others stopped (SIGTERM hands their shards over): the machine's load drifts over the minutes
  // of a run, so the speed-up is taken against the mean of the first and the last 1-runner figures.
  const leaving = live().slice(1)
  for (const runner of leaving) runner.child.kill("SIGTERM")
  yield* Effect.forEach(leaving, (runner) =>
    Effect.callback<void>((resume) => {
      if (runner.child.exitCode !== null || runner.child.signalCode !== null) resume(Effect.void)
      else runner.child.once("close", () => resume(Effect.void))
    })
  )
  yield* Effect.sleep("8 seconds")
  const oneAgain = yield* throughput
  const oneMean = (one.tasksPerSecond + oneAgain.tasksPerSecond) / 2

  // What a commit waits for on the server the figures were measured on (a throwaway one: no fsync).
  const durability = yield* Effect.orDie(
    sql<{ readonly name: string; readonly setting: string }>`
      SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')`
  )
  const figures = {
    tasks,
    postgres_durability: Object.fromEntries(durability.map((row) => [row.name, row.setting])),
    model_latency_ms: latencyMs,
    concurrency_per_runner: concurrency,
    tasks_per_s: {
      runners_1: round(one.tasksPerSecond),
      runners_1_again: round(oneAgain.tasksPerSecond),
      runners_2: round(two.tasksPerSecond),
      runners_3: round(three.tasksPerSecond)
    },
    runners_used: { runners_1: one.runnersUsed, runners_2: two.runnersUsed, runners_3: three.runnersUsed },
    scaling_3_vs_1: round(three.tasksPerSecond / oneMean),
    placement,
    busiest_runner_share_3: round(three.busiestShare),
    busiest_runner_share_3_hashed: round(three.hashedShare),
    placement_predicted_3: round(three.predicted),
    cpu_ms_per_task: {
      runners_1: cpuFigures(one.cpuMsPerTask),
      runners_3: cpuFigures(three.cpuMsPerTask)
    },
    // Tasks/s this machine's cores would allow if CPU were the only limit, at the 3-runner CPU cost per task.
    cpu_bound_tasks_per_s_3: round((availableParallelism() * 1000) / cpuTotal(three.cpuMsPerTask), 1),
    cores: availableParallelism(),
    task_ms_p50: { cluster: round(median(clusterMs), 1), local: round(median(localMs), 1) },
    delegation_overhead_ms_p50: round(median(clusterMs) - median(localMs), 1),
    recovery_s: round(recovery.seconds),
    tasks_moved: recovery.moved
  }
  report("Distributed mode: agent tasks on troupe runner processes sharing PostgreSQL (127.0.0.1)", figures, [
    ["tasks per run, model latency, slots per runner", `${tasks}, ${latencyMs} ms × 3 calls, ${concurrency}`],
    ["PostgreSQL durability", durability.map((row) => `${row.name}=${row.setting}`).join(", ")],
    ["tasks/s on 1 runner, first / last", `${figures.tasks_per_s.runners_1} / ${figures.tasks_per_s.runners_1_again}`],
    ["tasks/s on 2 runners", `${figures.tasks_per_s.runners_2} (${two.runnersUsed} used)`],
    ["tasks/s on 3 runners", `${figures.tasks_per_s.runners_3} (${three.runnersUsed} used)`],
    ["scaling 3 vs 1 (their mean)", `${figures.scaling_3_vs_1}× (placement ${placement})`],
    [
      "busiest runner's share of 3: measured / ids in order",
      `${figures.busiest_runner_share_3} / ${figures.busiest_runner_share_3_hashed}`
    ],
    ["CPU per task, 1 runner: runners + postgres + client", `${cpuLine(figures.cpu_ms_per_task.runners_1)} ms`],
    ["CPU per task, 3 runners: runners + postgres + client", `${cpuLine(figures.cpu_ms_per_task.runners_3)} ms`],
    ["tasks/s if CPU-bound, 3 runners", `${figures.cpu_bound_tasks_per_s_3} (${figures.cores} cores)`],
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
