/**
 * The tools of a Model Context Protocol server (an `mcp` entry of the spec), reached through `effect/ai`'s
 * `McpClient`: over stdio (`command`, `args`, `env`; the server runs in the workspace with the scrubbed
 * environment plus the entry's `env`) or over HTTP (`url`), with protocol version 2025-11-25.
 *
 * Names: policies, approvals and audit name a tool `SERVER.TOOL` (the spec's form), but OpenAI accepts tool names
 * matching `^[a-zA-Z0-9_-]{1,64}$` only, so the model sees `SERVER__TOOL` ({@link wireName}): two underscores
 * between the server and the tool, any other character of the tool's name replaced by `_`, and a name over 64
 * characters cut and ended with a hash. Each {@link McpTool} carries both names; two tools that end up with one
 * wire name fail the connection rather than shadow each other.
 *
 * Enforced: only the tools in `allow` (the server's names, or `SERVER.TOOL`) exist for the model when it is
 * given; each call is bounded by `timeout`, and starting the server and listing its tools by the larger of
 * `timeout` and {@link connectTimeout} (a server fetched by `npx` on first use takes a while); a server's error,
 * a broken connection and a timeout are `McpToolFailed` results the model sees. An MCP tool's reversibility is `irreversible` (see
 * `Reversibility`): the approvals decide.
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as McpClient from "effect/ai/McpClient"
import type * as McpClientError from "effect/ai/McpClientError"
import * as McpProtocol from "effect/ai/McpProtocol"
import type * as McpSchema from "effect/ai/McpSchema"
import * as Tool from "effect/ai/Tool"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Predicate from "effect/Predicate"
import * as ChildProcess from "effect/process/ChildProcess"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as ProcessEnv from "./ProcessEnv.ts"
import { McpToolFailed } from "./ToolError.ts"

/** The longest tool name providers accept. */
export const maxNameLength = 64

const invalidNameCharacters = /[^A-Za-z0-9_-]/gu

// FNV-1a, 32 bits: a short, stable suffix that keeps two long names that share a prefix apart.
const hash = (text: string) => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0).toString(16).padStart(8, "0")
}

/** The name the model sees for the tool `tool` of `server`: `SERVER__TOOL`, provider-safe (see the module doc). */
export const wireName = (server: string, tool: string): string => {
  const name = `${server}__${tool.replace(invalidNameCharacters, "_")}`
  return name.length <= maxNameLength ? name : `${name.slice(0, maxNameLength - 9)}_${hash(`${server}.${tool}`)}`
}

/** The name policies and approvals use for the tool `tool` of `server`: `SERVER.TOOL`. */
export const policyName = (server: string, tool: string): string => `${server}.${tool}`

/** The dynamic tool the model is offered for one MCP tool. */
export type McpDynamicTool = Tool.Dynamic<
  string,
  {
    readonly parameters: typeof Schema.Unknown
    readonly success: typeof Schema.String
    readonly failure: typeof McpToolFailed
    readonly failureMode: "return"
  }
>

/** One tool of a connected server. */
export interface McpTool {
  /** What the model calls it: `SERVER__TOOL`. */
  readonly wireName: string
  /** What policies call it: `SERVER.TOOL`. */
  readonly policyName: string
  /** The tool offered to the model (its JSON Schema is the server's). */
  readonly tool: McpDynamicTool
  /** Calls the tool on the server. */
  readonly handler: (params: unknown) => Effect.Effect<string, McpToolFailed>
}

/** A connected server and its allowed tools. */
export interface Server {
  readonly name: string
  readonly tools: ReadonlyArray<McpTool>
}

/** A server could not be started, reached, or listed, or its tools' names collide. */
export class McpConnectError extends Schema.TaggedError<McpConnectError>()("McpConnectError", {
  server: Schema.String,
  reason: Schema.String
}) {}

/** The options of an `mcp` entry, as the spec decodes them. */
export type Options = ToolSpec.ToolOptions["mcp"]

/** The least time given to starting a server and listing its tools. */
export const connectTimeout: Duration.Duration = Duration.seconds(60)

/** Most characters of a result returned to the model. */
export const maxResultLength = 262_144

const describeError = (error: McpClientError.McpClientError) => `${error.reason._tag}: ${error.message}`

