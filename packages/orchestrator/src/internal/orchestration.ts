/**
 * One orchestration to its end: decompose the goal, run the subtasks (each once those it depends on are done, up
 * to `concurrency` at once, each on a capable member), and aggregate the report; or stop with a typed error when a
 * subtask fails for good, the team budget runs out, or the orchestration is cancelled. The runs still in progress
 * when it stops are cancelled.
 */
import type { AgentSpec } from "@troupe/agent-spec"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import * as Capabilities from "../Capabilities.ts"
import * as Decomposer from "../Decomposer.ts"
import * as OrchestratorError from "../OrchestratorError.ts"
import type * as OrchestratorEvent from "../OrchestratorEvent.ts"
import * as Report from "../Report.ts"
import * as Subtask from "../Subtask.ts"
import type * as TeamBudget from "../TeamBudget.ts"
import * as Delegating from "./delegating.ts"
import * as Durability from "./durability.ts"

/** Where a subtask stands, as `Status` reports it. */
export interface SubtaskProgress {
  readonly id: string
  readonly title: string
  status: "pending" | "running" | "done" | "failed"
  agent: string | undefined
}

/** What an orchestration needs. */
export interface Context {
  readonly orchestrationId: string
  readonly team: string
  readonly goal: string
  readonly members: ReadonlyArray<Delegating.Member & { readonly spec: AgentSpec.AgentSpec }>
  readonly manager: AgentSpec.AgentSpec | undefined
  readonly plannerModel: LanguageModel.LanguageModel
  /** What the planner's memory holds about the goal, as context; nothing without memory. */
  readonly recall: (goal: string) => Effect.Effect<string | undefined>
  readonly concurrency: number
  readonly retries: number
  readonly runTimeout: number
  readonly budget: TeamBudget.Tracker
  readonly emit: (event: OrchestratorEvent.OrchestratorEvent) => Effect.Effect<void>
  readonly link: Delegating.Delegation["link"]
  /** Completed to cancel the orchestration. */
  readonly cancel: Deferred.Deferred<void>
  /** Updated as subtasks move on. */
  readonly progress: Array<SubtaskProgress>
  /** The orchestration's journalled steps (see `durability.ts`); `Durability.live` when it is not durable. */
  readonly steps: Durability.Steps
  /** Told of each agent run a resumed orchestration finds in its journal, to count what it spent before. */
  readonly replayedRun: (runId: string) => Effect.Effect<void>
}

// Results of the subtasks a subtask depends on go into its task: the team passes work along through them.
const taskOf = (context: Context, subtask: Subtask.Subtask, done: ReadonlyMap<string, Delegating.Done>): string => {
  const inputs = subtask.dependsOn.flatMap((id) => {
    const d = done.get(id)
    return d === undefined ? [] : [`- ${id} (${d.agent}): ${d.result.answer}`]
  })
  return [
    subtask.task,
    "",
    `This is subtask ${subtask.id} (${subtask.title}) of the team's goal: ${context.goal}`,
    ...(inputs.length === 0 ? [] : ["Results of the subtasks it builds on:", ...inputs])
  ].join("\n")
}

/** Runs the orchestration to its report, or its typed error. */
export const execute = (
  context: Context
): Effect.Effect<
  Report.Report,
  | OrchestratorError.DecompositionFailed
  | OrchestratorError.SubtaskFailed
  | OrchestratorError.TeamBudgetExceeded
  | OrchestratorError.OrchestrationCancelled
> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const base = { orchestrationId: context.orchestrationId, team: context.team }
    const done = new Map<string, Delegating.Done>()
    const runIds: Array<string> = []
    const partial = Effect.map(
      context.budget.spend,
      (spend): OrchestratorError.Partial => ({
        orchestrationId: context.orchestrationId,
        done: [...done.keys()],
        runIds: [...runIds],
        spend
      })
    )
    yield* context.emit({
      _tag: "OrchestrationStarted",
      ...base,
      at: started,
      goal: context.goal,
      members: context.members.map((m) => m.name),
      concurrency: context.concurrency
    })

    const work = Effect.gen(function* () {
      const specs = context.members.map((m) => m.spec)
      // Journalled: a resumed orchestration goes on with the plan it had, without asking the manager again.
      const planned = yield* context.steps
        .step(
          "decomposition",
          Effect.flatMap(context.recall(context.goal), (recalled) =>
            Decomposer.decompose({
              goal: context.goal,
              team: context.team,
              members: specs,
              manager: context.manager,
              model: context.plannerModel,
              recalled
            })
          )
        )
        .pipe(
          Effect.catchTag("Undecomposable", (e) =>
            Effect.flatMap(partial, (p) => new OrchestratorError.DecompositionFailed({ reason: e.reason, partial: p }))
          )
        )
      yield* context.steps.sync
      yield* context.budget.charge(planned.charges)
      const subtasks = planned.decomposition.subtasks
      const order = Subtask.order(planned.decomposition) ?? subtasks.map((s) => s.id)
      const byId = new Map(subtasks.map((s) => [s.id, s]))
      yield* context.emit({
        _tag: "OrchestrationPlanned",
        ...base,
        at: yield* Clock.currentTimeMillis,
        by: context.manager?.name ?? "planner",
        subtasks,
        spend: yield* context.budget.spend
      })
      for (const id of order) {
        const s = byId.get(id)!
        context.progress.push({ id, title: s.title, status: "pending", agent: undefined })
      }
      const progressOf = (id: string) => context.progress.find((p) => p.id === id)!
      const finished = new Map(subtasks.map((s) => [s.id, Deferred.makeUnsafe<void>()]))
      const slots = yield* Semaphore.make(context.concurrency)
      const assigned = new Map<string, number>()
      const delegation: Delegating.Delegation = {
        orchestrationId: context.orchestrationId,
        team: context.team,
        retries: context.retries,
        slots,
        runTimeout: context.runTimeout,
        emit: context.emit,
        link: context.link,
        partial,
        now: Clock.currentTimeMillis,
        onRun: (runId) => void runIds.push(runId),
        spent: context.budget.add
      }
      // Every subtask waits for those it depends on; a failure interrupts the others (the goal has failed).
      yield* Effect.forEach(
        subtasks,
        (subtask) =>
          Effect.gen(function* () {
            for (const dependency of subtask.dependsOn) yield* Deferred.await(finished.get(dependency)!)
            // The member the subtask names first, then the least busy capable ones, in the team's order.
            const capable = Capabilities.candidates(specs, subtask.capabilities, subtask.agent)
            const preferred = capable[0]?.name === subtask.agent ? capable.slice(0, 1) : []
            const rest = capable
              .filter((spec) => !preferred.includes(spec))
              .map((spec, index) => ({ spec, index, load: assigned.get(spec.name) ?? 0 }))
              .sort((a, b) => a.load - b.load || a.index - b.index)
              .map((c) => c.spec)
            // Which member gets it depends on which subtasks started first: journalled, so that a replay agrees.
            const names = yield* context.steps.step(
              `candidates/${subtask.id}`,
              Effect.sync(() => [...preferred, ...rest].map((spec) => spec.name))
            )
            const candidates = names.flatMap((name) => {
              const member = context.members.find((m) => m.name === name)
              return member === undefined
                ? []
                : [{ ...member, runs: Durability.memberRuns(context.steps, member.runs, context.replayedRun) }]
            })
            if (candidates[0] !== undefined)
              assigned.set(candidates[0].name, (assigned.get(candidates[0].name) ?? 0) + 1)
            const progress = progressOf(subtask.id)
            progress.status = "running"
            progress.agent = candidates[0]?.name
            const result = yield* Delegating.delegate(
              delegation,
              subtask,
              taskOf(context, subtask, done),
              candidates
            ).pipe(
              Effect.tapError(() =>
                Effect.sync(() => {
                  progress.status = "failed"
                })
              )
            )
            progress.status = "done"
            progress.agent = result.agent
            done.set(subtask.id, result)
            yield* Deferred.succeed(finished.get(subtask.id)!, undefined)
          }),
        { concurrency: "unbounded", discard: true }
      )
      return order
    })

    const overrun = Effect.flatMap(context.budget.exceeded, (over) =>
      Effect.flatMap(
        partial,
        (p) =>
          new OrchestratorError.TeamBudgetExceeded({ limit: over.limit, used: over.used, max: over.max, partial: p })
      )
    )
    const cancelled = Effect.flatMap(Deferred.await(context.cancel), () =>
      Effect.flatMap(partial, (p) => new OrchestratorError.OrchestrationCancelled({ partial: p }))
    )
    const order = yield* Effect.raceAllFirst([work, overrun, cancelled]).pipe(
      // Whatever stopped the orchestration early, no agent keeps working for it.
      Effect.tapError(() => Effect.forEach(context.members, (m) => m.agent.cancel, { discard: true }))
    )
    // A limit passed by the very last step still fails the goal: the team went over what it was allowed.
    const late = yield* context.budget.overrun
    if (late !== undefined) {
      return yield* new OrchestratorError.TeamBudgetExceeded({ ...late, partial: yield* partial })
    }

    const spend = yield* context.budget.spend
    const durationMs = (yield* Clock.currentTimeMillis) - started
    const report: Omit<Report.Report, "summary"> = {
      orchestrationId: context.orchestrationId,
      team: context.team,
      goal: context.goal,
      subtasks: order.map((id) => {
        const d = done.get(id)!
        return {
          id,
          title: context.progress.find((p) => p.id === id)!.title,
          agent: d.agent,
          attempts: d.attempts,
          runIds: d.runIds,
          answer: d.result.answer,
          spend: d.result.spend
        }
      }),
      spend,
      durationMs
    }
    return { ...report, summary: Report.render(report) }
  })
