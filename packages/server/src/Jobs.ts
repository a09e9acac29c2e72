import { Agent, type AgentEvent, AgentEvents, type ApprovalStore, type AuditLog } from "@troupe/agent"
import { type AgentSpec, SpecLoader, type TeamSpec } from "@troupe/agent-spec"
import type { KnowledgeBase, Memory } from "@troupe/memory"
import { DetachedRuns, MemberRuns, Orchestrator, type OrchestratorEvent } from "@troupe/orchestrator"
import { type ProviderConfig, type ProviderPool, TerminalText } from "@troupe/providers"
import type { ActorError, ActorSystem } from "@troupe/runtime"
import type { Tools } from "@troupe/tools"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as FileSystem from "effect/FileSystem"
import type * as HttpClient from "effect/http/HttpClient"
import type * as Path from "effect/Path"
import * as PubSub from "effect/PubSub"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as JobEntry from "./internal/jobEntry.ts"
import * as JobFollow from "./internal/jobFollow.ts"
import * as JobRecords from "./internal/jobRecords.ts"
import * as SpecPath from "./internal/specPath.ts"
import * as TeamGoal from "./internal/teamGoal.ts"
import { Conflict, InvalidRequest, type Job, type JobEvent, NotFound, type ServerFailure } from "./ServerApi.ts"

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

