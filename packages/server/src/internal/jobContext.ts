/** What the kinds of job share: where they run and are kept, how an agent run is recorded, how a job is followed. */
import { Agent, type AgentEvents } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type { Conflict, Job, ServerFailure } from "../ServerApi.ts"
import * as JobEntry from "./jobEntry.ts"
import * as JobFollow from "./jobFollow.ts"
import * as JobLock from "./jobLock.ts"
import * as JobRecords from "./jobRecords.ts"
import type * as JobTable from "./jobTable.ts"

/** Where jobs run and are kept: the server's scope, the jobs' table, the directory of their records. */
export interface JobContext {
  readonly scope: Scope.Scope
  readonly table: JobTable.Table
  readonly records: string | undefined
  /** The agents' events, which agent and team jobs follow. */
  readonly hub: AgentEvents.AgentEvents["Service"]
}

/**
 * What an agent job is resumed or recorded with: the name the request gave its spec (a job without one is not
 * recorded), and the run it resumes.
 */
export interface Durable {
  readonly spec?: string | undefined
  readonly runId?: string | undefined
}

/** Submits `goal` for `by` to an agent job's `target` (an agent here, or a spec for a remote). */
export type SubmitAgent<Target, Context extends JobContext = JobContext> = (
  context: Context,
  target: Target,
  goal: string,
  by: string,
  durable?: Durable
) => Effect.Effect<Job, Conflict | ServerFailure>

/**
 * The run id of an agent job (`durable.runId`, or a fresh one), recorded as started; what records its end; and the
 * job's scope, holding the run's lock when it is recorded (see `JobLock`).
 */
export const recordAgentRun = (context: JobContext, goal: string, by: string, durable: Durable) =>
  Effect.gen(function* () {
    const runId = durable.runId ?? (yield* Agent.newRunId)
    const records = durable.spec === undefined ? undefined : context.records
    const jobScope = yield* JobLock.scopeFor(records, runId, "run")
    const recordEnd = yield* JobRecords.open(records, runId, { spec: durable.spec ?? "", goal, submittedBy: by }).pipe(
      Effect.onError(() => Scope.close(jobScope, Exit.void))
    )
    return { runId, recordEnd, jobScope }
  })

/** Follows `run` into `entry` in the server's scope (see `JobFollow.follow`) and returns the job as it stands. */
export const follow = <A, E>(
  context: JobContext,
  entry: JobEntry.Entry,
  run: Fiber.Fiber<A, E>,
  how: {
    readonly subscriptions: ReadonlyArray<JobFollow.Routed>
    readonly outcome: (exit: Exit.Exit<A, E>) => JobEntry.Outcome
    readonly jobScope: Scope.Closeable
    readonly onEnd: Effect.Effect<void> | undefined
  }
): Effect.Effect<Job> =>
  Effect.map(JobFollow.follow({ scope: context.scope, maxKept: context.table.maxKept, entry, run, ...how }), () =>
    JobEntry.snapshot(entry)
  )
