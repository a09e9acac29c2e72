/**
 * What the built-in agents' scenarios share: the agent's real spec from `agents/NAME.yaml`, its real tools in a
 * fresh temporary workspace, and a scripted model standing in for the provider.
 *
 * The scripted model is a small "brain": it answers the run's planning and reflection questions itself, and takes
 * its acting turns from the scenario's list of acts, each a fixed turn or a function of what the model was just
 * shown (the results of its last tool calls), so a scenario can read a test's output and decide what to do next.
 * Approvals are decided by the scenario as a person would: by looking at the requests waiting in the agent's status.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { type AgentSpec, SpecLoader } from "@troupe/agent-spec"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import { type Delegation, Tools, Workspace } from "@troupe/tools"
import * as AiError from "effect/ai/AiError"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Agent from "../../src/Agent.ts"
import type * as AgentEvent from "../../src/AgentEvent.ts"
import * as AgentEvents from "../../src/AgentEvents.ts"
import type * as Approvals from "../../src/Approvals.ts"

/** The folder of the built-in agents. */
export const agentsDir = join(import.meta.dirname, "..", "..", "..", "..", "agents")

/** The built-in agent `name`, decoded from `agents/NAME.yaml` exactly as `troupe run` loads it. */
export const builtin = (name: string): Effect.Effect<AgentSpec.AgentSpec> =>
  SpecLoader.loadAgent(join(agentsDir, `${name}.yaml`)).pipe(
    Effect.map((loaded) => loaded.spec),
    Effect.provide(NodeServices.layer),
    Effect.orDie
  )

