/**
 * The jobs of a server: goals handed to its team, or to the teams and agents of the spec files requests name, each
 * followed from its first event to its end, and resumed after a restart when they are recorded.
 */
import { AgentEvents, type ApprovalStore, type AuditLog } from "@troupe/agent"
import type { AgentSpec, TeamSpec } from "@troupe/agent-spec"
import type { KnowledgeBase, Memory } from "@troupe/memory"
import type { MemberRuns, Orchestrator } from "@troupe/orchestrator"
import type { ProviderConfig, ProviderPool } from "@troupe/providers"
import type { ActorError, ActorSystem } from "@troupe/runtime"
import type { Tools } from "@troupe/tools"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import type * as HttpClient from "effect/http/HttpClient"
import type * as Path from "effect/Path"
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as AgentJob from "./internal/agentJob.ts"
import * as JobCancel from "./internal/jobCancel.ts"
import type * as JobContext from "./internal/jobContext.ts"
import * as JobEntry from "./internal/jobEntry.ts"
import * as JobEvents from "./internal/jobEvents.ts"
import * as JobResume from "./internal/jobResume.ts"
import * as JobTable from "./internal/jobTable.ts"
import * as RemoteJob from "./internal/remoteJob.ts"
import * as SpecPath from "./internal/specPath.ts"
import * as StartedSpecs from "./internal/startedSpecs.ts"
import * as TeamJob from "./internal/teamJob.ts"
import { type Conflict, InvalidRequest, type Job, type JobEvent, NotFound, type ServerFailure } from "./ServerApi.ts"

/** Options of `make`. */
export interface Options {
  /** The server's own team, pursuing goals that name no file. */
  readonly team: TeamSpec.Team | undefined
  /** Where the team files and agent specs a request names are looked for. */
  readonly specRoot: string
  readonly approvals: ApprovalStore.Store
  readonly audit: AuditLog.Service
  readonly memory?: Memory.Service | undefined
  readonly knowledgeBase?: KnowledgeBase.KnowledgeBase["Service"] | undefined
  /** Subtasks of one orchestration running at once (default 4). */
  readonly concurrency?: number | undefined
  /** Models in place of the specs' (tests, scripted demos). */
  readonly models?: ((spec: AgentSpec.AgentSpec) => LanguageModel.LanguageModel | undefined) | undefined
  /** Events kept per job for readers that come late (default 10,000); live readers get every one. */
  readonly maxEventsPerJob?: number | undefined
  /**
   * Where agent runs go instead of this process (`troupe serve --postgres`: a cluster's runners). The server's team
   * still orchestrates here; the agents named by requests, and the members MCP hands tasks to, run there.
   */
  readonly remote?: Remote | undefined
  /**
   * Where the members of the teams run their subtasks (`troupe serve --postgres`: `ClusterMemberRuns`, a cluster's
   * runners); their actors in this process by default. Teams still plan and report here.
   */
  readonly memberRuns?: MemberRuns.Service | undefined
  /**
   * Where the jobs of named agents and of teams are recorded (`$TROUPE_HOME/runs`: `<id>/job.json` beside the run's
   * or the orchestration's journal), so that a server started again resumes those it had not finished, under the same
   * ids. With a `RunJournal` where the agents and teams are made, a resumed job does not repeat its journalled model
   * calls, tool calls, approvals, decomposition and attempts (an attempt in flight on a cluster's runner is waited
   * for, not submitted again: its task id is the same).
   */
  readonly records?: string | undefined
  /** Ended jobs remembered (default 1,000); the oldest are forgotten first. Their trails stay on disk. */
  readonly maxEndedJobs?: number | undefined
  /** Events kept across all jobs (default 200,000): past it, the oldest ended jobs are forgotten. */
  readonly maxEventsTotal?: number | undefined
}

/** Runs an agent's run elsewhere, to its end: its answer and spending, or why it did not answer. */
export interface Remote {
  readonly run: (
    spec: AgentSpec.AgentSpec,
    goal: string,
    runId: string
  ) => Effect.Effect<
    { readonly answer: string; readonly spend: JobEntry.Spent },
    { readonly _tag: string; readonly message: string }
  >
}

/** What the jobs start teams and agents with (their tools also use a `Workspace` and the node services). */
export type Requirements =
  | ActorSystem.ActorSystem
  | AgentEvents.AgentEvents
  | ProviderPool.ProviderPool
  | HttpClient.HttpClient
  | FileSystem.FileSystem
  | Path.Path
  | Scope.Scope

