/** How a running job is cancelled, and what becomes of the approvals it waited for. */
import type { ApprovalStore } from "@troupe/agent"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { Conflict, type Job } from "../ServerApi.ts"
import * as JobEntry from "./jobEntry.ts"

/**
 * Asks the job's run to stop and returns the job as it stood (a job that ended already is a `Conflict`); once it has
 * ended, in a fiber of `scope`, the approvals it waited for are recorded as denied by `by`.
 */
export const cancel = (
  entry: JobEntry.Entry,
  by: string,
  approvals: ApprovalStore.Store,
  scope: Scope.Scope
): Effect.Effect<Job, Conflict> =>
  Effect.suspend(() => {
    if (Deferred.isDoneUnsafe(entry.ended)) return Effect.fail(new Conflict({ message: "that job has ended" }))
    const job = JobEntry.snapshot(entry)
    // The approvals it waited for would stay listed as waiting: once it has ended they are recorded as denied.
    const closeApprovals = Effect.andThen(
      Deferred.await(entry.ended),
      Effect.forEach(job.pendingApprovals, (approvalId) =>
        approvals.decide(approvalId, { approved: false, by, reason: "the job was cancelled" }).pipe(Effect.ignore)
      )
    )
    return entry.cancel.pipe(Effect.andThen(Effect.forkIn(closeApprovals, scope)), Effect.as(job))
  })