type Started =
  | {
      readonly _tag: "Team"
      readonly orchestrator: Orchestrator.Orchestrator
      readonly members: ReadonlySet<string>
      /** A digest of the team as it was started: a resumed orchestration must find the same team. */
      readonly digest: string
    }
  | { readonly _tag: "Agent"; readonly agent: Agent.Agent }
  | { readonly _tag: "Remote"; readonly spec: AgentSpec.AgentSpec }

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
    const services = yield* Effect.context<Requirements>()
    const hub = yield* AgentEvents.AgentEvents
    const maxKept = Math.max(1, Math.floor(options.maxEventsPerJob ?? 10_000))
    const maxEnded = Math.max(1, Math.floor(options.maxEndedJobs ?? 1_000))
    const maxEventsTotal = Math.max(maxKept, Math.floor(options.maxEventsTotal ?? 200_000))
    const jobs = new Map<string, JobEntry.Entry>()
    const startedByFile = new Map<string, Started>()
    const starting = yield* Semaphore.make(1)

    const orchestratorOptions = {
      concurrency: options.concurrency,
      approvals: options.approvals,
      audit: options.audit,
      memory: options.memory,
      knowledgeBase: options.knowledgeBase,
      models: options.models
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
    const memberRuns = options.memberRuns === undefined ? undefined : DetachedRuns.make(options.memberRuns, stopping)
    const startTeam = (team: TeamSpec.Team) =>
      Effect.map(
        memberRuns === undefined
          ? Orchestrator.make(team, orchestratorOptions)
          : Orchestrator.make(team, orchestratorOptions).pipe(
              Effect.provideService(MemberRuns.MemberRuns, memberRuns),
              Effect.tap(() =>
                Effect.addFinalizer(() =>
                  Effect.sync(() => {
                    stopping.now = true
                  })
                )
              )
            ),
        (orchestrator): Started => ({
          _tag: "Team",
          digest: TeamGoal.digestOf(team),
          orchestrator,
          members: new Set(orchestrator.members.map((m) => m.name))
        })
      )
    const startAgent = (spec: AgentSpec.AgentSpec) =>
      Effect.map(
        Agent.make(spec, {
          model: options.models?.(spec),
          approvals: options.approvals,
          audit: options.audit,
          memory: options.memory,
          knowledgeBase: options.knowledgeBase
        }),
        (agent): Started => ({ _tag: "Agent", agent })
      )
    const inScope = <A, E>(effect: Effect.Effect<A, E, Requirements>): Effect.Effect<A, E> =>
      effect.pipe(Effect.provide(services), Scope.provide(scope))

    const startFailed = (error: ProviderConfig.ProviderConfigError | Tools.ToolsetError | ActorError.StartError) =>
      new Conflict({
        message: TerminalText.sanitize(
          error._tag === "ProviderConfigError"
            ? `it cannot start: ${error.provider}: ${error.description}`
            : error._tag === "ToolsetError"
              ? `it cannot start: tool ${error.tool}: ${error.reason}`
              : `a team or agent of that name already runs on this server, or its actors cannot start (${error._tag})`
        ).slice(0, 300)
      })

    const teamStarted = options.team === undefined ? undefined : yield* startTeam(options.team)
    const team = teamStarted?._tag === "Team" ? teamStarted.orchestrator : undefined

    const load = (file: string): Effect.Effect<Started, InvalidRequest | Conflict> =>
      starting.withPermit(
        Effect.gen(function* () {
          const known = startedByFile.get(file)
          if (known !== undefined) return known
          const loaded = yield* inScope(SpecLoader.load(file)).pipe(
            Effect.mapError(
              (invalid) =>
                new InvalidRequest({
                  message: `the spec does not validate (${invalid.lines.length} problems); check it with troupe validate`
                })
            )
          )
          const started = yield* inScope(
            loaded._tag === "Team"
              ? startTeam(loaded.team)
              : options.remote !== undefined
                ? Effect.succeed<Started>({ _tag: "Remote", spec: loaded.spec })
                : startAgent(loaded.spec)
          ).pipe(Effect.mapError(startFailed))
          startedByFile.set(file, started)
          return started
        })
      )

    // Ended jobs beyond `maxEnded`, or while the events kept for all jobs exceed `maxEventsTotal`, are forgotten,
    // oldest first: memory stays bounded however many jobs a server sees.
    const forget = Effect.sync(() => {
      const ended = [...jobs.values()].filter((j) => j.endedAt !== undefined)
      let kept = 0
      for (const entry of jobs.values()) kept += entry.kept.length
      for (const [index, entry] of ended.entries()) {
        if (ended.length - index <= maxEnded && kept <= maxEventsTotal) break
        jobs.delete(entry.id)
        kept -= entry.kept.length
      }
    })

    const newEntry = (id: string, kind: Job["kind"], name: string, goal: string, by: string) =>
      Effect.gen(function* () {
        const entry: JobEntry.Entry = {
          id,
          kind,
          name,
          goal,
          submittedBy: by,
          startedAt: yield* Clock.currentTimeMillis,
          state: "running",
          endedAt: undefined,
          answer: undefined,
          error: undefined,
          spend: { steps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
          pending: new Set(),
          runIds: new Set(),
          kept: [],
          seq: 0,
          live: yield* PubSub.unbounded<JobEvent>(),
          ended: Deferred.makeUnsafe<void>(),
          cancel: Effect.void
        }
        jobs.set(id, entry)
        yield* forget
        return entry
      })

    const agentRoute =
      (runId: string) =>
      (event: JobEntry.Source["event"]): JobEntry.Source | undefined =>
        "runId" in event && event.runId === runId && event._tag.startsWith("Agent")
          ? { _tag: "Agent", event: event as AgentEvent.AgentEvent }
          : undefined

    // `spec` is the name the request gave, recorded for a restarted server; `runId` resumes that run.
    const submitAgent = (
      agent: Agent.Agent,
      goal: string,
      by: string,
      durable: { readonly spec?: string; readonly runId?: string } = {}
    ) =>
      Effect.gen(function* () {
        const status = yield* agent.status.pipe(Effect.orElseSucceed(() => undefined))
        if (status !== undefined && status.state !== "idle") {
          return yield* new Conflict({ message: `agent ${agent.name} is pursuing another goal` })
        }
        const runId = durable.runId ?? (yield* Agent.newRunId)
        const records = durable.spec === undefined ? undefined : options.records
        const record = { spec: durable.spec ?? "", goal, submittedBy: by }
        if (records !== undefined) yield* JobRecords.write(records, runId, { ...record, ended: false })
        const jobScope = yield* Scope.make()
        const subscription = yield* hub.subscribe.pipe(Scope.provide(jobScope))
        const entry = yield* newEntry(runId, "agent", agent.name, goal, by)
        const run = yield* Effect.forkIn(agent.run(goal, { runId }), scope)
        entry.cancel = agent.cancel
        yield* JobFollow.follow({
          scope,
          maxKept,
          entry,
          run,
          subscriptions: [
            { subscription: subscription as PubSub.Subscription<JobEntry.Source["event"]>, route: agentRoute(runId) }
          ],
          outcome: (exit) => exit,
          jobScope,
          onEnd:
            records === undefined
              ? undefined
              : JobRecords.write(records, runId, { ...record, ended: true }).pipe(Effect.ignore)
        })
        return JobEntry.snapshot(entry)
      })

    // A run handed to `options.remote` (a cluster's runners): its events stay where it runs; the job has its end.
    // `spec` is the name the request gave, recorded for a restarted server; `runId` (the task's id) resumes that run:
    // the same task is waited for.
    const submitRemote = (
      spec: AgentSpec.AgentSpec,
      goal: string,
      by: string,
      durable: { readonly spec?: string; readonly runId?: string } = {}
    ) =>
      Effect.gen(function* () {
        const remote = options.remote!
        const runId = durable.runId ?? (yield* Agent.newRunId)
        const records = durable.spec === undefined ? undefined : options.records
        const record = { spec: durable.spec ?? "", goal, submittedBy: by }
        if (records !== undefined) yield* JobRecords.write(records, runId, { ...record, ended: false })
        const entry = yield* newEntry(runId, "agent", spec.name, goal, by)
        entry.runIds.add(runId)
        const run = yield* Effect.forkIn(DetachedRuns.detached(remote.run(spec, goal, runId), stopping), remoteRuns)
        entry.cancel = Effect.asVoid(Fiber.interrupt(run))
        yield* JobFollow.follow({
          scope,
          maxKept,
          entry,
          run,
          subscriptions: [],
          outcome: (exit) => exit,
          jobScope: yield* Scope.make(),
          onEnd:
            records === undefined
              ? undefined
              : JobRecords.write(records, runId, { ...record, ended: true }).pipe(Effect.ignore)
        })
        return JobEntry.snapshot(entry)
      })

    // `orchestrationId` resumes an orchestration a previous server did not finish; a fresh one by default.
    const submitTeam = (
      started: Extract<Started, { _tag: "Team" }>,
      goal: string,
      by: string,
      durable: { readonly spec: string; readonly orchestrationId?: string }
    ) =>
      Effect.gen(function* () {
        const orchestrator = started.orchestrator
        const status = yield* orchestrator.status.pipe(Effect.orElseSucceed(() => undefined))
        if (status !== undefined && status.state !== "idle") {
          return yield* new Conflict({ message: `team ${orchestrator.team} is pursuing another goal` })
        }
        const orchestrationId = durable.orchestrationId ?? (yield* Orchestrator.newOrchestrationId)
        const records = options.records
        const record = {
          kind: "team" as const,
          team: orchestrator.team,
          teamDigest: started.digest,
          spec: durable.spec,
          goal,
          submittedBy: by
        }
        if (records !== undefined) yield* JobRecords.write(records, orchestrationId, { ...record, ended: false })
        const jobScope = yield* Scope.make()
        const teamEvents = yield* orchestrator.subscribe.pipe(Scope.provide(jobScope))
        const agentEvents = yield* hub.subscribe.pipe(Scope.provide(jobScope))
        const ending = yield* TeamGoal.offer(orchestrator, goal, orchestrationId)
        if (typeof ending === "string") {
          yield* Scope.close(jobScope, Exit.void)
          if (records !== undefined && durable.orchestrationId === undefined) {
            yield* JobRecords.write(records, orchestrationId, { ...record, ended: true }).pipe(Effect.ignore)
          }
          return yield* new Conflict({
            message:
              ending === "busy"
                ? `team ${orchestrator.team} is pursuing another goal`
                : `team ${orchestrator.team} could not start the goal`
          })
        }
        const run = yield* Effect.forkIn(ending, scope)
        const entry = yield* newEntry(orchestrationId, "team", orchestrator.team, goal, by)
        entry.cancel = orchestrator.cancel
        yield* JobFollow.follow({
          scope,
          maxKept,
          entry,
          run,
          subscriptions: [
            {
              subscription: teamEvents as PubSub.Subscription<JobEntry.Source["event"]>,
              route: (event) =>
                "orchestrationId" in event && event.orchestrationId === orchestrationId
                  ? { _tag: "Orchestrator", event: event as OrchestratorEvent.OrchestratorEvent }
                  : undefined
            },
            {
              subscription: agentEvents as PubSub.Subscription<JobEntry.Source["event"]>,
              route: (event) =>
                event._tag.startsWith("Agent") && "agent" in event && started.members.has(event.agent)
                  ? { _tag: "Agent", event: event as AgentEvent.AgentEvent }
                  : undefined
            }
          ],
          outcome: (exit) => Exit.map(exit, (report) => ({ answer: report.summary, spend: report.spend })),
          jobScope,
          onEnd:
            records === undefined
              ? undefined
              : JobRecords.write(records, orchestrationId, { ...record, ended: true }).pipe(Effect.ignore)
        })
        return JobEntry.snapshot(entry)
      })

    const find = (id: string) =>
      Effect.suspend(() => {
        const entry = jobs.get(id)
        return entry === undefined ? Effect.fail(new NotFound({ message: "no such job" })) : Effect.succeed(entry)
      })

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
            return yield* submitTeam(teamStarted, goal, by, { spec: "" })
          }
          const file = yield* SpecPath.insideRoot(options.specRoot, named)
          const started = yield* load(file)
          if (target.team !== undefined && started._tag !== "Team") {
            return yield* new InvalidRequest({ message: "that file is an agent spec, not a team: name it as agent" })
          }
          if (target.agent !== undefined && started._tag === "Team") {
            return yield* new InvalidRequest({ message: "that file is a team, not an agent spec: name it as team" })
          }
          switch (started._tag) {
            case "Team":
              return yield* submitTeam(started, goal, by, { spec: named })
            case "Agent":
              return yield* submitAgent(started.agent, goal, by, { spec: named })
            case "Remote":
              return yield* submitRemote(started.spec, goal, by, { spec: named })
          }
        }),
      delegate: (name, task, by) =>
        Effect.gen(function* () {
          const member = team?.members.find((m) => m.name === name)
          const spec = options.team?.agents.find((s) => s.name === name)
          if (member === undefined || spec === undefined) {
            return yield* new NotFound({ message: "the team has no such agent" })
          }
          const job =
            options.remote === undefined ? yield* submitAgent(member, task, by) : yield* submitRemote(spec, task, by)
          return yield* self.await(job.id)
        }),
      list: Effect.sync(() => [...jobs.values()].map(JobEntry.snapshot)),
      status: (id) => Effect.map(find(id), JobEntry.snapshot),
      cancel: (id, by) =>
        Effect.flatMap(find(id), (entry) => {
          if (Deferred.isDoneUnsafe(entry.ended)) return Effect.fail(new Conflict({ message: "that job has ended" }))
          const job = JobEntry.snapshot(entry)
          // The approvals it waited for would stay listed as waiting: once it has ended they are recorded as denied.
          const closeApprovals = Effect.andThen(
            Deferred.await(entry.ended),
            Effect.forEach(job.pendingApprovals, (approvalId) =>
              options.approvals
                .decide(approvalId, { approved: false, by, reason: "the job was cancelled" })
                .pipe(Effect.ignore)
            )
          )
          return entry.cancel.pipe(Effect.andThen(Effect.forkIn(closeApprovals, scope)), Effect.as(job))
        }),
      await: (id) =>
        Effect.flatMap(find(id), (entry) => Effect.map(Deferred.await(entry.ended), () => JobEntry.snapshot(entry))),
      events: (id) =>
        Effect.map(find(id), (entry) =>
          Stream.unwrap(
            Effect.gen(function* () {
              const subscription = yield* PubSub.subscribe(entry.live)
              const kept = entry.kept.slice()
              const last = kept.at(-1)?.seq ?? -1
              if (Deferred.isDoneUnsafe(entry.ended)) return Stream.fromIterable(kept)
              return Stream.concat(
                Stream.fromIterable(kept),
                Stream.fromSubscription(subscription).pipe(
                  Stream.filter((event) => event.seq > last),
                  Stream.takeUntil((event) => event.type === "JobEnded")
                )
              )
            })
          )
        )
    }
    // The jobs a previous server did not finish go on where their journals stop: agent runs, and orchestrations
    // under the same id (a team's one goal at a time: at most one per team was running).
    if (options.records !== undefined) {
      const records = options.records
      for (const { runId, record } of yield* JobRecords.unfinished(records)) {
        yield* Effect.gen(function* () {
          const started =
            record.kind === "team" && record.spec === ""
              ? teamStarted
              : yield* load(yield* SpecPath.insideRoot(options.specRoot, record.spec))
          if (record.kind === "team") {
            if (started?._tag !== "Team" || started.digest !== record.teamDigest) {
              return yield* new InvalidRequest({ message: "its team changed since it started (or is gone)" })
            }
            if (yield* TeamGoal.hasEnded(options.audit, runId)) {
              return yield* new InvalidRequest({ message: "its orchestration has ended" })
            }
            return yield* submitTeam(started, record.goal, record.submittedBy, {
              spec: record.spec,
              orchestrationId: runId
            })
          }
          if (started?._tag === "Remote") {
            return yield* submitRemote(started.spec, record.goal, record.submittedBy, { spec: record.spec, runId })
          }
          if (started?._tag !== "Agent") return yield* new InvalidRequest({ message: "no longer an agent spec" })
          yield* submitAgent(started.agent, record.goal, record.submittedBy, { spec: record.spec, runId })
        }).pipe(
          // A job that cannot be resumed (its spec gone or changed, its orchestration ended) is closed; one whose team
          // or agent cannot start now (a key missing from this server's environment) stays for the next start.
          Effect.catch((error) =>
            Effect.logWarning(`job ${runId} not resumed: ${error.message}`).pipe(
              Effect.andThen(
                error._tag === "Conflict" ? Effect.void : JobRecords.write(records, runId, { ...record, ended: true })
              ),
              Effect.ignore
            )
          )
        )
      }
    }
    return self
  })
