/**
 * Resuming the jobs a previous server did not finish, where their journals stop: agent runs, and orchestrations under
 * the same id (a team's one goal at a time: at most one per team was running).
 */
import type { AuditLog } from "@troupe/agent"
import * as Effect from "effect/Effect"
import { type Conflict, InvalidRequest, type Job, type ServerFailure } from "../ServerApi.ts"
import * as JobRecords from "./jobRecords.ts"
import * as SpecPath from "./specPath.ts"
import type * as StartedSpecs from "./startedSpecs.ts"
import * as TeamGoal from "./teamGoal.ts"

/** Starts a job on a team or agent started, as `Jobs.submit` does; `durable.runId` resumes that run. */
export type Submit = (
  started: StartedSpecs.Started,
  goal: string,
  by: string,
  durable: { readonly spec: string; readonly runId?: string | undefined }
) => Effect.Effect<Job, Conflict | ServerFailure>

/** Submits again every unfinished job recorded in `records`, each under its id; none fails the server's start. */
export const resumeUnfinished = (options: {
  readonly records: string
  readonly specRoot: string
  readonly audit: AuditLog.Service
  /** The server's own team (the records of its jobs name no spec). */
  readonly team: StartedSpecs.Started | undefined
  readonly load: (file: string) => Effect.Effect<StartedSpecs.Started, InvalidRequest | Conflict>
  readonly submit: Submit
}): Effect.Effect<void> =>
  Effect.gen(function* () {
    const records = options.records
    for (const { runId, record } of yield* JobRecords.unfinished(records)) {
      yield* Effect.gen(function* () {
        const started =
          record.kind === "team" && record.spec === ""
            ? options.team
            : yield* options.load(yield* SpecPath.insideRoot(options.specRoot, record.spec))
        if (record.kind === "team") {
          if (started?._tag !== "Team" || started.digest !== record.teamDigest) {
            return yield* new InvalidRequest({ message: "its team changed since it started (or is gone)" })
          }
          if (yield* TeamGoal.hasEnded(options.audit, runId)) {
            return yield* new InvalidRequest({ message: "its orchestration has ended" })
          }
        } else if (started?._tag !== "Agent" && started?._tag !== "Remote") {
          return yield* new InvalidRequest({ message: "no longer an agent spec" })
        }
        yield* options.submit(started, record.goal, record.submittedBy, { spec: record.spec, runId })
      }).pipe(
        // A job that cannot be resumed (its spec gone or changed, its orchestration ended) is closed; one whose team
        // or agent cannot start now (a key missing from this server's environment) stays for the next start.
        Effect.catch((error) =>
          Effect.logWarning(`job ${runId} not resumed: ${error.message}`).pipe(
            Effect.andThen(
              error._tag === "Conflict" ? Effect.void : JobRecords.write(records, runId, { ...record, ended: true })
            ),
            Effect.ignore
          )
        )
      )
    }
  })
