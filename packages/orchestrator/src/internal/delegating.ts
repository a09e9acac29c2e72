/**
 * One subtask to its end: handed to a capable member, tried again on failure as the retry policy allows, then
 * handed to the next capable member, and failed for good (naming the subtask, every attempt and the last reason)
 * when none is left. A cancelled run ends the subtask at once: it was the orchestration being stopped.
 */
import type { Agent, Run, Spend } from "@troupe/agent"
import type { AgentSpec } from "@troupe/agent-spec"
import * as Effect from "effect/Effect"
import type * as Semaphore from "effect/Semaphore"
import type * as MemberRuns from "../MemberRuns.ts"
import * as OrchestratorError from "../OrchestratorError.ts"
import type * as OrchestratorEvent from "../OrchestratorEvent.ts"
import type * as Subtask from "../Subtask.ts"

/** A member of the team as the orchestration uses it. */
export interface Member {
  readonly name: string
  readonly spec: AgentSpec.AgentSpec
  readonly agent: Agent.Agent
  /** An agent runs one goal at a time: subtasks handed to the same member wait for each other (when runs are exclusive). */
  readonly lock: Semaphore.Semaphore
  /** How the member's runs are carried out: on its actor here, or elsewhere (see `MemberRuns`). */
  readonly runs: MemberRuns.Service
}

/** What delegating a subtask needs from the orchestration. */
export interface Delegation {
  readonly orchestrationId: string
  readonly team: string
  /** Tries on one member before the next capable one is asked (1 + retries in all). */
  readonly retries: number
  /** Bounds how many subtasks run at once. */
  readonly slots: Semaphore.Semaphore
  readonly runTimeout: number
  readonly emit: (event: OrchestratorEvent.OrchestratorEvent) => Effect.Effect<void>
  /** Links a run into the orchestration's trail (with the head of its own trail, or where it is when elsewhere). */
  readonly link: (
    subtaskId: string,
    agent: string,
    runId: string,
    elsewhere?: MemberRuns.Elsewhere | undefined
  ) => Effect.Effect<void>
  /** What has been done and spent so far, for a failure to carry. */
  readonly partial: Effect.Effect<OrchestratorError.Partial>
  readonly now: Effect.Effect<number>
  readonly onRun: (runId: string) => void
  /** Counts into the team budget what a run made elsewhere spent (a local run's events are counted as they come). */
  readonly spent: (spend: Spend.Spend) => Effect.Effect<void>
}

/** A subtask done. */
export interface Done {
  readonly agent: string
  readonly attempts: number
  readonly runIds: ReadonlyArray<string>
  readonly result: Run.RunResult
}

// A run never delivered has no trail anywhere: nothing to link.
const runIdOf = (error: MemberRuns.Failure): string | undefined =>
  error._tag === "RunNotDelivered"
    ? undefined
    : "partial" in error
      ? error.partial.runId
      : "runId" in error
        ? error.runId
        : undefined

// A failed run made elsewhere is linked too: its trail, whatever it holds, is on that runner.
const remoteOf = (
  outcome: { readonly _tag: "Failure"; readonly failure: MemberRuns.Failure } | { readonly _tag: "Success" }
) =>
  outcome._tag === "Failure" && outcome.failure._tag === "RemoteRunFailed"
    ? { runner: outcome.failure.runner, head: outcome.failure.head }
    : undefined

/** Runs `subtask` (as `task`) on `candidates` in order until one succeeds. */
export const delegate = (
  delegation: Delegation,
  subtask: Subtask.Subtask,
  task: string,
  candidates: ReadonlyArray<Member>
): Effect.Effect<Done, OrchestratorError.SubtaskFailed | OrchestratorError.OrchestrationCancelled> =>
  Effect.gen(function* () {
    const attempts: Array<OrchestratorError.Attempt> = []
    const runIds: Array<string> = []
    const base = { orchestrationId: delegation.orchestrationId, team: delegation.team }
    for (let m = 0; m < candidates.length; m++) {
      const member = candidates[m]!
      for (let tryNumber = 0; tryNumber <= delegation.retries; tryNumber++) {
        const attempt = attempts.length + 1
        yield* delegation.emit({
          _tag: "OrchestrationSubtaskAssigned",
          ...base,
          at: yield* delegation.now,
          subtaskId: subtask.id,
          agent: member.name,
          attempt
        })
        const run = delegation.slots.withPermit(
          member.runs.run({
            orchestrationId: delegation.orchestrationId,
            subtaskId: subtask.id,
            attempt,
            member,
            task,
            timeout: delegation.runTimeout
          })
        )
        const ran = yield* Effect.result(member.runs.exclusive ? member.lock.withPermit(run) : run)
        const outcome = ran._tag === "Success" ? ({ _tag: "Success", success: ran.success.result } as const) : ran
        const runId = outcome._tag === "Success" ? outcome.success.runId : runIdOf(outcome.failure)
        if (runId !== undefined) {
          runIds.push(runId)
          delegation.onRun(runId)
          yield* delegation.link(
            subtask.id,
            member.name,
            runId,
            ran._tag === "Success" ? ran.success.elsewhere : remoteOf(outcome)
          )
        }
        if (ran._tag === "Success" && ran.success.elsewhere !== undefined)
          yield* delegation.spent(ran.success.result.spend)
        if (outcome._tag === "Success") {
          yield* delegation.emit({
            _tag: "OrchestrationSubtaskSucceeded",
            ...base,
            at: yield* delegation.now,
            subtaskId: subtask.id,
            agent: member.name,
            attempt,
            runId: outcome.success.runId,
            answer: outcome.success.answer,
            spend: outcome.success.spend
          })
          return { agent: member.name, attempts: attempt, runIds, result: outcome.success }
        }
        const error = outcome.failure
        attempts.push({
          agent: member.name,
          ...(runId === undefined ? {} : { runId }),
          error: { tag: error._tag, message: error.message }
        })
        const cancelled = error._tag === "RunCancelled"
        const next = cancelled
          ? "fail"
          : tryNumber < delegation.retries
            ? "retry"
            : m < candidates.length - 1
              ? "reassign"
              : "fail"
        yield* delegation.emit({
          _tag: "OrchestrationSubtaskFailed",
          ...base,
          at: yield* delegation.now,
          subtaskId: subtask.id,
          agent: member.name,
          attempt,
          ...(runId === undefined ? {} : { runId }),
          error: { tag: error._tag, message: error.message },
          next
        })
        if (cancelled) {
          return yield* new OrchestratorError.OrchestrationCancelled({ partial: yield* delegation.partial })
        }
        if (next === "reassign") break
      }
    }
    return yield* new OrchestratorError.SubtaskFailed({
      subtask: subtask.id,
      title: subtask.title,
      reason: attempts.at(-1)?.error.message ?? "no member could take it",
      attempts,
      partial: yield* delegation.partial
    })
  })