/** The text the model gets for a result: text blocks as they are, other content named, structured content as JSON. */
export const resultText = (result: McpSchema.CallToolResult): string => {
  const parts: Array<string> = []
  for (const block of result.content) {
    switch (block.type) {
      case "text":
        parts.push(block.text)
        break
      case "resource":
        parts.push("text" in block.resource ? block.resource.text : `[binary resource ${block.resource.uri}]`)
        break
      case "resource_link":
        parts.push(`${block.name}: ${block.uri}`)
        break
      default:
        parts.push(`[${block.type} content${"mimeType" in block ? ` ${String(block.mimeType)}` : ""}]`)
    }
  }
  const text =
    parts.length === 0 && result.structuredContent !== undefined
      ? JSON.stringify(result.structuredContent)
      : parts.join("\n")
  return text.length <= maxResultLength
    ? text
    : `${text.slice(0, maxResultLength)}\n[truncated: ${text.length - maxResultLength} more characters]`
}

const clientInfo = { name: "troupe", version: "0.1.0" }

const transport = (
  options: Options,
  cwd: string
): Effect.Effect<
  McpClient.Transport,
  McpClientError.McpClientError,
  Scope.Scope | ChildProcessSpawner | HttpClient.HttpClient
> =>
  options.url !== undefined
    ? McpClient.http({ url: options.url, protocol: McpProtocol.v2025_11_25 })
    : McpClient.stdio({
        command: ChildProcess.make(options.command ?? "", options.args, {
          cwd,
          env: ProcessEnv.forChild(options.env),
          extendEnv: false
        }),
        protocol: McpProtocol.v2025_11_25
      })

/**
 * Connects to the server of `options` (a stdio server runs with `cwd` as its working directory), lists its tools,
 * keeps those `allow` admits, and returns them ready to offer. The connection (and a stdio server's process)
 * lives as long as the scope.
 */
export const connect = (
  options: Options,
  cwd: string
): Effect.Effect<Server, McpConnectError, Scope.Scope | ChildProcessSpawner | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const server = options.server
    const timeout = options.timeout ?? Duration.seconds(30)
    const discovery = Duration.max(timeout, connectTimeout)
    const failed = (reason: string) => new McpConnectError({ server, reason })
    const client = yield* transport(options, cwd).pipe(
      Effect.flatMap((t) =>
        McpClient.make({ ...clientInfo, timeout: discovery }).pipe(Effect.provideService(McpClient.Transport, t))
      ),
      Effect.mapError((e) => failed(describeError(e)))
    )
    const descriptors = yield* client
      .listTools({ timeout: discovery })
      .pipe(Effect.mapError((e) => failed(describeError(e))))
    const allow = options.allow
    const allowed = descriptors.filter(
      (d) => allow === undefined || allow.includes(d.name) || allow.includes(policyName(server, d.name))
    )
    const tools: Array<McpTool> = []
    for (const descriptor of allowed) {
      const wire = wireName(server, descriptor.name)
      if (tools.some((t) => t.wireName === wire)) {
        return yield* failed(`tools ${descriptor.name} and another one both become ${wire}`)
      }
      const policy = policyName(server, descriptor.name)
      const tool = Tool.dynamic(wire, {
        description: `${descriptor.description ?? descriptor.title ?? descriptor.name} (MCP ${policy})`,
        parameters: descriptor.inputSchema,
        success: Schema.String,
        failure: McpToolFailed,
        failureMode: "return"
      }).annotate(Tool.Strict, false) as unknown as McpDynamicTool
      const handler = (params: unknown): Effect.Effect<string, McpToolFailed> =>
        Predicate.isObject(params) && !Array.isArray(params)
          ? client.callTool({ tool: descriptor, arguments: params as Record<string, unknown> }, { timeout }).pipe(
              Effect.mapError((e) => new McpToolFailed({ tool: policy, reason: describeError(e) })),
              Effect.flatMap((result) =>
                result.isError === true
                  ? Effect.fail(new McpToolFailed({ tool: policy, reason: resultText(result) }))
                  : Effect.succeed(resultText(result))
              )
            )
          : Effect.fail(new McpToolFailed({ tool: policy, reason: "arguments must be a JSON object" }))
      tools.push({ wireName: wire, policyName: policy, tool, handler })
    }
    return { name: server, tools }
  })
