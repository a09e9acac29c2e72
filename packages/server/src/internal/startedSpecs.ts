/**
 * The teams and agents a server starts: its own team, and those named by the spec files of requests, each file started
 * once and kept for the requests that name it again.
 */
import { Agent } from "@troupe/agent"
import { type AgentSpec, SpecLoader, type TeamSpec } from "@troupe/agent-spec"
import { DetachedRuns, MemberRuns, Orchestrator } from "@troupe/orchestrator"
import { type ProviderConfig, TerminalText } from "@troupe/providers"
import type { ActorError } from "@troupe/runtime"
import type { Tools } from "@troupe/tools"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import type { Options, Requirements } from "../Jobs.ts"
import { Conflict, InvalidRequest } from "../ServerApi.ts"
import * as TeamGoal from "./teamGoal.ts"

/** A team or agent started; an agent of a server whose agent runs go elsewhere is only its spec. */
export type Started =
  | {
      readonly _tag: "Team"
      readonly orchestrator: Orchestrator.Orchestrator
      readonly members: ReadonlySet<string>
      /** A digest of the team as it was started: a resumed orchestration must find the same team. */
      readonly digest: string
    }
  | { readonly _tag: "Agent"; readonly agent: Agent.Agent }
  | { readonly _tag: "Remote"; readonly spec: AgentSpec.AgentSpec }

/** A team started. */
export type Team = Extract<Started, { readonly _tag: "Team" }>

/** Why a team or agent did not start. */
export type StartError = ProviderConfig.ProviderConfigError | Tools.ToolsetError | ActorError.StartError

/** Starts teams and agents with the server's options and services. */
export interface Specs {
  readonly startTeam: (team: TeamSpec.Team) => Effect.Effect<Started, StartError, Requirements>
  /** The team or agent of the spec file `file`, started the first time it is named (one start at a time). */
  readonly load: (file: string) => Effect.Effect<Started, InvalidRequest | Conflict>
}

const startFailed = (error: StartError) =>
  new Conflict({
    message: TerminalText.sanitize(
      error._tag === "ProviderConfigError"
        ? `it cannot start: ${error.provider}: ${error.description}`
        : error._tag === "ToolsetError"
          ? `it cannot start: tool ${error.tool}: ${error.reason}`
          : `a team or agent of that name already runs on this server, or its actors cannot start (${error._tag})`
    ).slice(0, 300)
  })

/**
 * Keeps the current services and scope to start what requests name later. `stopping` is set when the server stops;
 * with `options.memberRuns` the members' tasks handed elsewhere are left running then.
 */
export const make = (options: Options, stopping: { now: boolean }): Effect.Effect<Specs, never, Requirements> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const services = yield* Effect.context<Requirements>()
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
    return { startTeam, load }
  })
