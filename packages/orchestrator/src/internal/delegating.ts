/**
 * One subtask to its end: handed to a capable member, tried again on failure as the retry policy allows, then
 * handed to the next capable member, and failed for good (naming the subtask, every attempt and the last reason)
 * when none is left. A cancelled run ends the subtask at once: it was the orchestration being stopped.
 */
import type { Agent, AgentError, Run } from "@troupe/agent"
import type { ActorError } from "@troupe/runtime"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Semaphore from "effect/Semaphore"
import * as OrchestratorError from "../OrchestratorError.ts"
import type * as OrchestratorEvent from "../OrchestratorEvent.ts"
import type * as Subtask from "../Subtask.ts"

/** A member of the team as the orchestration uses it. */
export interface Member {
  readonly name: string
  readonly agent: Agent.Agent
  /** An agent runs one goal at a time: subtasks handed to the same member wait for each other. */
  readonly lock: Semaphore.Semaphore
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
  /** Links a run into the orchestration's trail (with the head of its own trail). */
  readonly link: (subtaskId: string, agent: string, runId: string) => Effect.Effect<void>
  /** What has been done and spent so far, for a failure to carry. */
  readonly partial: Effect.Effect<OrchestratorError.Partial>
  readonly now: Effect.Effect<number>
  readonly onRun: (runId: string) => void
}

/** A subtask done. */
export interface Done {
  readonly agent: string
  readonly attempts: number
  readonly runIds: ReadonlyArray<string>
  readonly result: Run.RunResult
}

type RunFailure = AgentError.RunError | ActorError.AskError

const runIdOf = (error: RunFailure): string | undefined =>
  "partial" in error ? error.partial.runId : "runId" in error ? error.runId : undefined

// The member's lock keeps the orchestration's own runs apart, but a teammate may have delegated to it (its
// `delegate` tool runs the member outside the lock): busy is waited out, not counted as an attempt.
const runOn = (member: Member, task: string, timeout: number) =>
  member.agent
    .run(task, { timeout })
    .pipe(Effect.retry({ while: (e) => e._tag === "AgentBusy", schedule: Schedule.spaced("1 millis"), times: 60_000 }))

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
        const outcome = yield* Effect.result(
          member.lock.withPermit(delegation.slots.withPermit(runOn(member, task, delegation.runTimeout)))
        )
        const runId = outcome._tag === "Success" ? outcome.success.runId : runIdOf(outcome.failure)
        if (runId !== undefined) {
          runIds.push(runId)
          delegation.onRun(runId)
          yield* delegation.link(subtask.id, member.name, runId)
        }
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
