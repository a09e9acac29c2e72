/**
 * A task's ending with the head of its run's trail, read on the runner as the run ends: what an orchestration links
 * a run made elsewhere by, so that the trail on the runner can later be checked against it.
 */
import type { AuditEntry, AuditLog } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as AgentTask from "../AgentTask.ts"

const headOf = (audit: AuditLog.Service, runId: string): Effect.Effect<AuditEntry.Head | undefined> =>
  audit.verify(runId).pipe(
    Effect.map((verification) => (verification._tag === "Intact" ? verification.head : undefined)),
    Effect.orElseSucceed(() => undefined)
  )

/** The task's result or failure with `trailHead` when `audit` holds an intact trail of its run. */
export const attach =
  (audit: AuditLog.Service | undefined) =>
  <R>(task: Effect.Effect<AgentTask.TaskResult, AgentTask.TaskFailed, R>) =>
    audit === undefined
      ? task
      : task.pipe(
          Effect.flatMap((result) =>
            Effect.map(headOf(audit, result.runId), (head) =>
              head === undefined ? result : { ...result, trailHead: head }
            )
          ),
          Effect.catchTag("TaskFailed", (failure) =>
            Effect.flatMap(headOf(audit, failure.taskId), (head) =>
              Effect.fail(
                head === undefined
                  ? failure
                  : new AgentTask.TaskFailed({
                      taskId: failure.taskId,
                      tag: failure.tag,
                      reason: failure.reason,
                      runner: failure.runner,
                      trailHead: head
                    })
              )
            )
          )
        )
