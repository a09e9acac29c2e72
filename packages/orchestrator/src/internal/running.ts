/**
 * One orchestration as the orchestrator's child actor runs it: its budget, its trail (every event written before it
 * is published, each agent run linked with its trail's head, the trail synced before the answer) and its ending.
 */
import { AgentEvent, type AuditLog } from "@troupe/agent"
import type { TeamSpec } from "@troupe/agent-spec"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as MemberRuns from "../MemberRuns.ts"
import type * as OrchestratorError from "../OrchestratorError.ts"
import type * as OrchestratorEvent from "../OrchestratorEvent.ts"
import type * as Report from "../Report.ts"
import * as TeamBudget from "../TeamBudget.ts"
import * as TeamTrail from "../TeamTrail.ts"
import * as Durability from "./durability.ts"
import * as Orchestration from "./orchestration.ts"
import * as ResumedTrail from "./resumedTrail.ts"

/** What the orchestrator's behaviour runs with. */
export interface Environment {
  readonly team: TeamSpec.Team
  /** Filled once the members are started. */
  readonly members: Array<Orchestration.Context["members"][number]>
  readonly plannerModel: LanguageModel.LanguageModel
  readonly recall: (goal: string) => Effect.Effect<string | undefined>
  readonly concurrency: number
  readonly retries: number
  readonly runTimeout: number
  readonly budget: TeamBudget.Limits
  readonly audit: AuditLog.Service | undefined
  readonly publish: (event: OrchestratorEvent.OrchestratorEvent) => Effect.Effect<void>
  /** The budget of the orchestration in progress: the agents' events are counted into it as they are published. */
  readonly budgetOf: { tracker: TeamBudget.Tracker | undefined }
  /** Present when a `RunJournal` engine was in context: every orchestration is a workflow execution of it. */
  readonly durability: Durability.Durability | undefined
}

export interface Current {
  readonly orchestrationId: string
  readonly cancel: Deferred.Deferred<void>
  readonly progress: Array<Orchestration.SubtaskProgress>
}

/** An orchestration id that sorts by start time: `orch-20261130T110512-k3f9c2`. */
export const newOrchestrationId = Effect.gen(function* () {
  const stamp = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/[-:]/g, "").slice(0, 15)
  const suffix = (yield* Random.nextIntBetween(0, 36 ** 6)).toString(36).padStart(6, "0")
  return `orch-${stamp}-${suffix}`
})

const decodeAgentEvent = Schema.decodeUnknownOption(AgentEvent.AgentEvent)

// What a run spent before the orchestration stopped, from its trail: its steps and model calls, counted into the team
// budget as they were live (a resumed run does not publish the events it replays).
const spentBy = (audit: AuditLog.Service, runId: string, budget: TeamBudget.Tracker): Effect.Effect<void> =>
  audit.read(runId).pipe(
    Stream.filter((entry) => entry.type === "AgentStepStarted" || entry.type === "AgentModelCalled"),
    Stream.runForEach((entry) => {
      const event = decodeAgentEvent({ ...(entry.data as object), _tag: entry.type })
      return Option.isSome(event) ? budget.count(event.value) : Effect.void
    }),
    Effect.orElseSucceed(() => undefined)
  )

const statusOf = (error: OrchestratorError.OrchestrationError): OrchestratorEvent.Status =>
  error._tag === "TeamBudgetExceeded"
    ? "budget-exceeded"
    : error._tag === "OrchestrationCancelled"
      ? "cancelled"
      : "failed"

/**
 * The orchestration with its trail: every event written to it before it is published, each run linked with its
 * trail's head, the end recorded, and the trail synced before the orchestration answers.
 */
export const run = (
  env: Environment,
  current: Current,
  goal: string
): Effect.Effect<Report.Report, Exclude<OrchestratorError.OrchestrationError, { _tag: "OrchestratorBusy" }>> =>
  Effect.scoped(
    Effect.gen(function* () {
      const audit = env.audit
      // A resumed orchestration continues its trail: what the replay emits again is not written twice.
      const existing =
        audit === undefined || env.durability === undefined
          ? []
          : yield* ResumedTrail.recorded(audit, current.orchestrationId)
      const trail =
        audit === undefined ? undefined : yield* audit.open(current.orchestrationId, "orchestrator").pipe(Effect.orDie)
      const write = (event: OrchestratorEvent.OrchestratorEvent) =>
        trail === undefined
          ? env.publish(event)
          : Effect.andThen(trail.appendEvent(event).pipe(Effect.orDie), env.publish(event))
      const emit = existing.length === 0 ? write : ResumedTrail.skipRecorded(existing, write)
      const base = { orchestrationId: current.orchestrationId, team: env.team.name }
      const link = (subtaskId: string, agent: string, runId: string, elsewhere?: MemberRuns.Elsewhere) =>
        audit === undefined
          ? Effect.void
          : Effect.flatMap(
              // A run made elsewhere has its trail there: the link holds the head its runner read.
              elsewhere === undefined
                ? TeamTrail.headOf(audit, runId)
                : Effect.succeed(
                    elsewhere.head === undefined
                      ? { runner: elsewhere.runner, broken: `no trail was read on runner ${elsewhere.runner}` }
                      : { runner: elsewhere.runner, head: elsewhere.head }
                  ),
              (found) =>
                Effect.flatMap(Clock.currentTimeMillis, (at) =>
                  emit({ _tag: "OrchestrationRunLinked", ...base, at, subtaskId, agent, runId, ...found })
                )
            )
      const budget = yield* TeamBudget.make(env.budget, (over) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          emit({ _tag: "OrchestrationBudgetWarning", ...base, at, ...over })
        )
      )
      env.budgetOf.tracker = budget
      const started = yield* Clock.currentTimeMillis
      const steps = Durability.steps(env.durability, current.orchestrationId)
      const execution = Orchestration.execute({
        orchestrationId: current.orchestrationId,
        team: env.team.name,
        goal,
        members: env.members,
        manager: env.team.manager,
        plannerModel: env.plannerModel,
        recall: env.recall,
        concurrency: env.concurrency,
        retries: env.retries,
        runTimeout: env.runTimeout,
        budget,
        emit,
        link,
        cancel: current.cancel,
        progress: current.progress,
        steps,
        replayedRun: (runId) => (audit === undefined ? Effect.void : spentBy(audit, runId, budget))
      })
      const exit = yield* Effect.exit(
        env.durability === undefined
          ? execution
          : Durability.execute(env.durability, current.orchestrationId, goal, execution)
      ).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            env.budgetOf.tracker = undefined
          })
        )
      )
      const spend = yield* budget.spend
      const at = yield* Clock.currentTimeMillis
      const failure = exit._tag === "Failure" ? Cause.findErrorOption(exit.cause) : undefined
      yield* emit({
        _tag: "OrchestrationEnded",
        ...base,
        at,
        status:
          exit._tag === "Success"
            ? "done"
            : failure !== undefined && failure._tag === "Some"
              ? statusOf(failure.value)
              : "failed",
        spend,
        durationMs: at - started,
        ...(failure !== undefined && failure._tag === "Some"
          ? { error: { tag: failure.value._tag, message: failure.value.message } }
          : {})
      })
      if (trail !== undefined) yield* trail.sync.pipe(Effect.orDie)
      return yield* exit
    })
  )
