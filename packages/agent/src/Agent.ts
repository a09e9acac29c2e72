/**
 * An agent: a decoded spec as a supervised actor that pursues one goal at a time to an explicit end.
 *
 * The actor's protocol is `Run { goal }` (answered with the run's result or its typed error), `Approve` and
 * `Deny { approvalId, by, reason? }`, `Answer { questionId, text }` (for `ask_human`), `Cancel` and `Status`. Each
 * run executes in a child actor of the agent (`/NAME/agent/run-ID`), so the agent keeps taking approvals, answers,
 * cancellations and status requests while it runs, and a run never outlives the incarnation that started it. A
 * defect in a run fails that run with `RunCrashed` and crashes the agent, which its supervisor restarts per the
 * spec's `supervision`.
 *
 * With a `WorkflowEngine` in context when the agent is made (`RunJournal.layer` on one machine), each run is a
 * workflow of that engine (`troupe/agent/NAME`, keyed by run id) and survives a crash: `Run { goal, runId }` (or
 * `agent.run(goal, { runId })`) resumes it from its journal.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { Agent, AgentEvents } from "@troupe/agent"
 * import { ActorSystem } from "@troupe/runtime"
 *
 * const program = Effect.gen(function* () {
 *   const agent = yield* Agent.make(spec)
 *   const result = yield* agent.run("Summarise the open issues")
 *   return result.answer
 * })
 * ```
 */
import * as AgentSpec from "@troupe/agent-spec/AgentSpec"
import type { KnowledgeBase, Memory } from "@troupe/memory"
import type { ProviderConfig, ProviderPool } from "@troupe/providers"
import { Actor, type ActorError, type ActorRef, ActorSystem, Next, ReplyTo, Supervisor } from "@troupe/runtime"
import type { Tools } from "@troupe/tools"
import * as Delegation from "@troupe/tools/Delegation"
import * as ToolError from "@troupe/tools/ToolError"
import * as Toolset from "@troupe/tools/Toolset"
import * as Workspace from "@troupe/tools/Workspace"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Toolkit from "effect/ai/Toolkit"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Workflow from "effect/workflow/Workflow"
import * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import * as AgentError from "./AgentError.ts"
import type * as AgentEvent from "./AgentEvent.ts"
import * as AgentEvents from "./AgentEvents.ts"
import * as AgentMetrics from "./AgentMetrics.ts"
import * as AgentModel from "./AgentModel.ts"
import * as Alerts from "./Alerts.ts"
import type * as ApprovalStore from "./ApprovalStore.ts"
import * as Approvals from "./Approvals.ts"
import type * as AuditLog from "./AuditLog.ts"
import * as Durable from "./internal/durable.ts"
import * as ReadOnly from "./internal/readOnly.ts"
import type * as Plan from "./Plan.ts"
import * as Prompting from "./Prompting.ts"
import * as Questions from "./Questions.ts"
import * as Run from "./Run.ts"
import * as RunJournal from "./RunJournal.ts"
import type * as Spend from "./Spend.ts"
import * as TextDeltas from "./TextDeltas.ts"

// -----------------------------------------------------------------------------
// Protocol
// -----------------------------------------------------------------------------

/**
 * Pursue `goal`; the reply is the run's result, or its typed error. With `runId`, and a `WorkflowEngine` in the
 * agent's context, the run of that id resumes from its journal (see `RunJournal`).
 */
export const RunGoal = Schema.TaggedStruct("Run", {
  goal: Schema.String,
  runId: Schema.optionalKey(Schema.String),
  replyTo: ReplyTo.schema<Run.RunResult, AgentError.RunError>()
})

/** Grant the approval `approvalId`. */
export const Approve = Schema.TaggedStruct("Approve", { approvalId: Schema.String, by: Schema.String })

/** Refuse the approval `approvalId`; the model is told, with the reason. */
export const Deny = Schema.TaggedStruct("Deny", {
  approvalId: Schema.String,
  by: Schema.String,
  reason: Schema.optionalKey(Schema.String)
})

