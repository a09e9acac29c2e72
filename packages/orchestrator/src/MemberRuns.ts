/**
 * How a subtask's agent run is carried out: the seam between the orchestration (which member takes a subtask, how
 * often it is tried, who gets it next) and the place the run happens.
 *
 * The orchestration decides the same way wherever its members run; only this layer changes. `layerLocal` (the
 * default when none is in context) runs each attempt on the member's agent actor in the orchestrator's process.
 * `@troupe/cluster`'s `ClusterMemberRuns` submits each attempt to a cluster's runners as an agent task instead.
 * Every failure is typed, and the orchestration treats them alike: a failed attempt is retried on the same member,
 * then handed to the next capable one.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { MemberRuns, Orchestrator } from "@troupe/orchestrator"
 *
 * // The default, spelled out: members run as actors of this process.
 * const program = Orchestrator.make(team).pipe(Effect.provide(MemberRuns.layerLocal))
 * ```
 */
import { type Agent, type AgentError, AuditEntry, type Run } from "@troupe/agent"
import type { AgentSpec } from "@troupe/agent-spec"
import type { ActorError } from "@troupe/runtime"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"

/** One attempt at a subtask on one member. */
export interface Request {
  readonly orchestrationId: string
  readonly subtaskId: string
  /** The attempt's number within its subtask, from 1; retries and reassignments count on. */
  readonly attempt: number
  readonly member: {
    readonly name: string
    readonly spec: AgentSpec.AgentSpec
    /** The member's agent actor in this process (what `layerLocal` runs on). */
    readonly agent: Agent.Agent
  }
  /** The member's goal: the subtask's task with the results it builds on. */
  readonly task: string
  /** The longest the run may take, in milliseconds, approvals included. */
  readonly timeout: number
}

/** Where a run's trail is when it is not in the orchestration's audit log. */
export interface Elsewhere {
  /** The runner that ran it to its end (`HOST:PORT`), whose `$TROUPE_HOME/runs/<runId>/` holds the trail. */
  readonly runner: string
  /** The head of that trail as the runner read it when the run ended; none when the runner keeps no trail. */
  readonly head: AuditEntry.Head | undefined
}

/** An attempt that reached its goal. */
export interface Done {
  readonly result: Run.RunResult
  /** Set for a run made elsewhere: its trail is linked by run id, runner and head. */
  readonly elsewhere?: Elsewhere | undefined
}

/** A run made elsewhere ended without an answer: `tag` is the agent's error (`GaveUp`, `BudgetExceeded`, ...). */
export class RemoteRunFailed extends Schema.TaggedError<RemoteRunFailed>()("RemoteRunFailed", {
  subtaskId: Schema.String,
  agent: Schema.String,
  runId: Schema.String,
  tag: Schema.String,
  reason: Schema.String,
  runner: Schema.String,
  /** The head of the run's trail on its runner when it ended, when it left one. */
  head: Schema.optionalKey(AuditEntry.Head)
}) {
  override get message(): string {
    return `subtask ${this.subtaskId}: ${this.agent}'s run ${this.runId} failed on ${this.runner} (${this.tag}): ${this.reason}`
  }
}

/** The place runs are made could not take the attempt (its storage failed, or no runner could be reached). */
export class RunNotDelivered extends Schema.TaggedError<RunNotDelivered>()("RunNotDelivered", {
  subtaskId: Schema.String,
  agent: Schema.String,
  runId: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `subtask ${this.subtaskId}: ${this.agent}'s run ${this.runId} was not delivered: ${this.reason}`
  }
}

/** Every way an attempt ends without an answer. */
export type Failure = AgentError.RunError | ActorError.AskError | RemoteRunFailed | RunNotDelivered

/** The seam's shape. */
export interface Service {
  /**
   * Whether one member's runs exclude each other: an agent actor runs one goal at a time, so the orchestration then
   * hands a member its subtasks one after the other. A fresh agent per run (a cluster task) needs no such turn.
   */
  readonly exclusive: boolean
  /** Runs one attempt to its end. */
  readonly run: (request: Request) => Effect.Effect<Done, Failure>
}

/** How the orchestrator in context carries out its members' runs. */
export class MemberRuns extends Context.Service<MemberRuns, Service>()("@troupe/orchestrator/MemberRuns") {}

// A teammate may have delegated to the member (its `delegate` tool runs the member outside the orchestration):
// busy is waited out, not counted as an attempt.
const runOn = (request: Request) =>
  request.member.agent
    .run(request.task, { timeout: request.timeout })
    .pipe(Effect.retry({ while: (e) => e._tag === "AgentBusy", schedule: Schedule.spaced("1 millis"), times: 60_000 }))

/** Runs on the member's agent actor in this process; its trail is in the orchestration's audit log. */
export const local: Service = {
  exclusive: true,
  run: (request) => Effect.map(runOn(request), (result) => ({ result }))
}

/** The members' runs on their actors in this process (the default). */
export const layerLocal: Layer.Layer<MemberRuns> = Layer.succeed(MemberRuns, local)
