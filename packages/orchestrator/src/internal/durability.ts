/**
 * An orchestration made durable with `effect/workflow`, on the run journal's engine (`RunJournal`): each
 * orchestration is a workflow execution keyed by its id, its journal `<runs>/<orchestrationId>/journal.jsonl` beside
 * its trail, and every step whose outcome must not change on a replay is an activity of it:
 *
 * - `decomposition`: the manager's plan and what it cost (never asked again);
 * - `candidates/<subtask>`: the members a subtask goes to, in order (the choice depends on which subtasks started
 *   first, which a replay does not reproduce);
 * - `subtask/<subtask>/<attempt>/run`: the agent run id of an attempt, drawn and journalled before the run starts,
 *   so that an attempt in flight at a crash resumes that agent's own durable run;
 * - `subtask/<subtask>/<attempt>`: the attempt's outcome, the run's result or the failure it ended with (a cancelled
 *   or interrupted run is not journalled: it goes on when resumed).
 *
 * Attempts are journalled around `MemberRuns`, wherever the runs are made: an attempt that finished on a cluster's
 * runner is not submitted again either (the run id is for runs on the member's actor; a runner names its own).
 *
 * Resuming an orchestration executes it again from the start: journalled steps answer at once, an attempt in flight
 * resumes its agent run (`agent.run(task, { runId })`), and the rest runs live.
 */
import { Agent, AgentError, AuditEntry, Run, type RunJournal } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Workflow from "effect/workflow/Workflow"
import type * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import * as MemberRuns from "../MemberRuns.ts"
import * as OrchestratorError from "../OrchestratorError.ts"
import * as Report from "../Report.ts"

/** The payload of an orchestration's workflow. */
export const Payload = Schema.Struct({ orchestrationId: Schema.String, goal: Schema.String })

/** The workflow of a team's orchestrations: `troupe/orchestration/TEAM`. */
export const workflowOf = (name: string) =>
  Workflow.make(`troupe/orchestration/${name}`, {
    payload: Payload,
    success: Report.Report,
    error: OrchestratorError.OrchestrationError,
    idempotencyKey: (payload) => payload.orchestrationId
  })

type Body = Effect.Effect<
  Report.Report,
  OrchestratorError.OrchestrationError,
  WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance
>

/** How a team's orchestrations are made durable. */
export interface Durability {
  readonly engine: WorkflowEngine.WorkflowEngine["Service"]
  readonly journal: RunJournal.Service
  readonly workflow: ReturnType<typeof workflowOf>
  /** The body of each orchestration in progress in this process, by id. */
  readonly bodies: Map<string, Body>
}

// The workflow names registered with each engine: two live teams of one name get `NAME` and `NAME#2`.
const registered = new WeakMap<object, Set<string>>()

/** Registers the team's orchestration workflow with `engine` for as long as the scope lasts. */
export const make = (
  team: string,
  engine: WorkflowEngine.WorkflowEngine["Service"],
  journal: RunJournal.Service
): Effect.Effect<Durability, never, Scope.Scope> =>
  Effect.gen(function* () {
    const names = registered.get(engine) ?? new Set<string>()
    registered.set(engine, names)
    let name = team
    for (let n = 2; names.has(name); n++) name = `${team}#${n}`
    names.add(name)
    yield* Effect.addFinalizer(() => Effect.sync(() => names.delete(name)))
    const workflow = workflowOf(name)
    const bodies: Durability["bodies"] = new Map()
    yield* engine.register(workflow, (payload) =>
      Effect.suspend(
        () =>
          bodies.get(payload.orchestrationId) ??
          Effect.die(`orchestration ${payload.orchestrationId} has no team in this process`)
      )
    )
    return { engine, journal, workflow, bodies }
  })

/** Runs `body` as the execution `orchestrationId` of the team's workflow: resumed from its journal if it has one. */
export const execute = <E>(
  durability: Durability,
  orchestrationId: string,
  goal: string,
  body: Effect.Effect<Report.Report, E>
): Effect.Effect<Report.Report, E> =>
  Effect.suspend(() => {
    durability.bodies.set(orchestrationId, body as unknown as Body)
    return durability.engine.execute(durability.workflow, {
      executionId: orchestrationId,
      payload: { orchestrationId, goal }
    }) as unknown as Effect.Effect<Report.Report, E>
  }).pipe(Effect.ensuring(Effect.sync(() => durability.bodies.delete(orchestrationId))))

// -----------------------------------------------------------------------------
// The steps of one orchestration
// -----------------------------------------------------------------------------