/** Answer the question `questionId` the agent asked with `ask_human`. */
export const Answer = Schema.TaggedStruct("Answer", { questionId: Schema.String, text: Schema.String })

/** Cancel the run in progress: its step is interrupted and it ends as cancelled. */
export const Cancel = Schema.TaggedStruct("Cancel", {})

/** Where the agent stands. */
export interface Status {
  readonly agent: string
  readonly state: "idle" | "running" | "awaiting-approval" | "awaiting-answer"
  readonly runId: string | undefined
  readonly step: number
  readonly plan: Plan.Plan | undefined
  readonly spend: Spend.Spend | undefined
  readonly pendingApprovals: ReadonlyArray<Approvals.Request>
  readonly pendingQuestions: ReadonlyArray<Questions.Pending>
}

/** Ask where the agent stands. */
export const GetStatus = Schema.TaggedStruct("Status", { replyTo: ReplyTo.schema<Status>() })

// Sent by a run to its agent when it ends, or when it died of a defect.
const RunEnded = Schema.TaggedStruct("RunEnded", { runId: Schema.String })
const RunDied = Schema.TaggedStruct("RunDied", { runId: Schema.String, defect: Schema.String })

/** The agent's protocol. */
export const Message = Schema.Union([RunGoal, Approve, Deny, Answer, Cancel, GetStatus, RunEnded, RunDied])

/** A message to an agent. */
export type Message = typeof Message.Type

// -----------------------------------------------------------------------------
// Parts: what an agent runs with, prepared once
// -----------------------------------------------------------------------------

/** Everything a behaviour runs with: the spec, its model and tools, memory, the inbox and where events go. */
export interface Parts {
  readonly spec: AgentSpec.AgentSpec
  readonly model: LanguageModel.LanguageModel
  readonly toolkit: Toolkit.WithHandler<any> | undefined
  /** The approval policy of one call: by tool name and, for tools whose effect depends on them, parameters. */
  readonly policy: (tool: string, params: unknown) => AgentSpec.Policy
  /** Whether a call only reads (no barrier before it); none when absent. */
  readonly readOnly?: ReadOnly.ReadOnly | undefined
  readonly memory: Memory.Service | undefined
  /** Approve `ask` calls without asking (`troupe run --yes`); `deny` calls are still refused. */
  readonly approveAsk: boolean
  readonly inbox: Questions.Inbox
  readonly events: AgentEvents.Service
  /** The run in progress, read by the inbox. */
  readonly current: { runId: string | undefined }
  /** Where a run waits for approval decisions (one gate per incarnation). */
  readonly makeGate: () => Approvals.Gate
  /** Where each run's trail is written, when there is one. */
  readonly audit: AuditLog.Service | undefined
  /** Present when a `WorkflowEngine` was in context: every run is a workflow, its steps activities. */
  readonly durability: Durability | undefined
  /** Where runs publish their text as it is generated; present when `TextDeltas` was in context. */
  readonly textDeltas?: TextDeltas.Service | undefined
}

/** The payload of an agent's run workflow. */
export const RunPayload = Schema.Struct({ runId: Schema.String, goal: Schema.String })

/** The errors a run's workflow can end with. */
export const RunFailure = Schema.Union([
  AgentError.ModelFailed,
  AgentError.OutputUnparsable,
  AgentError.BudgetExceeded,
  AgentError.LoopDetected,
  AgentError.GaveUp,
  AgentError.RunCancelled
])

/** The workflow of an agent's runs, named after the agent: `troupe/agent/NAME`. */
export const workflowOf = (name: string) =>
  Workflow.make(`troupe/agent/${name}`, {
    payload: RunPayload,
    success: Run.RunResult,
    error: RunFailure,
    idempotencyKey: (payload) => payload.runId
  })

