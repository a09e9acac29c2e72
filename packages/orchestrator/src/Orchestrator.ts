/**
 * The orchestrator: a team of agents as one supervised actor tree that takes a goal, has the manager decompose it,
 * delegates each subtask to a capable member, runs independent subtasks at once (up to `concurrency`), and
 * aggregates the answers into a report.
 *
 * ```
 * /TEAM                      supervisor (one-for-one)
 *   /agents                  supervisor: the team file's strategy and restart intensity
 *     /NAME                  each member's own supervisor (its spec's `supervision`), restarted by the team
 *       /agent               the agent actor
 *   /orchestrator            this actor: Orchestrate | Cancel | Status
 *     /orchestration-ID      the orchestration in progress, in a child actor (so status and cancel are answered)
 * ```
 *
 * What the team shares is the orchestrator's: one `ProviderPool` (every member's model goes through the pool in
 * context: breakers, rate limits and accounting for the whole team), one memory store seen through
 * `TeamMemory.view` (each agent's own namespace and `team`, other namespaces only by grant), one team budget
 * across all agents (`TeamBudget`), and one audit trail per orchestration linking its agents' runs
 * (`TeamTrail`). A subtask that fails is retried on the same member (`retries`), then handed to the next capable
 * member, and fails the goal with `SubtaskFailed` naming the subtask and why when none is left.
 *
 * With `RunJournal.layer` in context (as for durable agent runs), every orchestration is a workflow execution of the
 * journal's engine, and so are its members' runs: `orchestrate(goal, { orchestrationId })` with the id of one that
 * was stopped (a crash, a process that exited while an approval waited) resumes it from its journal (see
 * `internal/durability.ts`).
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { Orchestrator } from "@troupe/orchestrator"
 *
 * const program = Effect.gen(function* () {
 *   const orchestrator = yield* Orchestrator.make(team, { concurrency: 3, budget: { maxCostUsd: 2 } })
 *   const report = yield* orchestrator.orchestrate("Build a todo API with tests and commit it")
 *   return report.summary
 * })
 * ```
 */
import {
  Agent,
  AgentEvents,
  AgentModel,
  type ApprovalStore,
  type AuditLog,
  Prompting,
  RunJournal,
  Spend
} from "@troupe/agent"
import { AgentSpec, type TeamSpec } from "@troupe/agent-spec"
import type { KnowledgeBase, Memory } from "@troupe/memory"
import type { ProviderConfig, ProviderPool } from "@troupe/providers"
import { Actor, type ActorError, type ActorRef, ActorSystem, Next, ReplyTo, Supervisor } from "@troupe/runtime"
import type { Tools } from "@troupe/tools"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import * as Durability from "./internal/durability.ts"
import type * as Orchestration from "./internal/orchestration.ts"
import * as Running from "./internal/running.ts"
import * as MemberRuns from "./MemberRuns.ts"
import * as OrchestratorError from "./OrchestratorError.ts"
import type * as OrchestratorEvent from "./OrchestratorEvent.ts"
import type * as Report from "./Report.ts"
import type * as TeamBudget from "./TeamBudget.ts"
import * as TeamMemory from "./TeamMemory.ts"

// -----------------------------------------------------------------------------
// Protocol
// -----------------------------------------------------------------------------

/** Pursue `goal` with the team; the reply is the report, or the orchestration's typed error. */
export const Orchestrate = Schema.TaggedStruct("Orchestrate", {
  goal: Schema.String,
  /**
   * The orchestration's id (a fresh one by default). With a `RunJournal` where the team was made, an orchestration
   * of this id that was stopped resumes from its journal.
   */
  orchestrationId: Schema.optionalKey(Schema.String),
  replyTo: ReplyTo.schema<Report.Report, OrchestratorError.OrchestrationError>()
})

/** Cancel the orchestration in progress: its agents' runs are cancelled and it ends as cancelled. */
export const Cancel = Schema.TaggedStruct("Cancel", {})

/** Where the orchestration in progress stands. */
export interface Status {
  readonly team: string
  readonly state: "idle" | "running"
  readonly orchestrationId: string | undefined
  readonly subtasks: ReadonlyArray<{
    readonly id: string
    readonly title: string
    readonly status: Orchestration.SubtaskProgress["status"]
    readonly agent: string | undefined
  }>
  readonly spend: Spend.Spend
}

/** Ask where the orchestrator stands. */
export const GetStatus = Schema.TaggedStruct("Status", { replyTo: ReplyTo.schema<Status>() })

// Sent by an orchestration's actor to the orchestrator when it ends, or when it died of a defect.
const Finished = Schema.TaggedStruct("Finished", { orchestrationId: Schema.String })
const Died = Schema.TaggedStruct("Died", { orchestrationId: Schema.String, defect: Schema.String })

