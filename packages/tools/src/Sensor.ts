/**
 * Sensors: what an agent can wait on besides a person or a model. Each is an `Effect` (the next occurrence) or a
 * `Stream` (every occurrence), so an agent loop races them with its other inputs:
 *
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Sensor, Workspace } from "@troupe/tools"
 *
 * const next = Effect.gen(function*() {
 *   const workspace = yield* Workspace.Workspace
 *   return yield* Effect.raceFirst(
 *     Sensor.fileChanged(workspace, { paths: ["src/**"] }).pipe(Effect.map((paths) => ({ _tag: "changed", paths }) as const)),
 *     Sensor.after(Duration.minutes(5)).pipe(Effect.as({ _tag: "tick" } as const))
 *   )
 * })
 * ```
 *
 * - a clock: {@link after}, {@link until}, {@link every}, all on effect's `Clock` (so `TestClock` drives them);
 * - file changes in the workspace: {@link fileChanges} and {@link fileChanged}, from a watch on each directory that
 *   can hold a path matching the globs (never `.git`), reported as workspace-relative paths, debounced: a batch is
 *   emitted once no change of interest came for `debounce` (200 ms), so a save that writes three times wakes the
 *   agent once;
 * - a process exit: {@link processExit}, for a process started with `effect/process`.
 */

import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ChildProcessHandle } from "effect/process/ChildProcessSpawner"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Globs from "./internal/globs.ts"
import * as SensorWatch from "./internal/sensorWatch.ts"
import type * as Workspace from "./Workspace.ts"

/** A sensor could not watch (the workspace vanished, too many watches, ...). */
export class SensorError extends Schema.TaggedError<SensorError>()("SensorError", {
  sensor: Schema.String,
  reason: Schema.String
}) {}

/** Completes after `duration`. */
export const after = (duration: Duration.Input): Effect.Effect<void> => Effect.sleep(duration)

/** Completes when the clock reads `at` (epoch milliseconds or a `Date`); at once when that is past. */
export const until = (at: number | Date): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sleep(Duration.millis(Math.max(0, (typeof at === "number" ? at : at.getTime()) - now)))
  )

/** Emits 1, 2, 3, ... every `interval`, the first after one interval. */
export const every = (interval: Duration.Input): Stream.Stream<number> =>
  Stream.tick(interval).pipe(
    Stream.drop(1),
    Stream.mapAccum(
      () => 0,
      (count) => [count + 1, [count + 1]]
    )
  )

/** What {@link fileChanges} watches. */
export interface FileChangeOptions {
  /** Globs of the workspace-relative paths to report (default `["**"]`). */
  readonly paths?: ReadonlyArray<string>
  /** Globs that bound `paths`: a path is reported only when it matches both (an agent's allowlist, say). */
  readonly within?: ReadonlyArray<string>
  /** The quiet time that closes a batch (default 200 ms); a batch never stays open longer than ten of them. */
  readonly debounce?: Duration.Input
  /** Directories that may be watched at once (default 10,000); past it the sensor fails, asking for narrower paths. */
  readonly maxDirectories?: number
}

const isGitPath = (path: string) => path === ".git" || path.startsWith(".git/") || path.includes("/.git/")

/**
 * Every batch of changed paths in the workspace (relative, sorted, each once per batch) that match
 * `options.paths`. A path is reported when it is created, written, renamed or deleted; the files of a directory
 * that appears are reported with it. Only directories that can hold a matching path are watched (`src/**` watches
 * `src` and below, nothing else), symbolic links are not followed, and `.git` is never watched.
 */
export const fileChanges = (
  workspace: Workspace.Service,
  options: FileChangeOptions = {}
): Stream.Stream<ReadonlyArray<string>, SensorError> => {
  const matcher = Globs.paths(options.paths ?? ["**"])
  const within = Globs.paths(options.within ?? ["**"])
  const wanted = (path: string) => !isGitPath(path) && matcher.matches(path) && within.matches(path)
  const reachable = (directory: string) =>
    !isGitPath(directory) && matcher.leadsTo(directory) && within.leadsTo(directory)
  const debounce = Duration.toMillis(Duration.fromInputUnsafe(options.debounce ?? Duration.millis(200)))
  const failed = (reason: string) => new SensorError({ sensor: "fileChanges", reason })
  return Stream.callback<ReadonlyArray<string>, SensorError>((out) =>
    Effect.gen(function* () {
      const raw = yield* Queue.unbounded<SensorWatch.RawEvent, SensorError>()
      const tree = yield* SensorWatch.make({
        root: workspace.root,
        reachable,
        maxDirectories: options.maxDirectories ?? 10_000,
        onEvent: (event) => Queue.offerUnsafe(raw, event),
        onFailure: (reason) => Queue.failCauseUnsafe(raw, Cause.fail(failed(reason)))
      }).pipe(Effect.mapError((e) => failed(e.reason)))
      const changed = (event: SensorWatch.RawEvent) =>
        Effect.map(event.rename ? tree.renamed(event.path) : Effect.succeed([]), (inside) =>
          [event.path, ...inside].filter(wanted)
        ).pipe(Effect.mapError((e) => failed(e.reason)))
      while (true) {
        const batch = new Set<string>()
        while (batch.size === 0) for (const path of yield* changed(yield* Queue.take(raw))) batch.add(path)
        // Only a change of interest extends the batch: a log written all the time elsewhere must not hold it open.
        const opened = yield* Clock.currentTimeMillis
        let quietFrom = opened
        while (true) {
          const left = Math.min(quietFrom + debounce, opened + 10 * debounce) - (yield* Clock.currentTimeMillis)
          if (left <= 0) break
          const next = yield* Queue.take(raw).pipe(Effect.timeoutOption(Duration.millis(left)))
          if (Option.isNone(next)) break
          const paths = yield* changed(next.value)
          if (paths.length === 0) continue
          for (const path of paths) batch.add(path)
          quietFrom = yield* Clock.currentTimeMillis
        }
        yield* Queue.offer(out, [...batch].sort())
      }
    })
  )
}

/** The next batch of changed paths in the workspace (see {@link fileChanges}). */
export const fileChanged = (
  workspace: Workspace.Service,
  options: FileChangeOptions = {}
): Effect.Effect<ReadonlyArray<string>, SensorError> =>
  Stream.runHead(fileChanges(workspace, options)).pipe(
    Effect.flatMap((batch) =>
      Option.isSome(batch)
        ? Effect.succeed(batch.value)
        : Effect.fail(new SensorError({ sensor: "fileChanged", reason: "the watch ended" }))
    )
  )

/** How a process ended: its exit status, or `null` when a signal ended it. */
export interface ProcessExit {
  readonly exitCode: number | null
}

/** Completes when the process of `handle` exits. */
export const processExit = (handle: ChildProcessHandle): Effect.Effect<ProcessExit> =>
  handle.exitCode.pipe(
    Effect.map((exitCode): ProcessExit => ({ exitCode })),
    Effect.orElseSucceed((): ProcessExit => ({ exitCode: null }))
  )