/** How an agent's runs are made durable. */
export interface Durability {
  readonly engine: WorkflowEngine.WorkflowEngine["Service"]
  readonly journal: RunJournal.Service | undefined
  readonly workflow: ReturnType<typeof workflowOf>
  /** The body of each run in progress in this process, by run id. */
  readonly runs: Map<
    string,
    Effect.Effect<Run.RunResult, Run.RunFailure, WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance>
  >
}

/** Options of `make` and `prepare`. */
export interface Options {
  /** The model; by default the spec's `model` or `mixture`, through the `ProviderPool` in context. */
  readonly model?: LanguageModel.LanguageModel | undefined
  /** Further tools of the application, merged with the spec's (their policy is the spec's, by name). */
  readonly toolkit?: Toolkit.WithHandler<any> | undefined
  /** Long-term memory (and the knowledge base, for the `knowledge_*` tools); none when absent. */
  readonly memory?: Memory.Service | undefined
  readonly knowledgeBase?: KnowledgeBase.KnowledgeBase["Service"] | undefined
  readonly approveAsk?: boolean | undefined
  /**
   * Where approvals wait: in memory by default; `ApprovalStore.make(dir)` keeps them on disk, so that another
   * process can decide them (`troupe approvals`).
   */
  readonly approvals?: ApprovalStore.Store | undefined
  /** Write every run's events to its audit trail (tool calls durable before they run). */
  readonly audit?: AuditLog.Service | undefined
  /** Where `delegate` hands tasks (see `delegationTo`); agents whose spec lists `delegate` need it. */
  readonly delegation?: Delegation.Service | undefined
}

/**
 * A `Delegation` over agents found by name when a task is handed over (so a team's agents can delegate to each
 * other, whatever order they were made in): the named agent runs the task and its answer is the result.
 */
export const delegationTo = (find: (name: string) => Agent | undefined): Delegation.Service => ({
  delegate: (agent, task) =>
    Effect.suspend(() => {
      const target = find(agent)
      if (target === undefined) {
        return Effect.fail(new ToolError.DelegationFailed({ agent, reason: "the team has no such agent" }))
      }
      return Effect.mapBoth(target.run(task), {
        onSuccess: (result) => result.answer,
        onFailure: (error) => new ToolError.DelegationFailed({ agent, reason: error.message })
      })
    })
})

/** The policy of a call: a per-tool override, else by whether this very call's effect can be undone. */
const policyWith =
  (spec: AgentSpec.AgentSpec, toolset: Tools.Toolset | undefined) =>
  (name: string, params: unknown): AgentSpec.Policy => {
    const info = toolset?.tools.get(name)
    return AgentSpec.policyFor(
      spec,
      info?.tool ?? name,
      info === undefined ? undefined : info.reversibility(params) === "irreversible"
    )
  }

const builtinTools = (spec: AgentSpec.AgentSpec) => spec.tools.filter((t) => !Toolset.memoryTools.has(t.name))

/**
 * Prepares an agent's parts: its model (the spec's, through the pool), its tools (exactly those the spec lists,
 * in the `Workspace` in context; MCP servers live as long as the scope), its memory tools, and its inbox.
 */