/** The orchestrator's protocol. */
export const Message = Schema.Union([Orchestrate, Cancel, GetStatus, Finished, Died])

/** A message to the orchestrator. */
export type Message = typeof Message.Type

// -----------------------------------------------------------------------------
// Options
// -----------------------------------------------------------------------------

/** Options of `make`. */
export interface Options {
  /** Subtasks running at once, at most (default 4). */
  readonly concurrency?: number | undefined
  /** Further tries of a failed subtask on the same member before the next capable one gets it (default 1). */
  readonly retries?: number | undefined
  /** The team's budget across all its agents (default: none beyond each agent's own limits). */
  readonly budget?: TeamBudget.Limits | undefined
  /** The longest one agent run may take, waiting for approvals included (default a day). */
  readonly runTimeout?: Duration.Input | undefined
  /**
   * A member's (or the manager's) model in place of its spec's: for tests and scripted demos. By default every
   * model is the spec's, through the `ProviderPool` in context.
   */
  readonly models?: ((spec: AgentSpec.AgentSpec) => LanguageModel.LanguageModel | undefined) | undefined
  /** The team's memory store; each agent sees it through `TeamMemory.view`. */
  readonly memory?: Memory.Service | undefined
  readonly knowledgeBase?: KnowledgeBase.KnowledgeBase["Service"] | undefined
  /** Namespaces an agent may read besides its own and the team's, by agent name. */
  readonly grants?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
  readonly approvals?: ApprovalStore.Store | undefined
  /** Approve `ask` calls without asking (`--yes`); `deny` calls are still refused. */
  readonly approveAsk?: boolean | undefined
  /** Where the orchestration's trail and every agent run's trail are written. */
  readonly audit?: AuditLog.Service | undefined
}

// -----------------------------------------------------------------------------
// The actor
// -----------------------------------------------------------------------------

interface State {
  readonly current: Running.Current | undefined
}

const Go = Schema.TaggedStruct("Go", {})

const runner = (
  env: Running.Environment,
  current: Running.Current,
  goal: string,
  replyTo: ReplyTo.ReplyTo<Report.Report, OrchestratorError.OrchestrationError>,
  orchestrator: ActorRef.ActorRef<Message>
) =>
  Actor.make({
    protocol: Go,
    init: () => Effect.void,
    receive: () =>
      Running.run(env, current, goal).pipe(
        Effect.exit,
        Effect.flatMap((exit) => {
          // The orchestrator hears of the end before the asker does: a goal or a status request sent on the
          // reply finds it idle.
          const finished = orchestrator.tell({ _tag: "Finished", orchestrationId: current.orchestrationId })
          if (exit._tag === "Success") return Effect.andThen(finished, ReplyTo.succeed(replyTo, exit.value))
          const failure = Cause.findErrorOption(exit.cause)
          if (failure._tag === "Some") return Effect.andThen(finished, ReplyTo.fail(replyTo, failure.value))
          const defect = Cause.pretty(exit.cause)
          return Effect.andThen(
            ReplyTo.fail(
              replyTo,
              new OrchestratorError.OrchestrationCrashed({ orchestrationId: current.orchestrationId, defect })
            ),
            orchestrator.tell({ _tag: "Died", orchestrationId: current.orchestrationId, defect })
          )
        }),
        // Stopped with its orchestrator: the asker still gets an answer.
        Effect.onInterrupt(() =>
          ReplyTo.fail(
            replyTo,
            new OrchestratorError.OrchestrationCancelled({
              partial: { orchestrationId: current.orchestrationId, done: [], runIds: [], spend: Spend.zero }
            })
          )
        ),
        Effect.as(Next.stop)
      )
  })

const behavior = (env: Running.Environment): Actor.Behavior<Message, State> =>
  Actor.make({
    protocol: Message,
    init: () => Effect.succeed<State>({ current: undefined }),
    receive: (state: State, message, context) =>
      Effect.gen(function* (): Effect.fn.Return<Next.Next<State>> {
        switch (message._tag) {
          case "Orchestrate": {
            if (state.current !== undefined) {
              yield* ReplyTo.fail(
                message.replyTo,
                new OrchestratorError.OrchestratorBusy({
                  team: env.team.name,
                  orchestrationId: state.current.orchestrationId
                })
              )
              return Next.continueWith(state)
            }
            const current: Running.Current = {
              orchestrationId: message.orchestrationId ?? (yield* Running.newOrchestrationId),
              cancel: Deferred.makeUnsafe<void>(),
              progress: []
            }
            const child = yield* context
              .startChild(
                Supervisor.actor(
                  `orchestration-${current.orchestrationId}`,
                  runner(env, current, message.goal, message.replyTo, context.self),
                  { restart: "temporary" }
                )
              )
              .pipe(Effect.orDie)
            yield* child.tell({ _tag: "Go" })
            return Next.continueWith({ current })
          }
          case "Cancel":
            if (state.current !== undefined) yield* Deferred.succeed(state.current.cancel, undefined)
            return Next.continueWith(state)
          case "Status": {
            const current = state.current
            yield* ReplyTo.succeed(message.replyTo, {
              team: env.team.name,
              state: current === undefined ? "idle" : "running",
              orchestrationId: current?.orchestrationId,
              subtasks: (current?.progress ?? []).map((p) => ({ ...p })),
              spend: env.budgetOf.tracker === undefined ? Spend.zero : yield* env.budgetOf.tracker.spend
            })
            return Next.continueWith(state)
          }
          case "Finished":
            return Next.continueWith(
              state.current?.orchestrationId === message.orchestrationId ? { current: undefined } : state
            )
          case "Died":
            // A defect is a bug: the orchestrator crashes, and its supervisor restarts it.
            return yield* Effect.die(`orchestration ${message.orchestrationId} died: ${message.defect.split("\n")[0]}`)
        }
      })
  })

