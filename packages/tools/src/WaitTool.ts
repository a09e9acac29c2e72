/**
 * `wait_for {until, paths?, process?, seconds?, timeoutSeconds?}`: the agent's sensors as a tool. The model waits
 * until files of the workspace change (`until: "file-change"`, watched from the moment of the call, `.git` never
 * reported) and is told which, until a program it started with `shell_start` ends (`until: "process-exit"`) and is
 * told its exit code and output, or until some time has passed (`until: "time"` for `seconds`), then goes on. It
 * changes nothing, so it is `reversible`.
 *
 * Enforced by the tool (the spec's `WaitForOptions`): only paths the spec's `paths` globs allow are ever reported,
 * whatever the model asks to watch; no wait lasts longer than `maxWait` (10 minutes by default) — a longer sleep is
 * refused, and a wait for a change or an exit gives up at it with `outcome: "timed-out"`; a burst of writes is
 * reported once, when it has been quiet for `debounce` (200 ms), and at most `maxReportedPaths` (200) paths are
 * listed, with the count of the others in `more`; at most `maxDirectories` (10,000) directories are watched, only
 * those the globs can reach (past it the model is told to narrow `paths`).
 *
 * Every wait runs through `SensorWaits.Waiting`, so that a run loop can leave it out of its working time (see
 * `SensorWaits` for why it should).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { WaitTool, Workspace } from "@troupe/tools"
 *
 * const program = Effect.gen(function*() {
 *   const tools = yield* WaitTool.toolkit
 *   return yield* tools.handle("wait_for", { until: "file-change", paths: ["dist/**"], timeoutSeconds: 60 })
 * }).pipe(Effect.provide(WaitTool.layer({ paths: ["dist/**", "src/**"] })), Effect.provide(Workspace.layer(".")))
 * ```
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as BackgroundProcesses from "./BackgroundProcesses.ts"
import * as Sensor from "./Sensor.ts"
import * as SensorWaits from "./SensorWaits.ts"
import * as ShellTool from "./ShellTool.ts"
import { InvalidArgument, IoFailed } from "./ToolError.ts"
import * as Workspace from "./Workspace.ts"

/** What a wait ended with. */
export const WaitResult = Schema.Struct({
  outcome: Schema.Literals(["changed", "exited", "elapsed", "timed-out"]).annotate({
    description:
      "changed: files changed (see paths); exited: the program ended (see exit); elapsed: the time asked for has passed; timed-out: nothing happened in time"
  }),
  paths: Schema.Array(Schema.String).annotate({ description: "The changed paths, relative to the workspace" }),
  more: Schema.Int.annotate({ description: "How many more paths changed than are listed" }),
  exit: Schema.optionalKey(ShellTool.RunResult.annotate({ description: "How the program ended, with its output" })),
  waitedSeconds: Schema.Finite
})

/** What a wait ended with. */
export type WaitResult = typeof WaitResult.Type

/** Waits for a file change or for time to pass. */
export const WaitFor = Tool.make("wait_for", {
  description:
    "Wait until files of the workspace change, until a program started with shell_start ends, or until some time has passed, then continue. Use it to react to changes made by people or other programs (a build writing its output, a person saving a file), to collect a background program's result, or to come back to something later. Only changes made after the call are seen.",
  parameters: Schema.Struct({
    until: Schema.Literals(["file-change", "process-exit", "time"]).annotate({
      description:
        'What to wait for: "file-change" (a matching file created, written, renamed or deleted), "process-exit" (a program started with shell_start ends) or "time"'
    }),
    paths: Schema.optionalKey(
      Schema.Array(Schema.String).annotate({
        description: 'For file-change: globs of workspace paths to watch, e.g. ["src/**/*.ts"]; default: every file'
      })
    ),
    process: Schema.optionalKey(
      Schema.String.annotate({ description: "For process-exit: the id shell_start returned, e.g. p1" })
    ),
    seconds: Schema.optionalKey(Schema.Finite.annotate({ description: "For time: how many seconds to wait" })),
    timeoutSeconds: Schema.optionalKey(
      Schema.Finite.annotate({
        description:
          "For file-change and process-exit: give up after this many seconds (default and most: the longest wait allowed)"
      })
    )
  }),
  success: WaitResult,
  failure: Schema.Union([InvalidArgument, IoFailed, BackgroundProcesses.ProcessNotFound]),
  failureMode: "return"
})

/** The wait tool. */
export const toolkit = Toolkit.make(WaitFor)

/** The longest wait when the spec does not say. */
export const defaultMaxWait: Duration.Duration = Duration.minutes(10)

/** The options of `wait_for`: the spec's, and the bounds of a report. */
export interface Options extends Partial<ToolSpec.ToolOptions["wait_for"]> {
  /** The quiet time that closes a batch of changes (default 200 ms). */
  readonly debounce?: Duration.Input
  /** Changed paths listed in one result (default 200). */
  readonly maxReportedPaths?: number
  /** Directories watched at once for one wait (default 10,000). */
  readonly maxDirectories?: number
}

// The model's globs are bounded like any input: picomatch compiles each one.
const maxPatterns = 64
const maxPatternLength = 512

