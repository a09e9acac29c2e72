/**
 * An orchestration whose members run on a cluster's runners: `@troupe/orchestrator`'s `MemberRuns` seam carried out
 * by submitting each attempt at a subtask as an `AgentTask` with the member's spec.
 *
 * The orchestrator (decomposition, retries, reassignment, the team budget, the report) stays in its process; each
 * attempt goes to whichever runner owns its task's shard. A task's id is the orchestration's id, the subtask's and
 * the attempt's number (`orch-….write.1`), so an orchestrator that asks again for the same attempt (after a crash)
 * waits for the same task instead of starting another. A task that fails (`TaskFailed`) is a `RemoteRunFailed`
 * and one the cluster could not take (`TaskNotDelivered`) a `RunNotDelivered`, each naming the subtask: the
 * orchestration retries and reassigns them as it does local failures. A run's trail stays on its runner
 * (`$TROUPE_HOME/runs/<taskId>/`); the orchestration's trail links it by run id, runner, and the head of the trail
 * as the runner read it when the run ended.
 *
 * @example
 * ```ts
 * import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
 * import { ClusterMemberRuns } from "@troupe/cluster"
 * import { Orchestrator } from "@troupe/orchestrator"
 *
 * const program = Effect.gen(function* () {
 *   const orchestrator = yield* Orchestrator.make(team)
 *   return yield* orchestrator.orchestrate("Build a todo API with tests")
 * }).pipe(Effect.provide(ClusterMemberRuns.layer({ postgres: "postgres://postgres@127.0.0.1:5432/troupe" })))
 * ```
 */
import { createHash } from "node:crypto"
import { Spend } from "@troupe/agent"
import { MemberRuns } from "@troupe/orchestrator"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as AgentTask from "./AgentTask.ts"
import * as Client from "./Client.ts"

// What a task id may hold (`runTask` refuses others): a subtask id is the manager's choice, so it is cut to these.
const unsafe = /[^A-Za-z0-9_-]/g

/**
 * The task id of one attempt at a subtask: `ORCHESTRATION.SUBTASK.ATTEMPT`, the subtask id cut to what a task id may
 * hold (with a digest of it when cut), so it stays under 128 characters and two subtasks never share one.
 */
export const taskIdOf = (orchestrationId: string, subtaskId: string, attempt: number): string => {
  const cleaned = subtaskId.replace(unsafe, "-").slice(0, 48)
  const subtask =
    cleaned === subtaskId && cleaned.length > 0
      ? cleaned
      : `${cleaned}-${createHash("sha256").update(subtaskId).digest("hex").slice(0, 8)}`
  return `${orchestrationId.replace(unsafe, "-").slice(0, 64)}.${subtask}.${attempt}`
}

/** The seam over the cluster client in context. */
export const make: Effect.Effect<MemberRuns.Service, never, Client.Client> = Effect.gen(function* () {
  const client = yield* Client.Client
  return {
    // Each task is a fresh agent on a runner: one member's subtasks may run at once.
    exclusive: false,
    run: (request) => {
      const taskId = taskIdOf(request.orchestrationId, request.subtaskId, request.attempt)
      const named = { subtaskId: request.subtaskId, agent: request.member.name, runId: taskId }
      return client.submit(AgentTask.task(taskId, request.member.spec, request.task)).pipe(
        Effect.timeoutOrElse({
          duration: request.timeout,
          orElse: () =>
            Effect.fail(
              new MemberRuns.RemoteRunFailed({
                ...named,
                tag: "Timeout",
                reason: `no ending within ${request.timeout} ms`,
                runner: "unknown"
              })
            )
        }),
        Effect.map(
          (result): MemberRuns.Done => ({
            result: {
              runId: result.runId,
              answer: result.answer,
              spend: {
                ...Spend.zero,
                steps: result.steps,
                inputTokens: result.inputTokens,
                outputTokens: result.outputTokens,
                costUsd: result.costUsd
              },
              durationMs: result.durationMs
            },
            elsewhere: { runner: result.runner, head: result.trailHead }
          })
        ),
        Effect.catchTags({
          TaskFailed: (error) =>
            Effect.fail(
              new MemberRuns.RemoteRunFailed({
                ...named,
                tag: error.tag,
                reason: error.reason,
                runner: error.runner,
                ...(error.trailHead === undefined ? {} : { head: error.trailHead })
              })
            ),
          TaskNotDelivered: (error) => Effect.fail(new MemberRuns.RunNotDelivered({ ...named, reason: error.reason }))
        }),
        // effect/cluster hands an interrupted caller's interrupt on to the task, whose stored ending is then an
        // interruption: asked again (an orchestration resumed after Ctrl-C), the attempt fails typed, and is retried
        // as a new task. This fiber's own interruption is not caught: it stays interrupted.
        Effect.catchCause(
          (cause): Effect.Effect<never, MemberRuns.RemoteRunFailed | MemberRuns.RunNotDelivered> =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.fail(
                  new MemberRuns.RemoteRunFailed({
                    ...named,
                    tag: "Interrupted",
                    reason: "the task was interrupted before it ended",
                    runner: "unknown"
                  })
                )
              : Effect.failCause(cause)
        )
      )
    }
  }
})

/** The members' runs on the runners of the cluster whose client is in context. */
export const layerClient: Layer.Layer<MemberRuns.MemberRuns, never, Client.Client> = Layer.effect(
  MemberRuns.MemberRuns,
  make
)

/** The members' runs on the runners of the cluster whose storage is `postgres` (a client of its own). */
export const layer = (options: Client.Options) => layerClient.pipe(Layer.provide(Client.layer(options)))
