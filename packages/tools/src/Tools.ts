/**
 * The toolkit of one agent, built from its spec's `tools:` list: exactly the tools listed (a tool not listed does
 * not exist for the agent), each with its options enforced by the tool itself, each asking `needsApproval` before
 * it runs, plus the tools of its `mcp` servers.
 *
 * The memory tools (`memory_recall`, `memory_remember`, `knowledge_query`, `knowledge_assert`) come from
 * `@troupe/memory`'s `MemoryTools`: they are skipped here, and the agent merges that toolkit with this one
 * (`Toolkit.merge`, and both handler layers).
 *
 * Services: the `Workspace` is required. The others are looked up only for the tools listed, and a listed tool
 * whose service is missing fails the build with a {@link ToolsetError} naming it: `ChildProcessSpawner` for
 * `shell_run`, `shell_start`, the git tools and stdio MCP servers; `HttpClient` for `http_fetch` and HTTP MCP servers (both in
 * {@link layerNode}); `Mailer` for `mail_send`; `Human` for `ask_human`; `Delegation` for `delegate`. MCP servers are started and connected during the build
 * and stay up until the `Scope` closes, like the programs `shell_start` leaves running.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LanguageModel } from "effect/ai"
 * import { Tools, Workspace } from "@troupe/tools"
 *
 * const turn = Effect.gen(function*() {
 *   const toolset = yield* Tools.toolkit(spec.tools, {
 *     needsApproval: ({ tool, reversibility }) => reversibility === "irreversible" || tool === "fs_write"
 *   })
 *   const withHandlers = yield* toolset.toolkit.pipe(Effect.provide(toolset.layer))
 *   return yield* LanguageModel.generateText({ prompt: "Fix the build", toolkit: withHandlers })
 * }).pipe(Effect.scoped, Effect.provide(Workspace.layer(".")), Effect.provide(Tools.layerNode))
 * ```
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeServices from "@effect/platform-node/NodeServices"
import type { ToolSpec } from "@troupe/agent-spec"
import type * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import type * as Scope from "effect/Scope"
import * as BackgroundProcesses from "./BackgroundProcesses.ts"
import * as Delegation from "./Delegation.ts"
import * as FsTools from "./FsTools.ts"
import * as GitTools from "./GitTools.ts"
import * as HttpTool from "./HttpTool.ts"
import * as Human from "./Human.ts"
import * as Mailer from "./Mailer.ts"
import * as MailTool from "./MailTool.ts"
import * as McpTools from "./McpTools.ts"
import * as Reversibility from "./Reversibility.ts"
import * as ShellStartTool from "./ShellStartTool.ts"
import * as ShellTool from "./ShellTool.ts"
import * as TeamTools from "./TeamTools.ts"
import { memoryTools, ToolsetError } from "./Toolset.ts"
import * as WaitTool from "./WaitTool.ts"
import * as Workspace from "./Workspace.ts"

/** What `needsApproval` is asked about one call. */
export interface ApprovalRequest {
  /** The tool's name in policies: the built-in name, or `SERVER.TOOL` for an MCP tool. */
  readonly tool: string
  /** The name the model called (`SERVER__TOOL` for an MCP tool). */
  readonly name: string
  /** The decoded parameters of the call. */
  readonly params: unknown
  /** How far this call's effect can be undone, for these parameters. */
  readonly reversibility: Reversibility.Reversibility
  readonly toolCallId: string
}

/** How the toolkit is built. */
export interface Options {
  /** Whether a call waits for a person's approval (effect/ai asks before the handler runs). None: never. */
  readonly needsApproval?: (request: ApprovalRequest) => boolean | Effect.Effect<boolean>
  /** Bounds of the file tools (defaults in `FsTools`). */
  readonly fs?: Pick<FsTools.Options, "maxReadBytes" | "maxListEntries" | "maxWriteBytes">
  /** Bounds of `shell_run` and `shell_start` (defaults in `ShellTool`). */
  readonly shell?: Pick<ShellTool.Options, "maxOutputBytes">
  /** Bounds of the git tools (defaults in `GitTools`). */
  readonly git?: Pick<GitTools.Options, "timeout" | "maxOutputBytes">
  /** Bounds of `http_fetch` (defaults in `HttpTool`). */
  readonly http?: Pick<HttpTool.Options, "maxResponseBytes" | "maxRequestBytes" | "maxRedirects">
  /** Bounds of `wait_for`'s reports (defaults in `WaitTool`). */
  readonly wait?: Pick<WaitTool.Options, "debounce" | "maxReportedPaths" | "maxDirectories">
}