const patternProblem = (patterns: ReadonlyArray<string>): string | undefined => {
  if (patterns.length === 0) return "is empty"
  if (patterns.length > maxPatterns) return `has more than ${maxPatterns} patterns`
  for (const pattern of patterns) {
    if (pattern.length === 0 || pattern.length > maxPatternLength)
      return `has a pattern that is empty or longer than ${maxPatternLength} characters`
    if (pattern.startsWith("/") || pattern.split("/").includes(".."))
      return "has a pattern outside the workspace: patterns are relative to it"
  }
  return undefined
}

type Params = Tool.Parameters<typeof WaitFor>
type Waited = Effect.Effect<
  Omit<WaitResult, "waitedSeconds">,
  InvalidArgument | IoFailed | BackgroundProcesses.ProcessNotFound
>

// Which parameters go with which `until`: any other one is refused, so that a misunderstanding is not a silent wait.
const parametersOf = {
  "file-change": ["paths", "timeoutSeconds"],
  "process-exit": ["process", "timeoutSeconds"],
  time: ["seconds"]
} as const

/**
 * The handler of `wait_for`, over one workspace; `processes` are the programs `shell_start` started (none when the
 * agent does not have it).
 */
export const handlers = (
  workspace: Workspace.Service,
  options: Options = {},
  processes?: BackgroundProcesses.Registry
) => {
  const allowed = options.paths ?? ["**"]
  const maxWait = Duration.fromInputUnsafe(options.maxWait ?? defaultMaxWait)
  const maxWaitSeconds = Duration.toMillis(maxWait) / 1000
  const debounce = options.debounce ?? Duration.millis(200)
  const maxReportedPaths = options.maxReportedPaths ?? 200
  const nothing = { paths: [], more: 0 }

  const invalid = (argument: string, reason: string) => Effect.fail(new InvalidArgument({ argument, reason }))

  // How long a wait for an event may last: `timeoutSeconds`, never more than maxWait.
  const boundOf = (params: Params): Duration.Duration | InvalidArgument => {
    const timeout = params.timeoutSeconds
    if (timeout === undefined) return maxWait
    if (!(timeout > 0)) return new InvalidArgument({ argument: "timeoutSeconds", reason: "must be more than 0" })
    return Duration.min(Duration.seconds(timeout), maxWait)
  }

  const fileChange = (params: Params, bound: Duration.Duration): Waited => {
    const patterns = params.paths ?? ["**"]
    const problem = patternProblem(patterns)
    if (problem !== undefined) return invalid("paths", problem)
    const watch = {
      paths: patterns,
      within: allowed,
      debounce,
      ...(options.maxDirectories === undefined ? {} : { maxDirectories: options.maxDirectories })
    }
    return Sensor.fileChanged(workspace, watch).pipe(
      Effect.timeoutOption(bound),
      Effect.map((batch) =>
        Option.isSome(batch)
          ? {
              outcome: "changed" as const,
              paths: batch.value.slice(0, maxReportedPaths),
              more: Math.max(0, batch.value.length - maxReportedPaths)
            }
          : { outcome: "timed-out" as const, ...nothing }
      ),
      Effect.mapError((error) => new IoFailed({ operation: "watch", reason: error.reason }))
    )
  }

  const processExit = (params: Params, bound: Duration.Duration): Waited => {
    if (params.process === undefined) return invalid("process", 'is required with until: "process-exit"')
    if (processes === undefined) {
      return invalid("until", "this agent cannot start programs in the background (it has no shell_start)")
    }
    return processes.exit(params.process, Effect.sleep(bound)).pipe(
      Effect.map((ended) =>
        Option.isSome(ended)
          ? { outcome: "exited" as const, ...nothing, exit: ended.value }
          : { outcome: "timed-out" as const, ...nothing }
      ),
      Effect.catchTag("PlatformError", (error) => Effect.fail(ShellTool.spawnFailure(error)))
    )
  }

  const time = (params: Params): Waited => {
    const seconds = params.seconds
    if (seconds === undefined) return invalid("seconds", 'is required with until: "time"')
    if (!(seconds >= 0)) return invalid("seconds", "must be 0 or more")
    if (seconds > maxWaitSeconds) {
      return invalid("seconds", `must be at most ${maxWaitSeconds} (the longest wait allowed)`)
    }
    return Sensor.after(Duration.seconds(seconds)).pipe(Effect.as({ outcome: "elapsed" as const, ...nothing }))
  }

  const waitFor = (params: Params): Waited => {
    const fitting: ReadonlyArray<string> = parametersOf[params.until]
    for (const name of ["paths", "process", "seconds", "timeoutSeconds"] as const) {
      if (params[name] !== undefined && !fitting.includes(name)) {
        return invalid(name, `does not go with until: "${params.until}" (${fitting.join(", ")} do)`)
      }
    }
    if (params.until === "time") return time(params)
    const bound = boundOf(params)
    if (bound instanceof InvalidArgument) return Effect.fail(bound)
    return params.until === "file-change" ? fileChange(params, bound) : processExit(params, bound)
  }

  return toolkit.of({
    wait_for: (params) =>
      Effect.gen(function* () {
        const waiting = yield* SensorWaits.Waiting
        const started = yield* Clock.currentTimeMillis
        const result = yield* waiting.around(waitFor(params))
        const waitedMillis = (yield* Clock.currentTimeMillis) - started
        return { ...result, waitedSeconds: waitedMillis / 1000 }
      })
  })
}

/** The handler of `wait_for`, over the `Workspace` in context (without `process-exit`: see {@link handlers}). */
export const layer = (options: Options = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      return handlers(yield* Workspace.Workspace, options)
    })
  )
