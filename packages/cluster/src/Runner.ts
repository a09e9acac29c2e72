/**
 * A runner: a process that holds a share of the cluster's shards and runs the agent tasks placed on them.
 *
 * Runners find each other and their shards through PostgreSQL (`effect/cluster`'s SQL runner and message storage,
 * over `@effect/sql-pg`), and talk to each other over sockets (`NodeClusterSocket`). Every task's request is stored
 * before it is delivered, and its run is a workflow of `ClusterWorkflowEngine` (model calls, tool calls and approvals
 * journalled as activities), so when a runner dies the runner that takes over its shards goes on with its tasks
 * from their journals (see `AgentTask`); `ClusterTuning` says how soon. Tasks use the runner's `ProviderPool` (one breaker and rate limits for
 * all the tasks of the process), its HTTP client, its workspace and, when given, its long-term memory.
 *
 * @example
 * ```ts
 * import * as Layer from "effect/Layer"
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Runner } from "@troupe/cluster"
 *
 * Layer.launch(Runner.layer({ postgres: "postgres://postgres@127.0.0.1:5432/troupe", port: 34431, workspace: "." }))
 *   .pipe(NodeRuntime.runMain)
 * ```
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import type { ApprovalStore, AuditLog } from "@troupe/agent"
import { ProviderPool } from "@troupe/providers"
import { Tools, Workspace } from "@troupe/tools"
import * as ClusterWorkflowEngine from "effect/cluster/ClusterWorkflowEngine"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Semaphore from "effect/Semaphore"
import * as AgentTask from "./AgentTask.ts"
import * as ClusterTuning from "./ClusterTuning.ts"
import * as DurableTasks from "./internal/durableTasks.ts"
import * as TaskRunning from "./internal/runTask.ts"
import * as TrailHead from "./internal/trailHead.ts"

/** Options of `layer`. */
export interface Options {
  /** The PostgreSQL URL every runner and client of the cluster shares. */
  readonly postgres: string | Redacted.Redacted<string>
  /** The address other runners reach this one at (default 127.0.0.1), and the port it listens on. */
  readonly host?: string | undefined
  readonly port: number
  /** The directory tasks' tools work in. */
  readonly workspace: string
  /** Approve the calls a spec's policy asks about (`--yes`); without it (and `approvals`) they are denied. */
  readonly approveAsk?: boolean | undefined
  /** Where the calls a spec's policy asks about wait for a person's decision (`--wait`), instead of being denied. */
  readonly approvals?: ApprovalStore.Store | undefined
  /**
   * Tasks run at once, at most (default 16); the others wait on this runner. Agent tasks mostly wait for models, so
   * the bound is about provider limits and memory more than CPU.
   */
  readonly concurrency?: number | undefined
  /** The longest a task may run (default 30 minutes). */
  readonly taskTimeout?: Duration.Input | undefined
  /**
   * Where each task's run writes its trail (`runs/<taskId>/audit.jsonl`, continued by the runner that takes a task
   * over when the runners share the directory); none when absent.
   */
  readonly audit?: AuditLog.Service | undefined
  /**
   * Long-term memory (and the knowledge base) for the agents whose spec enables it; without them agents run with no
   * memory. Runners whose memories share one directory (`@troupe/memory` is safe for several processes) recall
   * what a task remembered on any of them.
   */
  readonly memory?: TaskRunning.Settings["memory"]
  readonly knowledgeBase?: TaskRunning.Settings["knowledgeBase"]
  /** Told when a task starts and ends. */
  readonly onTask?: TaskRunning.Settings["onTask"]
  /** Connections of the storage pool (default 10). */
  readonly maxConnections?: number | undefined
}

/** PostgreSQL as the cluster's `SqlClient`. */
export const postgres = (url: string | Redacted.Redacted<string>, maxConnections = 10) =>
  PgClient.layer({
    url: typeof url === "string" ? Redacted.make(url) : url,
    maxConnections,
    connectTimeout: Duration.seconds(10)
  })

/** Set once the runner has begun to stop. */
export interface Stopping {
  now: boolean
}

/**
 * The agent-task entity's handlers, running at most `concurrency` tasks at once, each task's run a workflow of the
 * `WorkflowEngine` in context (the cluster's).
 *
 * Once the runner is stopping (`stopping.now`), a run that fails has failed because the runner's parts closed under
 * it (its workflow's entity, its trail): that failure is no reply (it would end the task for good); the handler waits
 * to be interrupted, so the task is handed over with its shard and goes on from its journal elsewhere.
 */
export const handlers = (
  settings: Omit<TaskRunning.Settings, "durable">,
  concurrency: number,
  stopping: Stopping = { now: false }
) =>
  Layer.unwrap(
    // Made once for the runner: the handlers' build runs once per entity, that is once per task.
    Effect.gen(function* () {
      const slots = yield* Semaphore.make(Math.max(1, concurrency))
      const durable = yield* DurableTasks.makeRegistry
      return AgentTask.AgentTask.toLayer(
        AgentTask.AgentTask.of({
          Run: (envelope) =>
            slots.withPermit(TaskRunning.runTask({ ...settings, durable }, envelope.payload)).pipe(
              TrailHead.attach(settings.audit),
              Effect.catchCause((cause) => (stopping.now ? Effect.never : Effect.failCause(cause)))
            )
        })
      )
    })
  )

/**
 * The runner for as long as the layer lives: registered in storage, listening on `port`, taking its share of
 * shards and running the tasks on them. Stopping it hands its shards (and tasks in progress) to the others.
 */
export const layer = (options: Options) => {
  const host = options.host ?? "127.0.0.1"
  const stopping: Stopping = { now: false }
  // Built after everything else, so released first: the flag is up before the entities and trails close.
  const stopWatch = Layer.effectDiscard(Effect.addFinalizer(() => Effect.sync(() => (stopping.now = true))))
  const running = handlers(
    {
      runner: `${host}:${options.port}`,
      approveAsk: options.approveAsk ?? false,
      timeout: options.taskTimeout ?? Duration.minutes(30),
      onTask: options.onTask,
      audit: options.audit,
      approvals: options.approvals,
      memory: options.memory,
      knowledgeBase: options.knowledgeBase
    },
    options.concurrency ?? 16,
    stopping
  ).pipe(
    Layer.provide(ClusterWorkflowEngine.layer),
    Layer.provideMerge(
      NodeClusterSocket.layer({ storage: "sql", shardingConfig: ClusterTuning.runner(host, options.port) })
    ),
    Layer.provide(postgres(options.postgres, options.maxConnections)),
    Layer.provide(
      Layer.mergeAll(
        ProviderPool.layer(),
        NodeHttpClient.layerUndici,
        Tools.layerNode,
        Workspace.layer(options.workspace)
      )
    )
  )
  return stopWatch.pipe(Layer.provideMerge(running))
}
