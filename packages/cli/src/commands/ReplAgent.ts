/**
 * The agent of an interactive session: which spec (`generic`, another built-in from `agents/`, or a spec file), which
 * model (the spec's own when its provider is configured, else the first configured provider's default, or the one
 * `/model` names), and the mixture (`/mixture on`: every configured provider at once). Switching any of them stops
 * the running agent and starts the new one.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Agent, type ApprovalStore, type AuditLog } from "@troupe/agent"
import { AgentSpec, type ModelSpec, SpecLoader } from "@troupe/agent-spec"
import type { KnowledgeBase, Memory } from "@troupe/memory"
import { TerminalText } from "@troupe/providers"
import { ActorSystem } from "@troupe/runtime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as ProviderSelection from "../ProviderSelection.ts"

/** The agent a session starts with. */
export const defaultAgent = "generic"

// The nearest `agents/` holding the default agent, upwards from this module: found from the sources and from a
// bundled build of the command alike, wherever each lives in the repository.
const findBuiltins = (from: string): string | undefined => {
  const candidate = NodePath.join(from, "agents")
  if (NodeFs.existsSync(NodePath.join(candidate, `${defaultAgent}.yaml`))) return candidate
  const parent = NodePath.dirname(from)
  return parent === from ? undefined : findBuiltins(parent)
}

/** Where the built-in agents are: the repository's `agents/` (undefined when it cannot be found). */
export const builtinDirectory: string | undefined = findBuiltins(NodePath.dirname(fileURLToPath(import.meta.url)))

/** The names of the built-in agents (their spec files' names), sorted. */
export const builtinNames = (): ReadonlyArray<string> =>
  builtinDirectory !== undefined
    ? NodeFs.readdirSync(builtinDirectory)
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => f.slice(0, -".yaml".length))
        .sort()
    : []

/** The spec file for `/agent NAME`: a built-in by name, else a path. */
export const specFile = (nameOrPath: string): string =>
  builtinDirectory !== undefined && /^[a-z0-9-]+$/.test(nameOrPath) && builtinNames().includes(nameOrPath)
    ? NodePath.join(builtinDirectory, `${nameOrPath}.yaml`)
    : NodePath.resolve(nameOrPath)

/** Loads an agent spec: its problems become one message, positioned, for the person to fix. */
export const load = (file: string): Effect.Effect<AgentSpec.AgentSpec, CliExit, SpecLoader.Requirements> =>
  SpecLoader.load(file).pipe(
    Effect.catchTag("SpecInvalid", (invalid) =>
      Effect.fail(new CliExit({ code: ExitCode.badInput, message: invalid.lines.join("\n") }))
    ),
    Effect.flatMap((loaded) =>
      loaded._tag === "Agent"
        ? Effect.succeed(loaded.spec)
        : Effect.fail(
            new CliExit({
              code: ExitCode.badInput,
              message: `${file} is a team, not an agent: run it with troupe orchestrate --team ${file}`
            })
          )
    )
  )

/** How the session picks the model. */
export interface Choice {
  /** `/model` or `--model` / `TROUPE_MODEL`: a model id, or `provider/model`. */
  readonly modelRef: string | undefined
  readonly mixture: boolean
}

/** A spec with its model replaced, and how to name it to a person. */
export interface Effective {
  readonly spec: AgentSpec.AgentSpec
  readonly label: string
  /** Why the spec's own model was not used, when it was not. */
  readonly note: string | undefined
}

const named = (ref: { readonly provider: string; readonly model: string }) => `${ref.provider}/${ref.model}`

const withModels = (
  spec: AgentSpec.AgentSpec,
  models: { readonly model: ModelSpec.ModelRef } | { readonly mixture: ModelSpec.Mixture }
): AgentSpec.AgentSpec => {
  const { model: _model, mixture: _mixture, ...rest } = spec
  return { ...rest, ...models }
}