export const prepare = (
  spec: AgentSpec.AgentSpec,
  options: Options = {}
): Effect.Effect<
  Parts,
  ProviderConfig.ProviderConfigError | Tools.ToolsetError,
  AgentEvents.AgentEvents | ProviderPool.ProviderPool | HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function* () {
    const events = yield* AgentEvents.AgentEvents
    const model = options.model ?? (yield* AgentModel.make(spec))
    const current: { runId: string | undefined } = { runId: undefined }
    const inbox = Questions.make({ agent: spec.name, current: () => current.runId, emit: events.publish })
    let policy = policyWith(spec, undefined)
    let readOnly = ReadOnly.make(undefined, options.toolkit)
    const kits: Array<Toolkit.WithHandler<any>> = []
    if (builtinTools(spec).length > 0) {
      const workspace = yield* Effect.serviceOption(Workspace.Workspace)
      if (Option.isNone(workspace)) {
        return yield* new Toolset.ToolsetError({
          tool: builtinTools(spec)[0]!.name,
          reason: "needs a Workspace in context"
        })
      }
      // `policy` is replaced below once the toolset says how far each call can be undone.
      const decide = (name: string, params: unknown) => policy(name, params)
      // Loaded here, not at the top: an agent without built-in tools never loads them (MCP, processes, mail, ...).
      const toolsLib = yield* Effect.promise(() => import("@troupe/tools/Tools"))
      const toolset = yield* toolsLib
        .toolkit(builtinTools(spec), {
          needsApproval: ({ name, params }) => decide(name, params) !== "auto"
        })
        .pipe(
          Effect.provideService(Workspace.Workspace, workspace.value),
          Effect.provide(Questions.layer(inbox)),
          Effect.provide(
            options.delegation === undefined ? Layer.empty : Layer.succeed(Delegation.Delegation, options.delegation)
          )
        )
      policy = policyWith(spec, toolset)
      readOnly = ReadOnly.make(toolset, options.toolkit)
      kits.push(yield* toolset.toolkit.pipe(Effect.provide(toolset.layer)))
    }
    const memoryNames = spec.tools.filter((t) => Toolset.memoryTools.has(t.name)).map((t) => t.name)
    if (memoryNames.length > 0 && options.memory !== undefined && options.knowledgeBase !== undefined) {
      // Loaded here, not at the top: an agent without memory tools never loads LanceDB and Arrow.
      const memoryLib = yield* Effect.promise(() => import("@troupe/memory"))
      const listed = Object.values(memoryLib.MemoryTools.toolkit.tools).filter((t) =>
        memoryNames.includes(t.name as never)
      )
      const kit = Toolkit.make(...listed)
      kits.push(
        yield* Effect.map(
          kit.pipe(
            Effect.provide(
              memoryLib.MemoryTools.layer({ agent: spec.name, namespace: spec.memory.namespace ?? spec.name }).pipe(
                Layer.provide(Layer.succeed(memoryLib.Memory.Memory, options.memory)),
                Layer.provide(Layer.succeed(memoryLib.KnowledgeBase.KnowledgeBase, options.knowledgeBase))
              )
            )
          ),
          (withHandlers) => Approvals.withPolicy(withHandlers, (tool) => policy(tool, undefined))
        )
      )
    }
    // The application's own tools: their policy is the spec's, by name.
    if (options.toolkit !== undefined)
      kits.push(Approvals.withPolicy(options.toolkit, (tool) => policy(tool, undefined)))
    const toolkit = kits.length === 0 ? undefined : merged(kits)
    const durability = yield* durabilityOf(spec)
    const textDeltas = Option.getOrUndefined(yield* Effect.serviceOption(TextDeltas.TextDeltas))
    return {
      spec,
      model,
      toolkit,
      policy,
      readOnly,
      memory: spec.memory.enabled ? options.memory : undefined,
      approveAsk: options.approveAsk ?? false,
      inbox,
      events,
      current,
      makeGate: () =>
        options.approvals === undefined
          ? Approvals.makeGate({ approveAsk: options.approveAsk ?? false })
          : options.approvals.gate({ approveAsk: options.approveAsk ?? false }),
      audit: options.audit,
      durability,
      textDeltas
    }
  })

// The workflow names registered with each engine: two live agents of one name get `NAME` and `NAME#2`.
const registered = new WeakMap<object, Set<string>>()

