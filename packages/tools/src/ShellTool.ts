/**
 * `shell_run {command, args}`: runs one program with its arguments, never through a shell, so `;`, `|`, `&&`,
 * `$(...)`, backquotes, `>` and `*` in an argument are plain characters that reach the program as they are.
 *
 * Enforced by the tool (the spec's `ShellRunOptions`): `command` must be one of `allow` (compared whole, so
 * `allow: [npm]` does not admit `/tmp/x/npm`; `["*"]` admits any program); the working directory is `cwd` inside
 * the workspace (the root by default); the run is killed, with every process it started (its process group), at
 * `timeout`; stdout and stderr are each kept up to `maxOutputBytes` (256 KB) and cut with a
 * `[truncated: N more bytes]` line; the environment is this process's scrubbed of secrets (`ProcessEnv`) plus the
 * spec's `env`. A non-zero exit, a kill at the timeout and a cut output are results (`exitCode`, `timedOut`,
 * `truncated`), not failures: the model reads them like a person reads a terminal.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { ShellTool, Workspace } from "@troupe/tools"
 *
 * const program = Effect.gen(function*() {
 *   const tools = yield* ShellTool.toolkit
 *   return yield* tools.handle("shell_run", { command: "npm", args: ["test"] })
 * }).pipe(
 *   Effect.provide(ShellTool.layer({ allow: ["npm"] })),
 *   Effect.provide(Workspace.layer(".")),
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 */

import * as Fs from "node:fs/promises"
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as PlatformError from "effect/PlatformError"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Schema from "effect/Schema"
import * as Idempotency from "./Idempotency.ts"
import * as RunProcess from "./internal/runProcess.ts"
import * as Sys from "./internal/sys.ts"
import * as ProcessEnv from "./ProcessEnv.ts"
import { FileNotFound, InvalidArgument, IoFailed, PathRefused, ProgramNotAllowed, WrongFileType } from "./ToolError.ts"
import * as Workspace from "./Workspace.ts"

/** What a finished run returns to the model. */
export const RunResult = Schema.Struct({
  exitCode: Schema.NullOr(Schema.Int).annotate({ description: "null when a signal ended the program" }),
  stdout: Schema.String,
  stderr: Schema.String,
  truncated: Schema.Boolean,
  timedOut: Schema.Boolean
})

/** Runs a program in the workspace. */
export const ShellRun = Tool.make("shell_run", {
  description:
    "Run a program in the workspace with a list of arguments. No shell is involved: pipes, redirections, globs and ; are passed to the program literally.",
  parameters: Schema.Struct({
    command: Schema.String.annotate({ description: "The program, e.g. npm" }),
    args: Schema.Array(Schema.String).annotate({ description: 'Its arguments, one per item, e.g. ["run", "test"]' })
  }),
  success: RunResult,
  failure: Schema.Union([ProgramNotAllowed, InvalidArgument, PathRefused, FileNotFound, WrongFileType, IoFailed]),
  failureMode: "return"
})

/** The shell tool. */
export const toolkit = Toolkit.make(ShellRun)

/** The options of `shell_run`: the spec's, and the output cap. */
export interface Options extends Partial<ToolSpec.ToolOptions["shell_run"]> {
  /** Bytes kept of stdout, and of stderr, each (default 262,144). */
  readonly maxOutputBytes?: number
}

/** The failure the model sees when a program cannot be started: the kind of error, not the whole message. */
export const spawnFailure = (error: PlatformError.PlatformError): IoFailed =>
  new IoFailed({
    operation: "spawn",
    reason: error.reason._tag === "BadArgument" ? (error.reason.description ?? "bad argument") : error.reason._tag
  })

/** The working directory `cwd` (relative to the workspace), checked to be a directory inside it. */
export const workingDirectory = (workspace: Workspace.Service, cwd: string | undefined) =>
  Workspace.resolve(workspace, cwd ?? ".", ["**"], { mustExist: true, directory: true }).pipe(
    Effect.tap((dir) =>
      Sys.call("stat", () => Fs.stat(dir.absolute)).pipe(
        Effect.mapError((e) => e.toolError()),
        Effect.flatMap((stat) =>
          stat.isDirectory()
            ? Effect.void
            : Effect.fail(new WrongFileType({ path: dir.path, expected: "directory", actual: "file" }))
        )
      )
    ),
    Effect.map((dir) => dir.absolute)
  )

/** The handler of `shell_run`, over one workspace and spawner. */
/** `env` with the tool call's idempotency key (`Idempotency.variable`), when the call has one. */
export const withIdempotencyKey = (env: Record<string, string>, key: string | undefined): Record<string, string> =>
  key === undefined ? env : { ...env, [Idempotency.variable]: key }

export const handlers = (
  workspace: Workspace.Service,
  spawner: ChildProcessSpawner["Service"],
  options: Options = {}
) => {
  const allow = options.allow ?? ["*"]
  const timeout = options.timeout ?? Duration.seconds(60)
  const env = ProcessEnv.forChild(options.env ?? {})
  const maxOutputBytes = options.maxOutputBytes ?? 262_144
  return toolkit.of({
    shell_run: ({ command, args }) =>
      Effect.gen(function* () {
        if (command.trim() === "") return yield* new InvalidArgument({ argument: "command", reason: "is empty" })
        if (!allow.includes("*") && !allow.includes(command)) {
          return yield* new ProgramNotAllowed({ program: command, allowed: allow })
        }
        const cwd = yield* workingDirectory(workspace, options.cwd)
        const keyed = withIdempotencyKey(env, yield* Idempotency.CurrentKey)
        return yield* RunProcess.run({ command, args, cwd, env: keyed, timeout, maxOutputBytes }).pipe(
          Effect.provideService(ChildProcessSpawner, spawner),
          Effect.mapError(spawnFailure)
        )
      })
  })
}

/** The handler of `shell_run`, over the `Workspace` and `ChildProcessSpawner` in context. */
export const layer = (options: Options = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      return handlers(yield* Workspace.Workspace, yield* ChildProcessSpawner, options)
    })
  )
