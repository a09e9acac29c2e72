/**
 * One task on a runner: the spec decoded again, the agent made in an actor system and event hub of its own (so two
 * tasks of the same agent never share a name or a stream), with the runner's long-term memory when it has one, run on
 * the goal as a workflow of the cluster's engine when the runner has one (`durableTasks`), and its ending turned into
 * the task's.
 */
import { Agent, AgentEvents, type ApprovalStore, type AuditLog } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import type { ProviderPool } from "@troupe/providers"
import { ActorSystem } from "@troupe/runtime"
import type { Workspace } from "@troupe/tools"
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import * as AgentTask from "../AgentTask.ts"
import * as DurableTasks from "./durableTasks.ts"

/** How a runner runs its tasks. */
export interface Settings {
  /** `HOST:PORT`, named in results and failures. */
  readonly runner: string
  /** Approve the calls a spec's policy asks about; without it they are denied, as no one is there to ask. */
  readonly approveAsk: boolean
  /**
   * Where the calls a spec's policy asks about wait for a person instead of being denied (`troupe approvals` on the
   * runner's machine decides them).
   */
  readonly approvals?: ApprovalStore.Store | undefined
  /** Where each task's run writes its trail (`runs/<taskId>/audit.jsonl`); none when absent. */
  readonly audit?: AuditLog.Service | undefined
  /**
   * The runner's long-term memory and knowledge base, given to the agents whose spec enables memory; without them
   * every agent runs with none.
   */
  readonly memory?: Agent.Options["memory"]
  readonly knowledgeBase?: Agent.Options["knowledgeBase"]
  /** With it, each task's run is a workflow of the cluster's engine: what it did is replayed after a takeover. */
  readonly durable?: DurableTasks.Registry | undefined
  /** The longest a task may run, approvals included. */
  readonly timeout: Duration.Input
  /** Told when a task starts and ends (the runner prints it), with its id cut to 128 characters. */
  readonly onTask?: ((event: "started" | "done" | "failed", taskId: string) => Effect.Effect<void>) | undefined
}

/** Whatever a run ends with, as a task's failure. */
const failed = (settings: Settings, taskId: string, tag: string, reason: string) =>
  new AgentTask.TaskFailed({ taskId, tag, reason: reason.slice(0, 2000), runner: settings.runner })

// A task id names the run and its trail's directory: what a file name can safely be, nothing more.
const taskIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

// What is told of a task id that may be anything a client sent: a bounded piece of it.
const shownId = (taskId: string) => (taskId.length <= 128 ? taskId : `${taskId.slice(0, 128)}…`)

// A request is published before the gate waits on it, and a durable run's gate waits only once its activity has
// started (a storage round trip later): the denial is sent once the agent reports the request pending.
const denyUnanswerable = (agent: Agent.Agent) =>
  Stream.runForEach(agent.events, (event) =>
    event._tag === "AgentApprovalRequested"
      ? Effect.forkChild(
          agent.status.pipe(
            Effect.map((status) => status.pendingApprovals.some((p) => p.approvalId === event.approvalId)),
            Effect.orElseSucceed(() => false),
            Effect.repeat({ until: (pending) => pending, schedule: Schedule.spaced("50 millis") }),
            Effect.timeout("5 minutes"),
            Effect.andThen(
              agent.deny(event.approvalId, "runner", "no one at the runner can approve it; the spec's approvals decide")
            ),
            Effect.ignore
          )
        )
      : Effect.void
  )

/** Runs one task to its end: the result, or `TaskFailed`. Interrupted when the runner stops. */
export const runTask = (
  settings: Settings,
  task: AgentTask.Task
): Effect.Effect<
  AgentTask.TaskResult,
  AgentTask.TaskFailed,
  ProviderPool.ProviderPool | HttpClient.HttpClient | Workspace.Workspace
> =>
  Effect.gen(function* () {
    if (!taskIdPattern.test(task.taskId)) {
      return yield* failed(
        settings,
        task.taskId.slice(0, 128),
        "TaskIdInvalid",
        "a task id is 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'"
      )
    }
    const spec = yield* Schema.decodeUnknownEffect(AgentSpec.AgentSpec)(task.spec, AgentSpec.parseOptions).pipe(
      Effect.mapError((error) => failed(settings, task.taskId, "SpecInvalid", error.message))
    )
    const agent = yield* Agent.make(spec, {
      approveAsk: settings.approveAsk,
      ...(settings.audit === undefined ? {} : { audit: settings.audit }),
      ...(settings.approvals === undefined ? {} : { approvals: settings.approvals }),
      ...(settings.memory === undefined ? {} : { memory: settings.memory }),
      ...(settings.knowledgeBase === undefined ? {} : { knowledgeBase: settings.knowledgeBase })
    }).pipe(
      Effect.mapError((error) => failed(settings, task.taskId, error._tag, error.message)),
      settings.durable === undefined
        ? (make) => make
        : Effect.provideService(WorkflowEngine.WorkflowEngine, DurableTasks.engineFor(settings.durable, task.taskId))
    )
    if (!settings.approveAsk && settings.approvals === undefined) yield* Effect.forkScoped(denyUnanswerable(agent))
    // Lets the watcher subscribe before the run publishes its first event.
    yield* Effect.yieldNow
    const result = yield* agent
      .run(task.goal, { runId: task.taskId, timeout: settings.timeout })
      .pipe(Effect.mapError((error) => failed(settings, task.taskId, error._tag, error.message)))
    return {
      taskId: task.taskId,
      runId: result.runId,
      answer: result.answer,
      steps: result.spend.steps,
      inputTokens: result.spend.inputTokens,
      outputTokens: result.spend.outputTokens,
      costUsd: result.spend.costUsd,
      durationMs: result.durationMs,
      runner: settings.runner
    }
  }).pipe(
    Effect.scoped,
    Effect.provide([ActorSystem.layer(), AgentEvents.layer]),
    Effect.catchDefect((defect) => Effect.fail(failed(settings, task.taskId, "Defect", String(defect)))),
    Effect.catchTag("InvalidSupervisorSpec", (error) =>
      Effect.fail(failed(settings, task.taskId, error._tag, error.message))
    ),
    (run) =>
      settings.onTask === undefined
        ? run
        : Effect.andThen(
            settings.onTask("started", shownId(task.taskId)),
            Effect.tapCause(
              Effect.tap(run, () => settings.onTask!("done", shownId(task.taskId))),
              (cause) =>
                Cause.hasInterruptsOnly(cause) ? Effect.void : settings.onTask!("failed", shownId(task.taskId))
            )
          )
  )