/** The durable side of one orchestration; without a journal every step simply runs. */
export interface Steps {
  /** Runs `effect` as the activity `name`: answered from the journal when it completed before. */
  readonly step: <A, E>(
    name: string,
    effect: Effect.Effect<A, E>,
    options?: RunJournal.ActivityOptions<A>
  ) => Effect.Effect<A, E>
  /** Whether the activity `name` completed before (a replay answers it from the journal). */
  readonly replayed: (name: string) => boolean
  /** Returns once the journal is durable (a barrier). */
  readonly sync: Effect.Effect<void>
}

/** Steps that are not journalled. */
export const live: Steps = {
  step: (_name, effect) => effect,
  replayed: () => false,
  sync: Effect.void
}

/** The steps of the orchestration `orchestrationId`, journalled while its execution is in progress. */
export const steps = (durability: Durability | undefined, orchestrationId: string): Steps =>
  durability === undefined
    ? live
    : {
        step: (name, effect, options) => durability.journal.activity(orchestrationId, name, effect, options),
        replayed: (name) => durability.journal.completed(orchestrationId, name),
        sync: durability.journal.sync(orchestrationId)
      }

// -----------------------------------------------------------------------------
// Attempts: one run each, its id and its outcome journalled
// -----------------------------------------------------------------------------

// The failures a run ends with for good: replaying them is what the live run did. A cancelled run, a busy agent,
// a crashed run, an ask that timed out or a run not delivered are not an outcome: the attempt goes on when the
// orchestration resumes.
const Final = Schema.Union([
  AgentError.ModelFailed,
  AgentError.OutputUnparsable,
  AgentError.BudgetExceeded,
  AgentError.LoopDetected,
  AgentError.GaveUp,
  MemberRuns.RemoteRunFailed
])
type Final = typeof Final.Type
const finalTags: ReadonlySet<string> = new Set([
  "ModelFailed",
  "OutputUnparsable",
  "BudgetExceeded",
  "LoopDetected",
  "GaveUp",
  "RemoteRunFailed"
])
const isFinal = (failure: MemberRuns.Failure): failure is Final => finalTags.has(failure._tag)

const Elsewhere = Schema.Struct({ runner: Schema.String, head: Schema.optionalKey(AuditEntry.Head) })

const Outcome = Schema.toCodecJson(
  Schema.Union([
    Schema.Struct({ ok: Schema.Literal(true), result: Run.RunResult, elsewhere: Schema.optionalKey(Elsewhere) }),
    Schema.Struct({ ok: Schema.Literal(false), error: Final })
  ])
)
type Outcome = typeof Outcome.Type
const encodeOutcome = Schema.encodeUnknownSync(Outcome)
const decodeOutcome = Schema.decodeUnknownSync(Outcome)

const outcomeOf = (done: MemberRuns.Done): Outcome =>
  done.elsewhere === undefined
    ? { ok: true, result: done.result }
    : {
        ok: true,
        result: done.result,
        elsewhere: {
          runner: done.elsewhere.runner,
          ...(done.elsewhere.head === undefined ? {} : { head: done.elsewhere.head })
        }
      }

const doneOf = (outcome: Outcome & { readonly ok: true }): MemberRuns.Done =>
  outcome.elsewhere === undefined
    ? { result: outcome.result }
    : { result: outcome.result, elsewhere: { runner: outcome.elsewhere.runner, head: outcome.elsewhere.head } }

/**
 * `runs` with every attempt journalled: the agent run id drawn and journalled before the run starts (a run on the
 * member's actor takes it, so that an attempt in flight at a crash resumes that run), and the attempt's outcome
 * journalled when it has one. `replayedRun` is told of every run id that comes from the journal, so that what the
 * run spent before the crash is counted again.
 */
export const memberRuns = (
  steps: Steps,
  runs: MemberRuns.Service,
  replayedRun: (runId: string) => Effect.Effect<void>
): MemberRuns.Service => ({
  exclusive: runs.exclusive,
  run: (request) =>
    Effect.gen(function* () {
      const name = `subtask/${request.subtaskId}/${request.attempt}`
      const replayed = steps.replayed(`${name}/run`)
      const runId = yield* steps.step(`${name}/run`, Agent.newRunId)
      if (replayed) yield* replayedRun(runId)
      const agent = request.member.agent
      const outcome = yield* steps.step(
        name,
        Effect.flatMap(
          Effect.result(
            runs.run({
              ...request,
              member: {
                ...request.member,
                agent: { ...agent, run: (goal, options) => agent.run(goal, { ...options, runId }) }
              }
            })
          ),
          (result): Effect.Effect<Outcome, MemberRuns.Failure> =>
            result._tag === "Success"
              ? Effect.succeed(outcomeOf(result.success))
              : isFinal(result.failure)
                ? Effect.succeed({ ok: false, error: result.failure })
                : Effect.fail(result.failure)
        ),
        { encode: encodeOutcome, decode: decodeOutcome }
      )
      yield* steps.sync
      return outcome.ok ? doneOf(outcome) : yield* Effect.fail(outcome.error)
    })
})