// With the run journal's engine in context, every orchestration of the team is a workflow execution of it.
const durabilityOf = (team: string): Effect.Effect<Durability.Durability | undefined, never, Scope.Scope> =>
  Effect.gen(function* () {
    const engine = yield* Effect.serviceOption(WorkflowEngine.WorkflowEngine)
    const journal = yield* Effect.serviceOption(RunJournal.RunJournal)
    return Option.isNone(engine) || Option.isNone(journal)
      ? undefined
      : yield* Durability.make(team, engine.value, journal.value)
  })

/** An orchestration id that sorts by start time: `orch-20261130T110512-k3f9c2`. */
export const newOrchestrationId: Effect.Effect<string> = Running.newOrchestrationId

// -----------------------------------------------------------------------------
// The handle
// -----------------------------------------------------------------------------

/** A running team, to use from any Effect program. */
export interface Orchestrator {
  readonly team: string
  /** The orchestrator actor's path, e.g. `/web-team/orchestrator`. */
  readonly path: string
  readonly ref: ActorRef.ActorRef<Message>
  /** The team's agents, in the team file's order. */
  readonly members: ReadonlyArray<Agent.Agent>
  /**
   * Pursues `goal` with the team to its report, or a typed error (`SubtaskFailed`, `TeamBudgetExceeded`,
   * `DecompositionFailed`, ...). One goal at a time (`OrchestratorBusy` otherwise). `timeout` bounds the wait,
   * approvals included (default: a day).
   */
  readonly orchestrate: (
    goal: string,
    options?: {
      readonly timeout?: Duration.Input | undefined
      /** The id to give it; with a `RunJournal`, an orchestration of this id stopped before resumes. */
      readonly orchestrationId?: string | undefined
    }
  ) => Effect.Effect<Report.Report, OrchestratorError.OrchestrationError | ActorError.AskError>
  readonly cancel: Effect.Effect<void>
  readonly status: Effect.Effect<Status, ActorError.AskError>
  /** The orchestrator's events, from the moment the stream is run. */
  readonly events: Stream.Stream<OrchestratorEvent.OrchestratorEvent>
  /** A subscription to the orchestrator's events that starts now (when no event may be missed). */
  readonly subscribe: Effect.Effect<PubSub.Subscription<OrchestratorEvent.OrchestratorEvent>, never, Scope.Scope>
}

/**
 * Starts a team under the actor system's root (as `/TEAM`, see the module's picture) and returns its handle.
 * Every member is prepared first (its model, tools and memory view), so a missing key or an unusable tool fails
 * here, before anything runs. Members' models go through the `ProviderPool` in context, one for the whole team.
 */
