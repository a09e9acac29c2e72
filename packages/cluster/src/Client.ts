/**
 * A client of the cluster: submits agent tasks and waits for their results, holding no shards itself.
 *
 * Requests are stored in PostgreSQL before they are delivered, and the client reads replies from storage, so a task
 * survives the death of the runner it was placed on (the runner taking over its shard runs it) and the client waits
 * through the move.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { AgentTask, Client } from "@troupe/cluster"
 *
 * const program = Effect.gen(function* () {
 *   const client = yield* Client.Client
 *   const result = yield* client.submit(AgentTask.task("task-1", spec, "Greet Ada"))
 *   return result.answer
 * }).pipe(Effect.provide(Client.layer({ postgres: "postgres://postgres@127.0.0.1:5432/troupe" })))
 * ```
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AgentTask from "./AgentTask.ts"
import * as ClusterTuning from "./ClusterTuning.ts"
import * as Runner from "./Runner.ts"

/** The cluster could not take the task: storage failed, or no runner could be reached to deliver it. */
export class TaskNotDelivered extends Schema.TaggedError<TaskNotDelivered>()("TaskNotDelivered", {
  taskId: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `task ${this.taskId} was not delivered: ${this.reason}`
  }
}

/** The client's shape. */
export interface Service {
  /** Runs the task somewhere in the cluster and waits for its ending; submitting a task id again waits for the same. */
  readonly submit: (
    task: AgentTask.Task
  ) => Effect.Effect<AgentTask.TaskResult, AgentTask.TaskFailed | TaskNotDelivered>
}

/** The client of the cluster. */
export class Client extends Context.Service<Client, Service>()("@troupe/cluster/Client") {}

/** Options of `layer`. */
export interface Options {
  readonly postgres: string | Redacted.Redacted<string>
  /** Connections of the storage pool (default 10). */
  readonly maxConnections?: number | undefined
}

/** A client over the sharding in context. */
export const make = Effect.gen(function* () {
  const clientFor = yield* AgentTask.AgentTask.client
  return Client.of({
    submit: (task) =>
      clientFor(task.taskId)
        .Run(task)
        .pipe(
          Effect.catchTags({
            MailboxFull: (error) => Effect.fail(new TaskNotDelivered({ taskId: task.taskId, reason: error._tag })),
            AlreadyProcessingMessage: (error) =>
              Effect.fail(new TaskNotDelivered({ taskId: task.taskId, reason: error._tag })),
            PersistenceError: (error) =>
              Effect.fail(new TaskNotDelivered({ taskId: task.taskId, reason: `storage: ${error.message}` })),
            EntityNotAssignedToRunner: (error) =>
              Effect.fail(new TaskNotDelivered({ taskId: task.taskId, reason: error._tag }))
          })
        )
  })
})

/** A client of the cluster whose storage is `postgres`: connects to it, and to runners as it sends. */
export const layer = (options: Options) =>
  Layer.effect(Client, make).pipe(
    Layer.provide(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: ClusterTuning.client })),
    Layer.provide(Runner.postgres(options.postgres, options.maxConnections))
  )
