/**
 * `shell_start {command, args}`: starts one program in the background under the same rules as `shell_run` (argv
 * only, the program in `allow`, the working directory `cwd` inside the workspace, a scrubbed environment plus the
 * spec's `env`, output capped, killed with its process group at `timeout`, 10 minutes by default) and returns at
 * once with its id. `wait_for {until: "process-exit", process}` reports how it ended, with its output. Like
 * `shell_run` it can do anything the program does, so it is `irreversible` and asks for approval by default.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BackgroundProcesses, ShellStartTool, Workspace } from "@troupe/tools"
 * import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
 *
 * const program = Effect.gen(function*() {
 *   const processes = yield* BackgroundProcesses.make()
 *   const handlers = ShellStartTool.handlers(yield* Workspace.Workspace, yield* ChildProcessSpawner, processes, {
 *     allow: ["npm"]
 *   })
 *   return yield* handlers.shell_start({ command: "npm", args: ["run", "build"] }) // { process: "p1" }
 * })
 * ```
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Schema from "effect/Schema"
import * as BackgroundProcesses from "./BackgroundProcesses.ts"
import * as Idempotency from "./Idempotency.ts"
import * as ProcessEnv from "./ProcessEnv.ts"
import * as ShellTool from "./ShellTool.ts"
import { FileNotFound, InvalidArgument, IoFailed, PathRefused, ProgramNotAllowed, WrongFileType } from "./ToolError.ts"
import type * as Workspace from "./Workspace.ts"

/** Starts a program in the background. */
export const ShellStart = Tool.make("shell_start", {
  description:
    'Start a program in the background with a list of arguments, and go on at once; no shell is involved, as with shell_run. Use it for long builds, test suites or servers. wait_for {until: "process-exit", process} tells how it ended, with its output.',
  parameters: ShellTool.ShellRun.parametersSchema,
  success: Schema.Struct({
    process: Schema.String.annotate({ description: "Its id, for wait_for" })
  }),
  failure: Schema.Union([
    ProgramNotAllowed,
    InvalidArgument,
    PathRefused,
    FileNotFound,
    WrongFileType,
    IoFailed,
    BackgroundProcesses.TooManyProcesses
  ]),
  failureMode: "return"
})

/** The tool. */
export const toolkit = Toolkit.make(ShellStart)

/** The options of `shell_start`: the spec's, and the output cap. */
export interface Options extends Partial<ToolSpec.ToolOptions["shell_start"]> {
  /** Bytes kept of stdout, and of stderr, each (default 262,144). */
  readonly maxOutputBytes?: number
}

/** The handler of `shell_start`, starting programs into `processes`. */
export const handlers = (
  workspace: Workspace.Service,
  spawner: ChildProcessSpawner["Service"],
  processes: BackgroundProcesses.Registry,
  options: Options = {}
) => {
  const allow = options.allow ?? ["*"]
  const timeout = options.timeout ?? Duration.minutes(10)
  const env = ProcessEnv.forChild(options.env ?? {})
  const maxOutputBytes = options.maxOutputBytes ?? 262_144
  return toolkit.of({
    shell_start: ({ command, args }) =>
      Effect.gen(function* () {
        if (command.trim() === "") return yield* new InvalidArgument({ argument: "command", reason: "is empty" })
        if (!allow.includes("*") && !allow.includes(command)) {
          return yield* new ProgramNotAllowed({ program: command, allowed: allow })
        }
        const cwd = yield* ShellTool.workingDirectory(workspace, options.cwd)
        const keyed = ShellTool.withIdempotencyKey(env, yield* Idempotency.CurrentKey)
        const process = yield* processes.start({ command, args, cwd, env: keyed, timeout, maxOutputBytes }, spawner)
        return { process }
      })
  })
}