/** The jobs of a server. */
export interface Jobs {
  /** The server's team, once started; its members are the agents MCP offers. */
  readonly team: Orchestrator.Orchestrator | undefined
  /** Starts a job and returns it as it stands once it has an id. */
  readonly submit: (
    goal: string,
    target: { readonly team?: string | undefined; readonly agent?: string | undefined },
    by: string
  ) => Effect.Effect<Job, InvalidRequest | Conflict | ServerFailure>
  /** Hands a task to one member of the server's team and waits for its end. */
  readonly delegate: (
    agent: string,
    task: string,
    by: string
  ) => Effect.Effect<Job, NotFound | Conflict | ServerFailure>
  /** The jobs remembered (every running one, the last `maxEndedJobs` ended ones), oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<Job>>
  readonly status: (id: string) => Effect.Effect<Job, NotFound>
  /**
   * Asks a running job to stop; it ends as `cancelled` (a job that ended already is a `Conflict`), and the approvals it
   * waited for are recorded as denied by `by`.
   */
  readonly cancel: (id: string, by: string) => Effect.Effect<Job, NotFound | Conflict>
  /** Waits for a job's end. */
  readonly await: (id: string) => Effect.Effect<Job, NotFound>
  /** A job's events from its first, live until it ends (the last is `JobEnded`). */
  readonly events: (id: string) => Effect.Effect<Stream.Stream<JobEvent>, NotFound>
}

// -----------------------------------------------------------------------------
// The service
// -----------------------------------------------------------------------------

/**
 * Starts the server's team (when there is one) and returns the jobs. Requires what a team needs to start (the
 * actor system, the agents' event hub, the provider pool, HTTP, the workspace and the node services); they are kept
 * to start the teams and agents that requests name later. Everything stops with the scope.
 */
export const make = (
  options: Options
): Effect.Effect<Jobs, ProviderConfig.ProviderConfigError | Tools.ToolsetError | ActorError.StartError, Requirements> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const table = JobTable.make(options)
    const context: JobContext.JobContext = {
      scope,
      table,
      records: options.records,
      hub: yield* AgentEvents.AgentEvents
    }
    // Set when the server stops, before any team does (a finalizer after each team's) and before the runs handed
    // elsewhere are interrupted (their scope's finalizer is before this one): tasks elsewhere go on, for the jobs
    // resumed when it starts again.
    const stopping = { now: false }
    const remoteRuns = yield* Scope.fork(scope)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        stopping.now = true
      })
    )
    const specs = yield* StartedSpecs.make(options, stopping)
    const teamStarted = options.team === undefined ? undefined : yield* specs.startTeam(options.team)
    const team = teamStarted?._tag === "Team" ? teamStarted.orchestrator : undefined

    // Only called when the server has a remote: a spec is started as `Remote` only then.
    const submitRemote = (spec: AgentSpec.AgentSpec, goal: string, by: string, durable?: JobContext.Durable) =>
      RemoteJob.submit({ ...context, remote: options.remote!, remoteRuns, stopping }, spec, goal, by, durable)

    const submitStarted: JobResume.Submit = (started, goal, by, durable) => {
      switch (started._tag) {
        case "Team":
          return TeamJob.submit(context, started, goal, by, { spec: durable.spec, orchestrationId: durable.runId })
        case "Agent":
          return AgentJob.submit(context, started.agent, goal, by, durable)
        case "Remote":
          return submitRemote(started.spec, goal, by, durable)
      }
    }

    const self: Jobs = {
      team,
      submit: (goal, target, by) =>
        Effect.gen(function* () {
          if (target.team !== undefined && target.agent !== undefined) {
            return yield* new InvalidRequest({ message: "name a team or an agent, not both" })
          }
          const named = target.team ?? target.agent
          if (named === undefined) {
            if (teamStarted?._tag !== "Team") {
              return yield* new InvalidRequest({ message: "this server has no team: name a team or an agent" })
            }
            return yield* submitStarted(teamStarted, goal, by, { spec: "" })
          }
          const started = yield* specs.load(yield* SpecPath.insideRoot(options.specRoot, named))
          if (target.team !== undefined && started._tag !== "Team") {
            return yield* new InvalidRequest({ message: "that file is an agent spec, not a team: name it as agent" })
          }
          if (target.agent !== undefined && started._tag === "Team") {
            return yield* new InvalidRequest({ message: "that file is a team, not an agent spec: name it as team" })
          }
          return yield* submitStarted(started, goal, by, { spec: named })
        }),
      delegate: (name, task, by) =>
        Effect.gen(function* () {
          const member = team?.members.find((m) => m.name === name)
          const spec = options.team?.agents.find((s) => s.name === name)
          if (member === undefined || spec === undefined) {
            return yield* new NotFound({ message: "the team has no such agent" })
          }
          const job =
            options.remote === undefined
              ? yield* AgentJob.submit(context, member, task, by)
              : yield* submitRemote(spec, task, by)
          return yield* self.await(job.id)
        }),
      list: Effect.map(table.entries, (entries) => entries.map(JobEntry.snapshot)),
      status: (id) => Effect.map(table.find(id), JobEntry.snapshot),
      cancel: (id, by) =>
        Effect.flatMap(table.find(id), (entry) => JobCancel.cancel(entry, by, options.approvals, scope)),
      await: (id) =>
        Effect.flatMap(table.find(id), (entry) =>
          Effect.map(Deferred.await(entry.ended), () => JobEntry.snapshot(entry))
        ),
      events: (id) => Effect.map(table.find(id), JobEvents.read)
    }
    if (options.records !== undefined) {
      yield* JobResume.resumeUnfinished({
        records: options.records,
        specRoot: options.specRoot,
        audit: options.audit,
        team: teamStarted,
        load: specs.load,
        submit: submitStarted
      })
    }
    return self
  })
