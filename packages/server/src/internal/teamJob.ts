/** A job of a team: one orchestration, followed through its orchestrator's events and its members' agent events. */
import type { AgentEvent } from "@troupe/agent"
import { Orchestrator, type OrchestratorEvent } from "@troupe/orchestrator"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as PubSub from "effect/PubSub"
import * as Scope from "effect/Scope"
import { Conflict } from "../ServerApi.ts"
import * as JobContext from "./jobContext.ts"
import type * as JobEntry from "./jobEntry.ts"
import * as JobLock from "./jobLock.ts"
import * as JobRecords from "./jobRecords.ts"
import type * as StartedSpecs from "./startedSpecs.ts"
import * as TeamGoal from "./teamGoal.ts"

/**
 * Hands `goal` to the team (a `Conflict` while it pursues another, or when its orchestrator does not take it). The job
 * is recorded for a restarted server with `durable.spec`, the name the request gave (empty for the server's own team);
 * `durable.orchestrationId` resumes an orchestration a previous server did not finish, a fresh one by default.
 */
export const submit = (
  context: JobContext.JobContext,
  started: StartedSpecs.Team,
  goal: string,
  by: string,
  durable: { readonly spec: string; readonly orchestrationId?: string | undefined }
) =>
  Effect.gen(function* () {
    const orchestrator = started.orchestrator
    const status = yield* orchestrator.status.pipe(Effect.orElseSucceed(() => undefined))
    if (status !== undefined && status.state !== "idle") {
      return yield* new Conflict({ message: `team ${orchestrator.team} is pursuing another goal` })
    }
    const orchestrationId = durable.orchestrationId ?? (yield* Orchestrator.newOrchestrationId)
    const jobScope = yield* JobLock.scopeFor(context.records, orchestrationId, "orchestration")
    const recordEnd = yield* JobRecords.open(context.records, orchestrationId, {
      kind: "team",
      team: orchestrator.team,
      teamDigest: started.digest,
      spec: durable.spec,
      goal,
      submittedBy: by
    }).pipe(Effect.onError(() => Scope.close(jobScope, Exit.void)))
    const teamEvents = yield* orchestrator.subscribe.pipe(Scope.provide(jobScope))
    const agentEvents = yield* context.hub.subscribe.pipe(Scope.provide(jobScope))
    const ending = yield* TeamGoal.offer(orchestrator, goal, orchestrationId)
    if (typeof ending === "string") {
      yield* Scope.close(jobScope, Exit.void)
      // A resumed goal refused stays recorded, for the next server to resume.
      if (recordEnd !== undefined && durable.orchestrationId === undefined) yield* recordEnd
      return yield* new Conflict({
        message:
          ending === "busy"
            ? `team ${orchestrator.team} is pursuing another goal`
            : `team ${orchestrator.team} could not start the goal`
      })
    }
    const run = yield* Effect.forkIn(ending, context.scope)
    const entry = yield* context.table.add(orchestrationId, "team", orchestrator.team, goal, by)
    entry.cancel = orchestrator.cancel
    return yield* JobContext.follow(context, entry, run, {
      subscriptions: [
        {
          subscription: teamEvents as PubSub.Subscription<JobEntry.Source["event"]>,
          route: (event) =>
            "orchestrationId" in event && event.orchestrationId === orchestrationId
              ? { _tag: "Orchestrator", event: event as OrchestratorEvent.OrchestratorEvent }
              : undefined
        },
        {
          subscription: agentEvents as PubSub.Subscription<JobEntry.Source["event"]>,
          route: (event) =>
            event._tag.startsWith("Agent") && "agent" in event && started.members.has(event.agent)
              ? { _tag: "Agent", event: event as AgentEvent.AgentEvent }
              : undefined
        }
      ],
      outcome: (exit) => Exit.map(exit, (report) => ({ answer: report.summary, spend: report.spend })),
      jobScope,
      onEnd: recordEnd
    })
  })