export const make = (
  team: TeamSpec.Team,
  options: Options = {}
): Effect.Effect<
  Orchestrator,
  ProviderConfig.ProviderConfigError | Tools.ToolsetError | ActorError.StartError,
  ActorSystem.ActorSystem | AgentEvents.AgentEvents | ProviderPool.ProviderPool | HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function* () {
    const hub = yield* AgentEvents.AgentEvents
    const system = yield* ActorSystem.ActorSystem
    // Where the members' runs are made: their actors here unless a `MemberRuns` layer says otherwise.
    const memberRuns = Option.getOrElse(yield* Effect.serviceOption(MemberRuns.MemberRuns), () => MemberRuns.local)
    const events = yield* PubSub.unbounded<OrchestratorEvent.OrchestratorEvent>()
    const budgetOf: Running.Environment["budgetOf"] = { tracker: undefined }
    // The agents publish through this hub: each event is counted into the team budget before anyone sees it, and
    // a step or model call that takes the team past its budget is held there until the orchestrator cancels the run,
    // so the limit holds at the step that passes it, however fast the model answers.
    const counting: AgentEvents.Service = {
      ...hub,
      publish: (event) =>
        Effect.suspend(() => {
          const tracker = budgetOf.tracker
          if (tracker === undefined) return hub.publish(event)
          return tracker.count(event).pipe(
            Effect.andThen(hub.publish(event)),
            Effect.andThen(tracker.overrun),
            Effect.flatMap((over) =>
              over !== undefined && (event._tag === "AgentStepStarted" || event._tag === "AgentModelCalled")
                ? Effect.never
                : Effect.void
            )
          )
        })
    }
    const handles = new Map<string, Agent.Agent>()
    const delegation = Agent.delegationTo((name) => handles.get(name))
    const parts = yield* Effect.forEach(team.agents, (spec) =>
      Agent.prepare(spec, {
        model: options.models?.(spec),
        ...(options.memory === undefined
          ? {}
          : {
              memory: TeamMemory.view(options.memory, {
                agent: spec.name,
                own: AgentSpec.memoryNamespace(spec),
                grants: options.grants?.[spec.name]
              })
            }),
        knowledgeBase: options.knowledgeBase,
        approvals: options.approvals,
        approveAsk: options.approveAsk,
        audit: options.audit,
        delegation
      }).pipe(Effect.provideService(AgentEvents.AgentEvents, counting))
    )
    const planner = team.manager ?? team.agents[0]!
    // The planner recalls from its own namespace and the team's, as any agent does before it plans.
    const plannerMemory =
      options.memory === undefined || !planner.memory.enabled || planner.memory.recall === 0
        ? undefined
        : TeamMemory.view(options.memory, { agent: planner.name, own: AgentSpec.memoryNamespace(planner) })
    const recall = (goal: string): Effect.Effect<string | undefined> =>
      plannerMemory === undefined
        ? Effect.succeed(undefined)
        : plannerMemory.recall(goal, { k: planner.memory.recall }).pipe(
            Effect.map((found) => Prompting.recalled(found.map((hit) => hit.record))),
            Effect.catch((error) => Effect.as(Effect.logWarning(`memory recall failed: ${error.message}`), undefined))
          )
    const env: Running.Environment = {
      team,
      members: [],
      plannerModel: options.models?.(planner) ?? (yield* AgentModel.make(planner)),
      recall,
      concurrency: Math.max(1, Math.floor(options.concurrency ?? 4)),
      retries: Math.max(0, Math.floor(options.retries ?? 1)),
      runTimeout: Duration.toMillis(options.runTimeout ?? Duration.days(1)),
      budget: options.budget ?? {},
      audit: options.audit,
      publish: (event) => Effect.asVoid(PubSub.publish(events, event)),
      budgetOf,
      durability: yield* durabilityOf(team.name)
    }
    const supervision = team.supervision
    const supervisor = yield* system.startChild(
      Supervisor.supervisor(
        team.name,
        Supervisor.make({
          children: [
            Supervisor.supervisor(
              "agents",
              Supervisor.make({
                strategy: supervision.strategy,
                intensity: { maxRestarts: supervision.maxRestarts, within: supervision.within },
                children: parts.map((p) =>
                  Supervisor.supervisor(p.spec.name, Agent.supervisorOf(p), { restart: "permanent" })
                )
              })
            ),
            Supervisor.actor("orchestrator", behavior(env))
          ]
        }),
        { restart: "temporary" }
      )
    )
    const members = yield* Effect.forEach(parts, (p) =>
      Effect.map(
        system.lookup(`${supervisor.path}/agents/${p.spec.name}/agent`, Agent.Message).pipe(Effect.orDie),
        (ref) => Agent.handle(p.spec.name, ref, hub)
      )
    )
    for (const [i, member] of members.entries()) {
      handles.set(member.name, member)
      env.members.push({
        name: member.name,
        agent: member,
        spec: parts[i]!.spec,
        lock: yield* Semaphore.make(1),
        runs: memberRuns
      })
    }
    const ref = yield* system.lookup(`${supervisor.path}/orchestrator`, Message).pipe(Effect.orDie)
    return {
      team: team.name,
      path: ref.path,
      ref,
      members,
      orchestrate: (goal, askOptions) =>
        ref.ask<Report.Report, OrchestratorError.OrchestrationError>(
          (replyTo) => ({
            _tag: "Orchestrate",
            goal,
            replyTo,
            ...(askOptions?.orchestrationId === undefined ? {} : { orchestrationId: askOptions.orchestrationId })
          }),
          { timeout: askOptions?.timeout ?? Duration.days(1) }
        ),
      cancel: ref.tell({ _tag: "Cancel" }),
      status: ref.ask<Status>((replyTo) => ({ _tag: "Status", replyTo }), { timeout: Duration.seconds(5) }),
      events: Stream.fromPubSub(events),
      subscribe: PubSub.subscribe(events)
    }
  })