/** A fresh temporary directory, removed with the scope. */
export const tempDir = (prefix: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => realpathSync(mkdtempSync(join(tmpdir(), `troupe-${prefix}-`)))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

// -----------------------------------------------------------------------------
// The scripted model
// -----------------------------------------------------------------------------

/** The result of one tool call, as the model was shown it. */
export interface Result {
  readonly name: string
  readonly isFailure: boolean
  readonly result: any
}

/** What the model was shown before an acting turn. */
export interface Seen {
  /** The results of the tool calls of its last turn, in the order the calls finished. */
  readonly results: ReadonlyArray<Result>
  /** The result of the last call of `name` among them. */
  readonly result: (name: string) => Result | undefined
  readonly request: LanguageModel.ProviderOptions
}

/** One acting turn: fixed, or decided from what the model was shown. */
export type Act = Scripted.Turn | ((seen: Seen) => Scripted.Turn)

let callIds = 0

/** A turn calling tools, each call with an id of its own (as providers give them). */
export const calls = (...list: ReadonlyArray<readonly [name: string, params: unknown]>): Scripted.Turn =>
  Scripted.toolCalls(list.map(([name, params]) => ({ name, params, id: `call_${++callIds}` })))

/** A turn calling one tool. */
export const call = (name: string, params: unknown): Scripted.Turn => calls([name, params])

/** A text answer. */
export const say = (text: string): Scripted.Turn => Scripted.text(text)

const seenOf = (request: LanguageModel.ProviderOptions): Seen => {
  // The results of the last turn, even when the run added a note of its own after them.
  const last = request.prompt.content.findLast((message) => message.role !== "user")
  const results: Array<Result> =
    last?.role === "tool"
      ? last.content.flatMap((part) =>
          part.type === "tool-result" ? [{ name: part.name, isFailure: part.isFailure, result: part.result }] : []
        )
      : []
  return { results, result: (name) => results.findLast((r) => r.name === name), request }
}

/** The scripted model of a scenario, and what it did. */
export interface Brain {
  readonly model: Scripted.Handle
  /** How many acts were taken. */
  readonly acted: () => number
}

/** A goal of the scripted plan: its title, and how many acts finish it (the last goal: all of them). */
export type Goal = string | { readonly title: string; readonly doneAfter: number }

/**
 * A scripted model that plans `goals`, takes `acts` in order, reflects `continue` (reporting the goals finished by
 * the acts taken so far) until they are all taken, and `done` (with its last text as the answer) after. Running out
 * of acts fails the model call, so a run that needs more turns than the scenario wrote fails instead of looping.
 */
export const brain = (
  acts: ReadonlyArray<Act>,
  options: { readonly goals?: ReadonlyArray<Goal> } = {}
): Effect.Effect<Brain> => {
  const goals = (options.goals ?? ["do the task"]).map((goal) =>
    typeof goal === "string" ? { title: goal, doneAfter: acts.length } : goal
  )
  const plan = {
    goals: goals.map((goal, i) => ({
      id: `g${i + 1}`,
      title: goal.title,
      status: "pending",
      dependsOn: [],
      acceptance: goal.title,
      subgoals: []
    }))
  }
  const finished = () =>
    goals.flatMap((goal, i) => (goal.doneAfter <= next ? [{ id: `g${i + 1}`, status: "done" }] : []))
  let next = 0
  let lastText: string | undefined
  const turn = Scripted.dynamic((request) => {
    const format = request.responseFormat
    if (format.type === "json" && format.objectName === "plan") return Scripted.text(JSON.stringify(plan))
    if (format.type === "json") {
      return Scripted.text(
        JSON.stringify(
          next >= acts.length
            ? {
                outcome: "done",
                reasoning: "every step of the task is done",
                progress: plan.goals.map((g) => ({ id: g.id, status: "done" })),
                answer: lastText ?? "done"
              }
            : { outcome: "continue", reasoning: "the next step follows", progress: finished() }
        )
      )
    }
    if (next >= acts.length) {
      return Scripted.fail(new AiError.UnknownError({ description: "the scenario has no more turns" }))
    }
    const act = acts[next++]!
    const chosen = typeof act === "function" ? act(seenOf(request)) : act
    if (chosen._tag === "Text") lastText = chosen.text
    return chosen
  })
  return Effect.map(Scripted.make([turn], { cycle: true }), (model) => ({ model, acted: () => next }))
}

// -----------------------------------------------------------------------------
// Running an agent
// -----------------------------------------------------------------------------

/** How a person decides a request: approve it, or deny it with a reason. */
export type Decide = (
  request: Approvals.Request
) => { readonly approved: true } | { readonly approved: false; readonly reason: string }

/** A running scenario. */
export interface Scenario {
  /** The agent's workspace. */
  readonly dir: string
  readonly agent: Agent.Agent
  readonly brain: Brain
  /** Every event of the program so far. */
  readonly events: ReadonlyArray<AgentEvent.AgentEvent>
  /** The requests a person decided, in order, with the decision. */
  readonly decided: ReadonlyArray<{ readonly request: Approvals.Request; readonly approved: boolean }>
}

/** Options of a scenario. */
export interface Options {
  readonly goals?: ReadonlyArray<Goal>
  /** How a person decides approvals (none waits forever otherwise: every scenario that asks says how). */
  readonly decide?: Decide
  /** Services the agent's tools need beyond the workspace and Node's (a `Mailer`). */
  readonly services?: Layer.Layer<any>
  readonly delegation?: Delegation.Service
  /** The workspace; a fresh temporary directory by default. */
  readonly dir?: string
}

/** The services every scenario runs with: the actor system, the events hub, the pool, Node's processes. */
export const services = (dir: string) =>
  Layer.mergeAll(
    ActorSystem.layer(),
    AgentEvents.layer,
    ProviderPool.layer(),
    NodeHttpClient.layerUndici,
    Tools.layerNode,
    Workspace.layer(dir)
  )

/** A built-in agent started with a scripted brain, and the person deciding its approvals. */
export interface Started {
  readonly agent: Agent.Agent
  readonly brain: Brain
  readonly decided: ReadonlyArray<{ readonly request: Approvals.Request; readonly approved: boolean }>
}

/**
 * Starts the built-in agent `name` with the scripted `acts` in the services of {@link services}. The spec is the
 * real one: only the model is the test's.
 */
export const start = (
  name: string,
  acts: ReadonlyArray<Act>,
  options: Pick<Options, "goals" | "decide" | "delegation"> = {}
) =>
  Effect.gen(function* () {
    const spec = yield* builtin(name)
    const thinking = yield* brain(acts, options.goals === undefined ? {} : { goals: options.goals })
    const agent = yield* Agent.make(spec, {
      model: thinking.model.languageModel,
      ...(options.delegation === undefined ? {} : { delegation: options.delegation })
    })
    const decided: Array<{ readonly request: Approvals.Request; readonly approved: boolean }> = []
    if (options.decide !== undefined) yield* Effect.forkScoped(approver(agent, options.decide, decided))
    return { agent, brain: thinking, decided } satisfies Started
  })

/** Every event published from now on, gathered in an array (read it after the run). */
export const gather = Effect.gen(function* () {
  const events: Array<AgentEvent.AgentEvent> = []
  const subscription = yield* (yield* AgentEvents.AgentEvents).subscribe
  yield* Effect.forkScoped(
    Effect.gen(function* () {
      while (true) events.push(yield* PubSub.take(subscription))
    })
  )
  return events
})

/** Runs `body` in the services of a scenario over the workspace `dir` (a fresh one by default). */
export const inWorkspace = <A, E, R>(
  body: (dir: string) => Effect.Effect<A, E, R>,
  options: Pick<Options, "dir" | "services"> & { readonly prefix?: string } = {}
) =>
  Effect.gen(function* () {
    const dir = options.dir ?? (yield* tempDir(options.prefix ?? "scenario"))
    return yield* body(dir).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(services(dir), options.services ?? Layer.empty)),
      Effect.orDie
    )
  })

