/**
 * `wait_for {until, paths?, seconds?, timeoutSeconds?}`: the agent's sensors as a tool. The model waits until files
 * of the workspace change (`until: "file-change"`, watched from the moment of the call, `.git` never reported) and
 * is told which, or until some time has passed (`until: "time"` for `seconds`), then goes on. It changes nothing,
 * so it is `reversible`.
 *
 * Enforced by the tool (the spec's `WaitForOptions`): only paths the spec's `paths` globs allow are ever reported,
 * whatever the model asks to watch; no wait lasts longer than `maxWait` (10 minutes by default) — a longer sleep is
 * refused, and a wait for a change gives up at it with `outcome: "timed-out"`; a burst of writes is reported once,
 * when it has been quiet for `debounce` (200 ms), and at most `maxReportedPaths` (200) paths are listed, with the
 * count of the others in `more`.
 *
 * Every wait runs through `SensorWaits.Waiting`, so that a run loop can leave it out of its working time (see
 * `SensorWaits` for why it should). Waiting for a process to exit stays a library API (`Sensor.processExit`): the
 * agent has no tool that starts a process in the background.
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
import * as Sensor from "./Sensor.ts"
import * as SensorWaits from "./SensorWaits.ts"
import { InvalidArgument, IoFailed } from "./ToolError.ts"
import * as Workspace from "./Workspace.ts"

/** What a wait ended with. */
export const WaitResult = Schema.Struct({
  outcome: Schema.Literals(["changed", "elapsed", "timed-out"]).annotate({
    description: "changed: files changed (see paths); elapsed: the time asked for has passed; timed-out: no change came"
  }),
  paths: Schema.Array(Schema.String).annotate({ description: "The changed paths, relative to the workspace" }),
  more: Schema.Int.annotate({ description: "How many more paths changed than are listed" }),
  waitedSeconds: Schema.Finite
})

/** What a wait ended with. */
export type WaitResult = typeof WaitResult.Type

/** Waits for a file change or for time to pass. */
export const WaitFor = Tool.make("wait_for", {
  description:
    "Wait until files of the workspace change, or until some time has passed, then continue. Use it to react to changes made by people or other programs (a build writing its output, a person saving a file) or to come back to something later. Only changes made after the call are seen.",
  parameters: Schema.Struct({
    until: Schema.Literals(["file-change", "time"]).annotate({
      description: 'What to wait for: "file-change" (a matching file created, written, renamed or deleted) or "time"'
    }),
    paths: Schema.optionalKey(
      Schema.Array(Schema.String).annotate({
        description: 'For file-change: globs of workspace paths to watch, e.g. ["src/**/*.ts"]; default: every file'
      })
    ),
    seconds: Schema.optionalKey(Schema.Finite.annotate({ description: "For time: how many seconds to wait" })),
    timeoutSeconds: Schema.optionalKey(
      Schema.Finite.annotate({
        description: "For file-change: give up after this many seconds (default and most: the longest wait allowed)"
      })
    )
  }),
  success: WaitResult,
  failure: Schema.Union([InvalidArgument, IoFailed]),
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
type Waited = Effect.Effect<Omit<WaitResult, "waitedSeconds">, InvalidArgument | IoFailed>

/** The handler of `wait_for`, over one workspace. */
export const handlers = (workspace: Workspace.Service, options: Options = {}) => {
  const allowed = options.paths ?? ["**"]
  const maxWait = Duration.fromInputUnsafe(options.maxWait ?? defaultMaxWait)
  const maxWaitSeconds = Duration.toMillis(maxWait) / 1000
  const debounce = options.debounce ?? Duration.millis(200)
  const maxReportedPaths = options.maxReportedPaths ?? 200

  const invalid = (argument: string, reason: string) => Effect.fail(new InvalidArgument({ argument, reason }))

  const fileChange = (params: Params): Waited => {
    const patterns = params.paths ?? ["**"]
    const problem = patternProblem(patterns)
    if (problem !== undefined) return invalid("paths", problem)
    if (params.seconds !== undefined) return invalid("seconds", 'is for until: "time"; use timeoutSeconds')
    const timeout = params.timeoutSeconds
    if (timeout !== undefined && !(timeout > 0)) return invalid("timeoutSeconds", "must be more than 0")
    const bound = timeout === undefined ? maxWait : Duration.min(Duration.seconds(timeout), maxWait)
    return Sensor.fileChanged(workspace, { paths: patterns, within: allowed, debounce }).pipe(
      Effect.timeoutOption(bound),
      Effect.map((batch) =>
        Option.isSome(batch)
          ? {
              outcome: "changed" as const,
              paths: batch.value.slice(0, maxReportedPaths),
              more: Math.max(0, batch.value.length - maxReportedPaths)
            }
          : { outcome: "timed-out" as const, paths: [], more: 0 }
      ),
      Effect.mapError((error) => new IoFailed({ operation: "watch", reason: error.reason }))
    )
  }

  const time = (params: Params): Waited => {
    const seconds = params.seconds
    if (seconds === undefined) return invalid("seconds", 'is required with until: "time"')
    if (params.paths !== undefined) return invalid("paths", 'is for until: "file-change"')
    if (params.timeoutSeconds !== undefined) return invalid("timeoutSeconds", 'is for until: "file-change"')
    if (!(seconds >= 0)) return invalid("seconds", "must be 0 or more")
    if (seconds > maxWaitSeconds)
      return invalid("seconds", `must be at most ${maxWaitSeconds} (the longest wait allowed)`)
    return Sensor.after(Duration.seconds(seconds)).pipe(Effect.as({ outcome: "elapsed" as const, paths: [], more: 0 }))
  }

  return toolkit.of({
    wait_for: (params) =>
      Effect.gen(function* () {
        const waiting = yield* SensorWaits.Waiting
        const started = yield* Clock.currentTimeMillis
        const result = yield* waiting.around(params.until === "time" ? time(params) : fileChange(params))
        const waitedMillis = (yield* Clock.currentTimeMillis) - started
        return { ...result, waitedSeconds: waitedMillis / 1000 }
      })
  })
}

/** The handler of `wait_for`, over the `Workspace` in context. */
export const layer = (options: Options = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      return handlers(yield* Workspace.Workspace, options)
    })
  )
