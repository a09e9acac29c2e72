/**
 * A watch over the directories of a tree that can hold a path of interest: one non-recursive `fs.watch` per
 * directory, walked asynchronously, pruned by `reachable`, bounded by `maxDirectories`, and kept up to date as
 * directories appear and go.
 *
 * Not `fs.watch(root, { recursive: true })`: on Linux, Node 24 walks the whole tree synchronously when the watch
 * starts, whatever the globs — 5.7 s with the event loop blocked and 186 MB of memory on this repository's own
 * checkout (5,800 directories, `node_modules` included), while every other fiber of the process waited.
 */
import * as NodeFs from "node:fs"
import * as Path from "node:path"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** Something happened to `path` (relative to the root); `rename` when it may have appeared or gone. */
export interface RawEvent {
  readonly path: string
  readonly rename: boolean
}

/** The watch could not start or keep going. */
export class WatchFailed extends Data.TaggedError("WatchFailed")<{ readonly reason: string }> {}

/** A running watch. */
export interface TreeWatch {
  /**
   * Follows a `rename` event: when `path` is now a directory the tree can reach, watches it (again) and returns the
   * paths it holds, all new to the watch; stops watching it when it is gone.
   */
  readonly renamed: (path: string) => Effect.Effect<ReadonlyArray<string>, WatchFailed>
}

/** The errno code alone when there is one (`ENOSPC` when the system runs out of watches): messages quote paths. */
export const reasonOf = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : cause instanceof Error
      ? cause.message
      : String(cause)

const child = (directory: string, name: string) => (directory === "" ? name : `${directory}/${name}`)

/** Starts watching `root`; every watch is closed with the scope. */
export const make = (options: {
  readonly root: string
  /** Whether a directory (relative, never the root) can hold a path of interest. */
  readonly reachable: (directory: string) => boolean
  readonly maxDirectories: number
  readonly onEvent: (event: RawEvent) => void
  /** The root's watch failed: nothing more will be seen. */
  readonly onFailure: (reason: string) => void
}): Effect.Effect<TreeWatch, WatchFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const watchers = new Map<string, NodeFs.FSWatcher>()
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const watcher of watchers.values()) watcher.close()
        watchers.clear()
      })
    )
    const absolute = (path: string) => (path === "" ? options.root : Path.join(options.root, path))

    const unwatch = (directory: string) => {
      for (const [path, watcher] of watchers) {
        if (path === directory || path.startsWith(`${directory}/`)) {
          watcher.close()
          watchers.delete(path)
        }
      }
    }

    // Whether `directory` is now watched. A directory below the root that vanished or cannot be read is skipped.
    const watchOne = (directory: string): Effect.Effect<boolean, WatchFailed> =>
      watchers.size >= options.maxDirectories
        ? Effect.fail(
            new WatchFailed({ reason: `more than ${options.maxDirectories} directories to watch: narrow the paths` })
          )
        : Effect.try({
            try: () => {
              const watcher = NodeFs.watch(absolute(directory), (event, filename) => {
                if (filename !== null) {
                  options.onEvent({
                    path: child(directory, filename.split("\\").join("/")),
                    rename: event === "rename"
                  })
                }
              })
              watcher.on("error", (error) => {
                unwatch(directory)
                if (directory === "") options.onFailure(reasonOf(error))
              })
              watchers.set(directory, watcher)
              return true
            },
            catch: (cause) => new WatchFailed({ reason: reasonOf(cause) })
          }).pipe(Effect.catch((error) => (directory === "" ? Effect.fail(error) : Effect.succeed(false))))

    // Watches `directory` and the reachable directories below it; with `collect`, returns every path found below it
    // (the first walk does not: what is there when the watch starts is not a change).
    const walk = (directory: string, collect: boolean): Effect.Effect<Array<string>, WatchFailed> =>
      Effect.gen(function* () {
        if (watchers.has(directory) || !(yield* watchOne(directory))) return []
        const entries = yield* Effect.tryPromise(() =>
          NodeFs.promises.readdir(absolute(directory), { withFileTypes: true })
        ).pipe(Effect.orElseSucceed((): ReadonlyArray<NodeFs.Dirent> => []))
        const found: Array<string> = []
        for (const entry of entries) {
          const path = child(directory, entry.name)
          if (collect) found.push(path)
          // Symbolic links are not followed: what they point to may be outside the workspace.
          if (entry.isDirectory() && options.reachable(path)) {
            const below = yield* walk(path, collect)
            for (const p of below) found.push(p)
          }
        }
        return found
      })

    yield* walk("", false)
    return {
      renamed: (path) => {
        if (path === "" || !options.reachable(path)) return Effect.succeed([])
        if (watchers.has(path)) unwatch(path)
        return Effect.tryPromise(() => NodeFs.promises.lstat(absolute(path))).pipe(
          Effect.option,
          Effect.flatMap((stat) =>
            stat._tag === "Some" && stat.value.isDirectory() ? walk(path, true) : Effect.succeed([])
          )
        )
      }
    }
  })