// With a `WorkflowEngine` in context, the agent's run workflow is registered with it for as long as the scope lasts.
const durabilityOf = (spec: AgentSpec.AgentSpec): Effect.Effect<Durability | undefined, never, Scope.Scope> =>
  Effect.gen(function* () {
    const engine = yield* Effect.serviceOption(WorkflowEngine.WorkflowEngine)
    if (Option.isNone(engine)) return undefined
    const journal = yield* Effect.serviceOption(RunJournal.RunJournal)
    const names = registered.get(engine.value) ?? new Set<string>()
    registered.set(engine.value, names)
    let name = spec.name
    for (let n = 2; names.has(name); n++) name = `${spec.name}#${n}`
    names.add(name)
    yield* Effect.addFinalizer(() => Effect.sync(() => names.delete(name)))
    const workflow = workflowOf(name)
    const runs: Durability["runs"] = new Map()
    yield* engine.value
      .register(workflow, (payload) =>
        Effect.suspend(() => runs.get(payload.runId) ?? Effect.die(`run ${payload.runId} has no agent in this process`))
      )
      .pipe(Effect.provideService(WorkflowEngine.WorkflowEngine, engine.value))
    return { engine: engine.value, journal: Option.getOrUndefined(journal), workflow, runs }
  })

// Several toolkits with handlers as one: each call goes to the toolkit that has the tool.
const merged = (kits: ReadonlyArray<Toolkit.WithHandler<any>>): Toolkit.WithHandler<any> => {
  if (kits.length === 1) return kits[0]!
  const owner = new Map<string, Toolkit.WithHandler<any>>()
  for (const kit of kits) for (const name of Object.keys(kit.tools)) if (!owner.has(name)) owner.set(name, kit)
  return {
    tools: Object.fromEntries(kits.flatMap((k) => Object.entries(k.tools)).reverse()),
    handle: ((name: string, ...rest: Array<unknown>) =>
      (owner.get(name)!.handle as (...args: Array<unknown>) => unknown)(name, ...rest)) as never
  }
}

// -----------------------------------------------------------------------------
// The actor
// -----------------------------------------------------------------------------

/** A run in progress, as the agent sees it. */
interface Current {
  readonly runId: string
  readonly cancel: Deferred.Deferred<void>
  progress: Run.Progress
}

/** The agent actor's state: its approval gate, how it publishes, and the run in progress. */
interface State {
  readonly gate: Approvals.Gate
  readonly emit: (event: AgentEvent.AgentEvent) => Effect.Effect<void>
  readonly current: Current | undefined
}

const Go = Schema.TaggedStruct("Go", {})

/** A run id that sorts by start time: `20261130T110512-k3f9c2`. */
export const newRunId: Effect.Effect<string> = Effect.gen(function* () {
  const stamp = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/[-:]/g, "").slice(0, 15)
  const suffix = (yield* Random.nextIntBetween(0, 36 ** 6)).toString(36).padStart(6, "0")
  return `${stamp}-${suffix}`
})

