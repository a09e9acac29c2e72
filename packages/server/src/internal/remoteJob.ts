/**
 * A job of an agent run handed to `Jobs.Remote` (a cluster's runners): its events stay where it runs; the job has its
 * end.
 */
import type { AgentSpec } from "@troupe/agent-spec"
import { DetachedRuns } from "@troupe/orchestrator"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import type { Remote } from "../Jobs.ts"
import * as JobContext from "./jobContext.ts"

/**
 * Where remote jobs run: the remote, and the scope of the runs handed to it, interrupted when the server stops unless
 * `stopping` was set first (their tasks go on).
 */
export interface Context extends JobContext.JobContext {
  readonly remote: Remote
  readonly remoteRuns: Scope.Scope
  readonly stopping: DetachedRuns.Stopping
}

/** Hands `goal` for the agent of `spec` to the remote; resumed, its run id is the task's: the same task is waited for. */
export const submit: JobContext.SubmitAgent<AgentSpec.AgentSpec, Context> = (context, spec, goal, by, durable = {}) =>
  Effect.gen(function* () {
    const { runId, recordEnd, jobScope } = yield* JobContext.recordAgentRun(context, goal, by, durable)
    const entry = yield* context.table.add(runId, "agent", spec.name, goal, by)
    entry.runIds.add(runId)
    const run = yield* Effect.forkIn(
      DetachedRuns.detached(context.remote.run(spec, goal, runId), context.stopping),
      context.remoteRuns
    )
    entry.cancel = Effect.asVoid(Fiber.interrupt(run))
    return yield* JobContext.follow(context, entry, run, {
      subscriptions: [],
      outcome: (exit) => exit,
      jobScope,
      onEnd: recordEnd
    })
  })