/** What one tool of the toolkit is, beyond its definition. */
export interface ToolInfo {
  /** The name the model calls. */
  readonly name: string
  /** The name in policies (`SERVER.TOOL` for MCP). */
  readonly tool: string
  /** How far a call with `params` can be undone. */
  readonly reversibility: (params: unknown) => Reversibility.Reversibility
}

/** An agent's tools: the toolkit, the layer of its handlers, and what each tool is. */
export interface Toolset {
  readonly toolkit: Toolkit.Toolkit<Record<string, Tool.Any>>
  /** The handlers, with every service they need already inside. */
  readonly layer: Layer.Layer<Tool.Handler<string>>
  /** Every tool, by the name the model calls. */
  readonly tools: ReadonlyMap<string, ToolInfo>
}

export { memoryTools, ToolsetError }

type Handler = (params: any, context: any) => Effect.Effect<any, any>

interface Entry {
  readonly tool: Tool.Any
  readonly handler: Handler
  readonly info: ToolInfo
  /** Run as soon as a call is known to wait for a person (mail_send writes the draft the person will read). */
  readonly prepare?: (params: any, toolCallId: string) => Effect.Effect<unknown, unknown>
}

const need = <I, S>(key: Context.Key<I, S>, tool: string, service: string) =>
  Effect.flatMap(Effect.serviceOption(key), (found) =>
    Option.isSome(found)
      ? Effect.succeed(found.value)
      : Effect.fail(new ToolsetError({ tool, reason: `needs a ${service} in context` }))
  )

const builtin = (name: ToolSpec.ToolName, tool: Tool.Any, handler: Handler): Entry => ({
  tool,
  handler,
  info: { name, tool: name, reversibility: (params) => Reversibility.of(name, params) }
})

// One entry of the spec as the tools it contributes.
const entriesOf = (
  spec: ToolSpec.ToolSpec,
  workspace: Workspace.Service,
  options: Options,
  processes: BackgroundProcesses.Registry | undefined
) =>
  Effect.gen(function* () {
    switch (spec.name) {
      case "fs_read":
      case "fs_list":
      case "fs_write":
      case "fs_delete": {
        const handlers = FsTools.handlers(workspace, { ...options.fs, ...spec.options })
        return [builtin(spec.name, FsTools.toolkit.tools[spec.name], handlers[spec.name])]
      }
      case "shell_run": {
        const spawner = yield* need(ChildProcessSpawner, spec.name, "ChildProcessSpawner")
        const handlers = ShellTool.handlers(workspace, spawner, { ...options.shell, ...spec.options })
        return [builtin(spec.name, ShellTool.ShellRun, handlers.shell_run)]
      }
      case "shell_start": {
        const spawner = yield* need(ChildProcessSpawner, spec.name, "ChildProcessSpawner")
        const registry = processes ?? (yield* BackgroundProcesses.make())
        const handlers = ShellStartTool.handlers(workspace, spawner, registry, { ...options.shell, ...spec.options })
        return [builtin(spec.name, ShellStartTool.ShellStart, handlers.shell_start)]
      }
      case "git_status":
      case "git_diff":
      case "git_log":
      case "git_commit":
      case "git_push": {
        const spawner = yield* need(ChildProcessSpawner, spec.name, "ChildProcessSpawner")
        const push = spec.name === "git_push" ? { push: spec.options } : {}
        const handlers = GitTools.handlers(workspace, spawner, { ...options.git, ...push })
        return [builtin(spec.name, GitTools.toolkit.tools[spec.name], handlers[spec.name])]
      }
      case "http_fetch": {
        const client = yield* need(HttpClient.HttpClient, spec.name, "HttpClient")
        const handlers = HttpTool.handlers(client, { ...options.http, ...spec.options })
        return [builtin(spec.name, HttpTool.HttpFetch, handlers.http_fetch)]
      }
      case "mail_send": {
        const mailer = yield* need(Mailer.Mailer, spec.name, "Mailer")
        return [
          {
            ...builtin(spec.name, MailTool.MailSend, MailTool.handlers(workspace, mailer, spec.options).mail_send),
            prepare: MailTool.writeDraft(workspace, mailer, spec.options)
          }
        ]
      }
      case "ask_human": {
        const human = yield* need(Human.Human, spec.name, "Human")
        return [builtin(spec.name, TeamTools.AskHuman, TeamTools.askHuman(human))]
      }
      case "wait_for": {
        const handlers = WaitTool.handlers(workspace, { ...options.wait, ...spec.options }, processes)
        return [builtin(spec.name, WaitTool.WaitFor, handlers.wait_for)]
      }
      case "delegate": {
        const delegation = yield* need(Delegation.Delegation, spec.name, "Delegation")
        return [builtin(spec.name, TeamTools.Delegate, TeamTools.delegate(delegation, spec.options))]
      }
      case "mcp": {
        const spawner = yield* Effect.serviceOption(ChildProcessSpawner)
        const client = yield* Effect.serviceOption(HttpClient.HttpClient)
        const label = `mcp ${spec.options.server}`
        if (spec.options.url === undefined && Option.isNone(spawner)) {
          return yield* new ToolsetError({ tool: label, reason: "needs a ChildProcessSpawner in context" })
        }
        if (spec.options.url !== undefined && Option.isNone(client)) {
          return yield* new ToolsetError({ tool: label, reason: "needs an HttpClient in context" })
        }
        let connect = McpTools.connect(spec.options, workspace.root)
        if (Option.isSome(spawner)) connect = Effect.provideService(connect, ChildProcessSpawner, spawner.value)
        if (Option.isSome(client)) connect = Effect.provideService(connect, HttpClient.HttpClient, client.value)
        const server = yield* (connect as Effect.Effect<McpTools.Server, McpTools.McpConnectError, Scope.Scope>).pipe(
          Effect.mapError((e) => new ToolsetError({ tool: label, reason: e.reason }))
        )
        return server.tools.map(
          (t): Entry => ({
            tool: t.tool,
            handler: t.handler,
            info: { name: t.wireName, tool: t.policyName, reversibility: () => Reversibility.of("mcp") }
          })
        )
      }
      default:
        // memory_* and knowledge_*: the agent merges @troupe/memory's MemoryTools.
        return []
    }
  })