/**
 * Starts the built-in agent `name` with the scripted `acts` in a workspace and hands it to `body`; the scope ends
 * with the body. The spec is the real one: only the model (scripted) and the workspace are the test's.
 */
export const scenario = <A, E>(
  name: string,
  acts: ReadonlyArray<Act>,
  options: Options,
  body: (scenario: Scenario) => Effect.Effect<A, E>
): Effect.Effect<A, never, Scope.Scope> =>
  inWorkspace(
    (dir) =>
      Effect.gen(function* () {
        const events = yield* gather
        const started = yield* start(name, acts, options)
        return yield* body({ dir, events, ...started })
      }),
    { ...options, prefix: name }
  ) as Effect.Effect<A, never, Scope.Scope>

// A person watching the agent's status and deciding every request that waits, once.
const approver = (
  agent: Agent.Agent,
  decide: Decide,
  decided: Array<{ readonly request: Approvals.Request; readonly approved: boolean }>
) =>
  Effect.gen(function* () {
    const seen = new Set<string>()
    while (true) {
      const status = yield* Effect.orDie(agent.status)
      for (const request of status.pendingApprovals) {
        if (seen.has(request.approvalId)) continue
        seen.add(request.approvalId)
        const decision = decide(request)
        decided.push({ request, approved: decision.approved })
        yield* decision.approved
          ? agent.approve(request.approvalId, "reviewer")
          : agent.deny(request.approvalId, "reviewer", decision.reason)
      }
      yield* Effect.sleep("5 millis")
    }
  })

// -----------------------------------------------------------------------------
// Looking at real outputs
// -----------------------------------------------------------------------------

/** The text of a file of the workspace. */
export const read = (dir: string, path: string): string => readFileSync(join(dir, path), "utf8")

/** Runs a program in `cwd` the way a person would check the agent's work; its exit code and output. */
export const runIn = (cwd: string, command: string, args: ReadonlyArray<string>) => {
  const ran = spawnSync(command, [...args], { cwd, encoding: "utf8", timeout: 60_000 })
  return { status: ran.status, stdout: ran.stdout, stderr: ran.stderr }
}

/** The tool calls the agent made, in order (name and parameters), from its events. */
export const toolCalls = (events: ReadonlyArray<AgentEvent.AgentEvent>) =>
  events.flatMap((e) => (e._tag === "AgentToolCalled" ? [{ tool: e.tool, params: e.params as any }] : []))

/** The results of the agent's tool calls, in order. */
export const toolResults = (events: ReadonlyArray<AgentEvent.AgentEvent>) =>
  events.flatMap((e) =>
    e._tag === "AgentToolResult" ? [{ tool: e.tool, isFailure: e.isFailure, result: e.result as any }] : []
  )

/**
 * The time a scenario may take: it starts real programs (node, git), which on a loaded two-core machine running
 * every package's tests at once can take many times what they take alone.
 */
export const slow = { timeout: 60_000 }