/** The spec the session runs, under the person's choice of model. */
export const effective = (spec: AgentSpec.AgentSpec, choice: Choice): Effect.Effect<Effective, CliExit> =>
  Effect.gen(function* () {
    if (choice.mixture) {
      const selected = yield* ProviderSelection.select({ modelRef: choice.modelRef, all: true })
      if (selected.length < 2) {
        return yield* new CliExit({
          code: ExitCode.badInput,
          message: `a mixture needs two configured providers, and only ${selected[0]?.provider ?? "none"} is: set another's variable (e.g. ANTHROPIC_API_KEY), then /mixture on`
        })
      }
      const mixture: ModelSpec.Mixture = {
        strategy: "weighted-score",
        timeout: Duration.seconds(60),
        retries: 1,
        providers: selected.map((s) => ({ provider: s.provider, model: s.model, weight: 1 }))
      }
      return {
        spec: withModels(spec, { mixture }),
        label: `mixture of ${selected.map(named).join(", ")}`,
        note: undefined
      }
    }
    if (choice.modelRef !== undefined) {
      const [selected] = yield* ProviderSelection.select({ modelRef: choice.modelRef, all: false })
      const model = { ...(spec.model ?? {}), provider: selected!.provider, model: selected!.model }
      return { spec: withModels(spec, { model }), label: named(model), note: undefined }
    }
    const configured = yield* ProviderSelection.configured
    const usable = (provider: string) => configured.includes(provider) || spec.providers[provider] !== undefined
    const own = AgentSpec.modelsOf(spec)
    if (own.providers.every((m) => usable(m.provider))) {
      return {
        spec,
        label:
          spec.mixture === undefined ? named(own.providers[0]!) : `mixture of ${own.providers.map(named).join(", ")}`,
        note: undefined
      }
    }
    const [selected] = yield* ProviderSelection.select({ modelRef: undefined, all: false })
    const model = { provider: selected!.provider, model: selected!.model }
    const missing = own.providers.find((m) => !usable(m.provider))!
    return {
      spec: withModels(spec, { model }),
      label: named(model),
      note: `${spec.name} names ${named(missing)}, whose provider is not configured: using ${named(model)}`
    }
  })

/** A running agent of the session. */
export interface Live {
  readonly agent: Agent.Agent
  readonly spec: AgentSpec.AgentSpec
  readonly label: string
  readonly note: string | undefined
  readonly scope: Scope.Closeable
}

/** What every agent of the session runs with. */
export interface Services {
  readonly approvals: ApprovalStore.Store
  readonly audit: AuditLog.Service
  readonly memory: Memory.Service
  readonly knowledgeBase: KnowledgeBase.KnowledgeBase["Service"]
}

/** Starts the agent for `spec` under `choice`, in a scope of its own (its tools' resources live as long). */
export const start = (spec: AgentSpec.AgentSpec, choice: Choice, services: Services) =>
  Effect.gen(function* () {
    const chosen = yield* effective(spec, choice)
    const scope = yield* Scope.make()
    const agent = yield* Agent.make(chosen.spec, {
      approvals: services.approvals,
      audit: services.audit,
      ...(chosen.spec.memory.enabled ? { memory: services.memory, knowledgeBase: services.knowledgeBase } : {})
    }).pipe(
      Scope.provide(scope),
      Effect.onError(() => Scope.close(scope, Exit.void)),
      Effect.mapError((error) => {
        switch (error._tag) {
          case "ProviderConfigError":
            return new CliExit({ code: ExitCode.badInput, message: `${error.provider}: ${error.description}` })
          case "ToolsetError":
            return new CliExit({ code: ExitCode.badInput, message: `tool ${error.tool}: ${error.reason}` })
          default:
            return new CliExit({ code: ExitCode.failed, message: `${spec.name} did not start: ${error.message}` })
        }
      })
    )
    return { agent, spec: chosen.spec, label: chosen.label, note: chosen.note, scope } satisfies Live
  })

/** Stops a running agent (its run, if any, ends as cancelled) and releases its tools. */
export const stop = (live: Live) =>
  Effect.gen(function* () {
    const system = yield* ActorSystem.ActorSystem
    yield* system.stop(NodePath.posix.dirname(live.agent.path)).pipe(Effect.ignore)
    yield* Scope.close(live.scope, Exit.void)
  })

/** One line naming the agent, what it does and its model. */
export const describe = (live: Live): string =>
  TerminalText.sanitize(
    `agent ${live.spec.name} (${live.label})${live.spec.description === "" ? "" : `: ${live.spec.description}`}`
  )