// The run's child actor: one message, the whole run; its outcome goes to the asker and then to the agent.
// The run's context writing every event to the run's trail before publishing it: appends are written at once and
// made durable at the context's barrier (before a tool runs, before the run answers).
// A resumed durable run replays its start: the events already in its trail are not written again.
const withTrail = <A, E>(
  audit: AuditLog.Service | undefined,
  durability: Durability | undefined,
  context: Run.RunContext,
  run: (context: Run.RunContext) => Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  audit === undefined
    ? run(context)
    : Effect.scoped(
        Effect.gen(function* () {
          const existing =
            durability === undefined
              ? []
              : yield* audit.read(context.runId).pipe(
                  Stream.map((entry) => entry.type),
                  Stream.filter((type) => type.startsWith("Agent")),
                  Stream.runCollect,
                  Effect.orElseSucceed((): ReadonlyArray<string> => [])
                )
          const trail = yield* audit.open(context.runId, context.spec.name).pipe(Effect.orDie)
          const write = (event: AgentEvent.AgentEvent) =>
            Effect.andThen(trail.appendEvent(event).pipe(Effect.orDie), context.emit(event))
          return yield* run({
            ...context,
            emit:
              existing.length === 0
                ? write
                : Durable.skipReplayed(
                    existing,
                    write,
                    context.emit,
                    (approvalId) => durability?.journal?.completed(context.runId, `approval/${approvalId}`) ?? false
                  ),
            barrier: Effect.andThen(trail.sync.pipe(Effect.orDie), context.barrier)
          })
        })
      )

// The run as a workflow of the agent's engine: its model, tools and gate become activities of the execution.
const durably = (
  durability: Durability,
  context: Run.RunContext,
  control: Run.Control
): Effect.Effect<Run.RunResult, Run.RunFailure> => {
  const body = Effect.gen(function* () {
    const durable = yield* Durable.make(context.runId, durability.journal)
    const model = yield* Durable.model(context.model, durable)
    return yield* Run.execute(
      {
        ...context,
        model,
        toolkit: context.toolkit === undefined ? undefined : Durable.toolkit(context.toolkit, durable),
        gate: Durable.gate(context.gate, durable),
        durable,
        barrier: Effect.all([durable.sync, context.barrier], { concurrency: 2, discard: true })
      },
      control
    )
  })
  return Effect.suspend(() => {
    durability.runs.set(context.runId, body)
    return durability.engine.execute(durability.workflow, {
      executionId: context.runId,
      payload: { runId: context.runId, goal: context.goal }
    })
  }).pipe(Effect.ensuring(Effect.sync(() => durability.runs.delete(context.runId))))
}

const runner = (
  audit: AuditLog.Service | undefined,
  durability: Durability | undefined,
  context: Run.RunContext,
  control: Run.Control,
  current: Current,
  replyTo: ReplyTo.ReplyTo<Run.RunResult, AgentError.RunError>,
  agent: ActorRef.ActorRef<Message>
) =>
  Actor.make({
    protocol: Go,
    init: () => Effect.void,
    receive: () =>
      withTrail(audit, durability, context, (traced) =>
        durability === undefined ? Run.execute(traced, control) : durably(durability, traced, control)
      ).pipe(
        Effect.exit,
        Effect.flatMap((exit) => {
          // The agent hears that the run ended before the asker has its answer: a `Run` sent on receiving it lands
          // behind the news in the agent's mailbox, so it finds the agent idle rather than busy.
          if (exit._tag === "Success") {
            return Effect.andThen(
              agent.tell({ _tag: "RunEnded", runId: context.runId }),
              ReplyTo.succeed(replyTo, exit.value)
            )
          }
          const failure = Cause.findErrorOption(exit.cause)
          if (failure._tag === "Some") {
            return Effect.andThen(
              agent.tell({ _tag: "RunEnded", runId: context.runId }),
              ReplyTo.fail(replyTo, failure.value)
            )
          }
          const defect = Cause.pretty(exit.cause)
          return Effect.andThen(
            agent.tell({ _tag: "RunDied", runId: context.runId, defect }),
            ReplyTo.fail(replyTo, new AgentError.RunCrashed({ runId: context.runId, defect }))
          )
        }),
        // Stopped with its agent: the asker still gets an answer.
        Effect.onInterrupt(() =>
          ReplyTo.fail(
            replyTo,
            new AgentError.RunCancelled({
              partial: {
                runId: context.runId,
                spend: current.progress.spend,
                ...(current.progress.plan === undefined ? {} : { plan: current.progress.plan })
              }
            })
          )
        ),
        Effect.as(Next.stop)
      )
  })

/** The agent's behaviour over prepared parts. */
export const behavior = (parts: Parts): Actor.Behavior<Message, State> =>
  Actor.make({
    protocol: Message,
    init: () =>
      Effect.sync((): State => {
        const record = AgentMetrics.recorder()
        const watch = Alerts.monitor(parts.spec.alerts)
        const emit = (event: AgentEvent.AgentEvent): Effect.Effect<void> => {
          const published = Effect.andThen(parts.events.publish(event), record(event))
          const alerts = watch(event)
          return alerts.length === 0
            ? published
            : Effect.andThen(
                published,
                Effect.forEach(alerts, (alert) => Effect.andThen(parts.events.publish(alert), record(alert)), {
                  discard: true
                })
              )
        }
        return { gate: parts.makeGate(), emit, current: undefined }
      }),
    receive: (state: State, message, context) =>
      Effect.gen(function* (): Effect.fn.Return<Next.Next<State>> {
        switch (message._tag) {
          case "Run": {
            if (state.current !== undefined) {
              yield* ReplyTo.fail(
                message.replyTo,
                new AgentError.AgentBusy({ agent: parts.spec.name, runId: state.current.runId })
              )
              return Next.continueWith(state)
            }
            const runId = message.runId ?? (yield* newRunId)
            const current: Current = {
              runId,
              cancel: Deferred.makeUnsafe<void>(),
              progress: { runId, step: 0, plan: undefined, spend: undefined as never }
            }
            const control: Run.Control = { cancel: current.cancel, onState: (p) => (current.progress = p) }
            const runContext: Run.RunContext = {
              spec: parts.spec,
              runId,
              goal: message.goal,
              system: Prompting.system(parts.spec),
              model: parts.model,
              toolkit: parts.toolkit,
              memory: parts.memory,
              gate: state.gate,
              policy: parts.policy,
              readOnly: parts.readOnly,
              emit: state.emit,
              barrier: Effect.void,
              textDeltas: parts.textDeltas
            }
            const run = yield* context
              .startChild(
                Supervisor.actor(
                  `run-${runId}`,
                  runner(parts.audit, parts.durability, runContext, control, current, message.replyTo, context.self),
                  {
                    restart: "temporary"
                  }
                )
              )
              .pipe(Effect.orDie)
            yield* run.tell({ _tag: "Go" })
            parts.current.runId = runId
            return Next.continueWith({ ...state, current })
          }
          case "Approve":
            yield* state.gate.resolve(message.approvalId, { approved: true, by: message.by })
            return Next.continueWith(state)
          case "Deny":
            yield* state.gate.resolve(message.approvalId, {
              approved: false,
              by: message.by,
              ...(message.reason === undefined ? {} : { reason: message.reason })
            })
            return Next.continueWith(state)
          case "Answer":
            yield* parts.inbox.answer(message.questionId, message.text)
            return Next.continueWith(state)
          case "Cancel":
            if (state.current !== undefined) yield* Deferred.succeed(state.current.cancel, undefined)
            return Next.continueWith(state)
          case "Status": {
            const approvals = yield* state.gate.pending
            const questions = yield* parts.inbox.pending
            const current = state.current
            const status: Status = {
              agent: parts.spec.name,
              state:
                current === undefined
                  ? "idle"
                  : approvals.length > 0
                    ? "awaiting-approval"
                    : questions.length > 0
                      ? "awaiting-answer"
                      : "running",
              runId: current?.runId,
              step: current?.progress.step ?? 0,
              plan: current?.progress.plan,
              spend: current?.progress.spend,
              pendingApprovals: approvals,
              pendingQuestions: questions
            }
            yield* ReplyTo.succeed(message.replyTo, status)
            return Next.continueWith(state)
          }
          case "RunEnded":
            if (state.current?.runId !== message.runId) return Next.continueWith(state)
            parts.current.runId = undefined
            return Next.continueWith({ ...state, current: undefined })
          case "RunDied":
            // A defect is a bug: the agent crashes, and its supervisor restarts it per the spec.
            parts.current.runId = undefined
            return yield* Effect.die(`run ${message.runId} died: ${message.defect.split("\n")[0]}`)
        }
      })
  })

/**
 * The agent's supervisor spec: one child, the agent, restarted per the spec's `supervision` (its restart type,
 * at most `maxRestarts` within `within`, with an exponential backoff from `backoff` when set).
 */
export const supervisorOf = (parts: Parts) => {
  const supervision = parts.spec.supervision
  const backoff =
    supervision.backoff !== undefined && Duration.toMillis(supervision.backoff) > 0
      ? Schedule.exponential(supervision.backoff)
      : undefined
  return Supervisor.make({
    intensity: { maxRestarts: supervision.maxRestarts, within: supervision.within },
    ...(backoff === undefined ? {} : { backoff }),
    children: [Supervisor.actor("agent", behavior(parts), { restart: supervision.restart })]
  })
}

// -----------------------------------------------------------------------------
// The handle: the embedding API
// -----------------------------------------------------------------------------

/** A running agent, to use from any Effect program. */
export interface Agent {
  readonly name: string
  /** The agent actor's path, e.g. `/backend/agent`. */
  readonly path: string
  readonly ref: ActorRef.ActorRef<Message>
  /**
   * Pursues `goal` to its end: the result, or a typed error (`BudgetExceeded`, `GaveUp`, `ModelFailed`, ...). An
   * agent runs one goal at a time (`AgentBusy` otherwise). `timeout` bounds the wait, approvals included (default:
   * a day). With `runId` (and a `WorkflowEngine` such as `RunJournal.layer` where the agent was made), the run of
   * that id resumes: journalled model calls, tool calls and approvals are answered from its journal.
   */
  readonly run: (
    goal: string,
    options?: { readonly timeout?: Duration.Input | undefined; readonly runId?: string | undefined }
  ) => Effect.Effect<Run.RunResult, AgentError.RunError | ActorError.AskError>
  readonly approve: (approvalId: string, by: string) => Effect.Effect<void>
  readonly deny: (approvalId: string, by: string, reason?: string) => Effect.Effect<void>
  readonly answer: (questionId: string, text: string) => Effect.Effect<void>
  readonly cancel: Effect.Effect<void>
  readonly status: Effect.Effect<Status, ActorError.AskError>
  /** This agent's events, from the moment the stream is run. */
  readonly events: Stream.Stream<AgentEvent.AgentEvent>
}

/**
 * Starts an agent under the actor system's root (as `/NAME/agent`, supervised per its spec) and returns its handle.
 * Its model, tools and memory are prepared first (see `prepare`), so a missing key or an unusable tool fails here,
 * before anything runs.
 */
export const make = (
  spec: AgentSpec.AgentSpec,
  options: Options = {}
): Effect.Effect<
  Agent,
  ProviderConfig.ProviderConfigError | Tools.ToolsetError | ActorError.StartError,
  ActorSystem.ActorSystem | AgentEvents.AgentEvents | ProviderPool.ProviderPool | HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function* () {
    const parts = yield* prepare(spec, options)
    const system = yield* ActorSystem.ActorSystem
    const supervisor = yield* system.startChild(
      Supervisor.supervisor(spec.name, supervisorOf(parts), { restart: "temporary" })
    )
    const ref = yield* system.lookup(`${supervisor.path}/agent`, Message).pipe(Effect.orDie)
    return handle(spec.name, ref, parts.events)
  })

/** The handle of an agent actor. */
export const handle = (name: string, ref: ActorRef.ActorRef<Message>, events: AgentEvents.Service): Agent => ({
  name,
  path: ref.path,
  ref,
  run: (goal, options) =>
    ref.ask<Run.RunResult, AgentError.RunError>(
      (replyTo) => ({ _tag: "Run", goal, replyTo, ...(options?.runId === undefined ? {} : { runId: options.runId }) }),
      {
        timeout: options?.timeout ?? Duration.days(1)
      }
    ),
  approve: (approvalId, by) => ref.tell({ _tag: "Approve", approvalId, by }),
  deny: (approvalId, by, reason) =>
    ref.tell({ _tag: "Deny", approvalId, by, ...(reason === undefined ? {} : { reason }) }),
  answer: (questionId, text) => ref.tell({ _tag: "Answer", questionId, text }),
  cancel: ref.tell({ _tag: "Cancel" }),
  status: ref.ask<Status>((replyTo) => ({ _tag: "Status", replyTo }), { timeout: Duration.seconds(5) }),
  events: Stream.filter(events.events, (event) => event.agent === name)
})
