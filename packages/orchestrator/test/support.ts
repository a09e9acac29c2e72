/**
 * Test support for the orchestrator: specs and teams from their YAML form, a scripted manager that answers with a
 * given decomposition, scripted members that write files and answer (or give up) run after run, every model
 * through the team's one `ProviderPool` at `openai/gpt-5-mini` list prices, and the services a team runs with.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { AgentEvents } from "@troupe/agent"
import { AgentSpec, type TeamSpec } from "@troupe/agent-spec"
import { Pooled, ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import { Workspace } from "@troupe/tools"
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Subtask from "../src/Subtask.ts"

/** Decodes a spec from its YAML form, with defaults; memory off unless given. */
export const spec = (input: Partial<AgentSpec.AgentSpecInput> & { readonly name: string }): AgentSpec.AgentSpec =>
  Schema.decodeUnknownSync(AgentSpec.AgentSpec, AgentSpec.parseOptions)({ memory: { enabled: false }, ...input })

/** A resolved team. */
export const team = (
  agents: ReadonlyArray<AgentSpec.AgentSpec>,
  options: {
    readonly manager?: AgentSpec.AgentSpec
    readonly name?: string
    readonly strategy?: TeamSpec.Team["supervision"]["strategy"]
  } = {}
): TeamSpec.Team => ({
  name: options.name ?? "team-test",
  description: "",
  manager: options.manager,
  agents,
  supervision: { strategy: options.strategy ?? "one-for-one", maxRestarts: 5, within: "1 minute" as never }
})

/** A subtask with defaults. */
export const subtask = (id: string, fields: Partial<Omit<Subtask.Subtask, "id">> = {}): Subtask.Subtask => ({
  id,
  title: `do ${id}`,
  task: `Do ${id}.`,
  dependsOn: [],
  capabilities: [],
  ...fields
})

const objectName = (request: LanguageModel.ProviderOptions): string | undefined =>
  request.responseFormat.type === "json" ? request.responseFormat.objectName : undefined

const lastRole = (prompt: Prompt.Prompt): string | undefined => prompt.content.at(-1)?.role

/** The text of a request's user messages, to see what a member was asked. */
export const userText = (request: LanguageModel.ProviderOptions): string =>
  request.prompt.content
    .filter((m) => m.role === "user")
    .flatMap((m) => (typeof m.content === "string" ? [m.content] : m.content.map((p) => ("text" in p ? p.text : ""))))
    .join("\n")

/** How a scripted member ends each run, in order (the last one repeats). */
export type Ending = "done" | "give-up"

/** What a scripted member does in every run. */
export interface Worker {
  /** A file it writes with `fs_write` before answering. */
  readonly writes?: { readonly path: string; readonly content: string } | undefined
  readonly answer: string
  readonly endings?: ReadonlyArray<Ending> | undefined
  /** Tokens every call reports (default: estimated from the text). */
  readonly usage?: Scripted.TurnUsage | undefined
  /** Never answers an acting turn (only a cancellation ends the run). */
  readonly hangs?: boolean | undefined
  /** Its answer when asked to decompose a goal (as a team without a manager asks its first member's model). */
  readonly decomposition?: ReadonlyArray<Subtask.Subtask> | undefined
}

/**
 * A scripted member: plans nothing, writes its file (when it has one), answers, and reflects `done` (or gives up, as
 * `endings` says for that run).
 */
export const worker = (behaviour: Worker) =>
  Effect.gen(function* () {
    let runs = 0
    const usage = behaviour.usage === undefined ? {} : { usage: behaviour.usage }
    const scripted = yield* Scripted.make(
      [
        Scripted.dynamic((request) => {
          switch (objectName(request)) {
            case "decomposition":
              return Scripted.text(JSON.stringify({ subtasks: behaviour.decomposition ?? [] }))
            case "plan":
              return Scripted.text(JSON.stringify({ goals: [] }), usage)
            case "reflection": {
              const endings = behaviour.endings ?? ["done"]
              const ending = endings[Math.min(runs, endings.length - 1)]
              runs++
              return Scripted.text(
                JSON.stringify(
                  ending === "done"
                    ? { outcome: "done", reasoning: "finished", progress: [], answer: behaviour.answer }
                    : { outcome: "give-up", reasoning: "this member cannot do it", progress: [] }
                ),
                usage
              )
            }
            default:
              if (behaviour.hangs === true) return Scripted.hang
              if (behaviour.writes !== undefined && lastRole(request.prompt) !== "tool") {
                return Scripted.toolCalls([{ name: "fs_write", params: behaviour.writes }], usage)
              }
              return Scripted.text(behaviour.answer, usage)
          }
        })
      ],
      { cycle: true }
    )
    return scripted
  })

/** A scripted manager answering every decomposition request with `subtasks`. */
export const manager = (subtasks: ReadonlyArray<Subtask.Subtask>) =>
  Scripted.make([Scripted.dynamic(() => Scripted.text(JSON.stringify({ subtasks })))], { cycle: true })

/** A model through the pool in context, billed as `openai/gpt-5-mini`. */
export const pooled = (languageModel: LanguageModel.LanguageModel) =>
  Pooled.make({ provider: "openai", model: "gpt-5-mini", languageModel })

/** A temp directory removed with the scope. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/**
 * The services a team runs with: the actor system, the agents' event hub, one pool, HTTP, and a workspace in a temp
 * directory (`Workspace.root`).
 */
export const services = Layer.mergeAll(
  ActorSystem.layer(),
  AgentEvents.layer,
  ProviderPool.layer(),
  NodeHttpClient.layerUndici,
  Layer.unwrap(Effect.map(tempDir("troupe-orchestrator-"), Workspace.layer))
)
