/**
 * The agent-task entity: one agent pursuing one goal, placed on whichever runner owns the task's shard.
 *
 * A task is addressed by its id (the entity id), and carries the agent's spec, decoded where it was submitted (its
 * `${VAR}`s and `instructionsFile` resolved there, never from the runner's environment or files), and the goal, so
 * any runner can run any agent without sharing files with the client. Its one request, `Run`, is persisted in PostgreSQL
 * before it is delivered and keyed by the task id: a task submitted twice runs once and both callers get its reply,
 * and a task whose runner dies is delivered again to the runner that takes over the shard, which goes on from the
 * run's journal (its workflow on `ClusterWorkflowEngine`, see `Runner`). A step in flight at the kill runs again:
 * tools with an irreversible effect must be made idempotent by a key.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { AgentTask } from "@troupe/cluster"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* AgentTask.AgentTask.client
 *   const result = yield* client("task-1").Run(AgentTask.task("task-1", spec, "Greet Ada"))
 *   return result.answer
 * })
 * ```
 */
import { AuditEntry } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Rpc from "effect/rpc/Rpc"
import * as Schema from "effect/Schema"

/** What a task asks: the agent (its spec, encoded) and the goal. */
export const TaskPayload = {
  /** The task's id: the entity id, the agent's run id, and the key that makes submitting twice harmless. */
  taskId: Schema.String,
  /** The agent spec in its encoded form (see `task`), decoded again on the runner. */
  spec: Schema.Unknown,
  goal: Schema.String
}

/** What a task submits. */
export interface Task {
  readonly taskId: string
  readonly spec: unknown
  readonly goal: string
}

/** A task: `spec` (decoded, e.g. by `SpecLoader`) is sent in its encoded form. */
export const task = (taskId: string, spec: AgentSpec.AgentSpec, goal: string): Task => ({
  taskId,
  spec: Schema.encodeSync(AgentSpec.AgentSpec)(spec),
  goal
})

/** A task done: the agent's answer, what it spent, and the runner that ran it. */
export const TaskResult = Schema.Struct({
  taskId: Schema.String,
  runId: Schema.String,
  answer: Schema.String,
  steps: Schema.Int,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  costUsd: Schema.Finite,
  durationMs: Schema.Finite,
  /** The runner that ran the task to its end, `HOST:PORT`. */
  runner: Schema.String,
  /** The head of the run's trail on that runner when it ended (none when the runner keeps no trail). */
  trailHead: Schema.optionalKey(AuditEntry.Head)
})

/** A task done. */
export type TaskResult = typeof TaskResult.Type

/**
 * A task that ended without an answer: its spec did not decode (`SpecInvalid`), a tool could not be set up, or the
 * run ended with one of the agent's typed errors (`tag` names it: `BudgetExceeded`, `GaveUp`, `ModelFailed`, ...).
 */
export class TaskFailed extends Schema.TaggedError<TaskFailed>()("TaskFailed", {
  taskId: Schema.String,
  tag: Schema.String,
  reason: Schema.String,
  runner: Schema.String,
  /** The head of the run's trail on that runner when it ended, when it left one. */
  trailHead: Schema.optionalKey(AuditEntry.Head)
}) {
  override get message(): string {
    return `task ${this.taskId} failed on ${this.runner} (${this.tag}): ${this.reason}`
  }
}

/**
 * Run the task's agent on its goal. Persisted (delivered again after a runner dies), deduplicated by task id, and
 * interrupted when its runner shuts down so that the next owner takes it over at once.
 */
export const Run = Rpc.make("Run", {
  payload: TaskPayload,
  success: TaskResult,
  error: TaskFailed,
  primaryKey: (payload) => payload.taskId
})
  .annotate(ClusterSchema.Persisted, true)
  .annotate(ClusterSchema.InterruptOnTermination, true)

/** The entity type, `troupe/AgentTask`. */
export const AgentTask = Entity.make("troupe/AgentTask", [Run])
