/**
 * A task's result with the head of its run's trail, read on the runner as the run ends: what an orchestration links
 * a run made elsewhere by, so that the trail on the runner can later be checked against it.
 */
import type { AuditLog } from "@troupe/agent"
import * as Effect from "effect/Effect"
import type * as AgentTask from "../AgentTask.ts"

/** `result` with `trailHead` when `audit` holds an intact trail of its run; unchanged otherwise. */
export const attach = (audit: AuditLog.Service | undefined) => (result: AgentTask.TaskResult) =>
  audit === undefined
    ? Effect.succeed(result)
    : audit.verify(result.runId).pipe(
        Effect.map((verification) =>
          verification._tag === "Intact" ? { ...result, trailHead: verification.head } : result
        ),
        Effect.orElseSucceed(() => result)
      )