/**
 * The toolkit of the tools `entries` lists (see the module doc), and the layer of their handlers. Each tool's
 * `needsApproval` asks `options.needsApproval` with the call's policy name, parameters and reversibility.
 */
export const toolkit = (
  entries: ReadonlyArray<ToolSpec.ToolSpec>,
  options: Options = {}
): Effect.Effect<Toolset, ToolsetError, Workspace.Workspace | Scope.Scope> =>
  Effect.gen(function* () {
    const workspace = yield* Workspace.Workspace
    // The programs shell_start runs in the background, for wait_for to report; killed when the scope closes.
    const processes = entries.some((spec) => spec.name === "shell_start")
      ? yield* BackgroundProcesses.make()
      : undefined
    const built: Array<Entry> = []
    for (const spec of entries) {
      for (const entry of yield* entriesOf(spec, workspace, options, processes)) {
        if (built.some((b) => b.info.name === entry.info.name)) continue
        built.push(entry)
      }
    }
    const ask = options.needsApproval
    const tools = built.map(({ tool, info, prepare }) =>
      ask === undefined
        ? tool
        : tool.setNeedsApproval((params: unknown, context: Tool.NeedsApprovalContext) => {
            const asked = ask({
              tool: info.tool,
              name: info.name,
              params,
              reversibility: info.reversibility(params),
              toolCallId: context.toolCallId
            })
            if (prepare === undefined) return asked
            // Preparing is a courtesy to the person deciding: a failure of it never blocks the request.
            return Effect.flatMap(Effect.isEffect(asked) ? asked : Effect.succeed(asked), (needs) =>
              needs
                ? prepare(params, context.toolCallId).pipe(
                    Effect.catchCause((cause) =>
                      Effect.logWarning(`${info.name}: could not prepare the call for approval`, cause)
                    ),
                    Effect.as(true)
                  )
                : Effect.succeed(false)
            )
          })
    )
    const kit = Toolkit.make(...tools) as unknown as Toolkit.Toolkit<Record<string, Tool.Any>>
    const handlers: Record<string, Handler> = {}
    for (const { info, handler } of built) handlers[info.name] = handler
    return {
      toolkit: kit,
      layer: kit.toLayer(handlers as never) as Layer.Layer<Tool.Handler<string>>,
      tools: new Map(built.map(({ info }) => [info.name, info]))
    }
  })

/**
 * The Node services the tools look up: the child-process spawner (with the file system and path it needs) and
 * the undici HTTP client. The Workspace, Mailer, Human and Delegation come from the application.
 */
export const layerNode: Layer.Layer<NodeServices.NodeServices | HttpClient.HttpClient> = Layer.mergeAll(
  NodeServices.layer,
  NodeHttpClient.layerUndici
)
