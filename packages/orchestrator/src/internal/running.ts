/**
 * One orchestration as the orchestrator's child actor runs it: its budget, its trail (every event written before it
 * is published, each agent run linked with its trail's head, the trail synced before the answer) and its ending.
 */
import type { AuditLog } from "@troupe/agent"
import type { TeamSpec } from "@troupe/agent-spec"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type * as MemberRuns from "../MemberRuns.ts"
import type * as OrchestratorError from "../OrchestratorError.ts"
import type * as OrchestratorEvent from "../OrchestratorEvent.ts"
import type * as Report from "../Report.ts"
import * as TeamBudget from "../TeamBudget.ts"
import * as TeamTrail from "../TeamTrail.ts"
import * as Orchestration from "./orchestration.ts"

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
      const trail =
        audit === undefined ? undefined : yield* audit.open(current.orchestrationId, "orchestrator").pipe(Effect.orDie)
      const emit = (event: OrchestratorEvent.OrchestratorEvent) =>
        trail === undefined
          ? env.publish(event)
          : Effect.andThen(trail.appendEvent(event).pipe(Effect.orDie), env.publish(event))
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
      const exit = yield* Effect.exit(
        Orchestration.execute({
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
          progress: current.progress
        })
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
