/**
 * The workspace: the one directory an agent's file, shell and git tools act in, and the rule that confines a path
 * to it.
 *
 * {@link resolve} turns a path the model gave into a real path inside the workspace, or refuses it. The checks, in
 * order: the characters (no NUL, controls, backslashes, or Unicode look-alikes of `/` and `.`, also after NFKC
 * folding), no absolute path, no `..` segment, nothing under `.git`; then the symlinks, followed with `realpath`
 * (of the deepest existing ancestor for a path that does not exist yet), and the real path must still be inside
 * the workspace; last, both the requested and the real relative path must match the tool's `paths` globs.
 *
 * Between this check and the use of the path another process could swap a directory for a symlink (a TOCTOU
 * race). The file tools narrow that window: they open with `O_NOFOLLOW` and then check, through
 * `/proc/self/fd`, where the opened file really is (see `FsTools`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Workspace } from "@troupe/tools"
 *
 * const program = Effect.gen(function*() {
 *   const workspace = yield* Workspace.Workspace
 *   const file = yield* Workspace.resolve(workspace, "src/index.ts", ["src/**"])
 *   return file.absolute
 * }).pipe(Effect.provide(Workspace.layer("/home/me/project")))
 * ```
 */

import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Confine from "./internal/confine.ts"
import * as Globs from "./internal/globs.ts"
import * as Sys from "./internal/sys.ts"
import { FileNotFound, type IoFailed, PathRefused } from "./ToolError.ts"

/** The workspace the tools act in. */
export interface Service {
  /** The real path (symlinks resolved) of the workspace's root directory. */
  readonly root: string
}

/** The workspace the file, shell and git tools act in. */
export class Workspace extends Context.Service<Workspace, Service>()("@troupe/tools/Workspace") {}

/** The workspace directory could not be used: it does not exist, or it is not a directory. */
export class WorkspaceError extends Schema.TaggedError<WorkspaceError>()("WorkspaceError", {
  root: Schema.String,
  reason: Schema.String
}) {}

/** A workspace on `root`, which must be an existing directory; its real path is kept. */
export const make = Effect.fnUntraced(function* (root: string) {
  const real = yield* Sys.call("realpath", () => Fs.realpath(root)).pipe(
    Effect.mapError((e) => new WorkspaceError({ root, reason: e.reason }))
  )
  const stat = yield* Sys.call("stat", () => Fs.stat(real)).pipe(
    Effect.mapError((e) => new WorkspaceError({ root, reason: e.reason }))
  )
  if (!stat.isDirectory()) return yield* new WorkspaceError({ root, reason: "not a directory" })
  return Workspace.of({ root: real })
})

/** The workspace on `root` (an existing directory). */
export const layer = (root: string): Layer.Layer<Workspace, WorkspaceError> => Layer.effect(Workspace, make(root))

/** A path of the workspace, checked. */
export interface Resolved {
  /** The path as requested, normalized: relative, `/`-separated, `""` for the root. */
  readonly path: string
  /** The real path relative to the root (differs from `path` when a symlink was followed). */
  readonly relative: string
  /** The real absolute path. For a path that does not exist yet: the real parent with the missing names. */
  readonly absolute: string
  /** Whether the path exists. */
  readonly exists: boolean
}

/** Whether `absolute` is the root or inside it. */
export const contains = (workspace: Service, absolute: string): boolean =>
  absolute === workspace.root ||
  absolute.startsWith(workspace.root.endsWith(Path.sep) ? workspace.root : `${workspace.root}${Path.sep}`)

const relativeTo = (workspace: Service, absolute: string) =>
  Path.relative(workspace.root, absolute).split(Path.sep).join("/")

// Walks up from the path to its deepest existing ancestor and resolves that one's symlinks; the names that do not
// exist yet are put back on the real ancestor.
const realpathOfDeepestAncestor = Effect.fnUntraced(function* (workspace: Service, segments: ReadonlyArray<string>) {
  for (let depth = segments.length; depth >= 0; depth--) {
    const candidate = Path.join(workspace.root, ...segments.slice(0, depth))
    const real = yield* Sys.call("realpath", () => Fs.realpath(candidate)).pipe(
      Effect.map((path) => ({ path })),
      Effect.catchIf(
        (e) => e.code === "ENOENT",
        () => Effect.succeed(undefined)
      )
    )
    if (real !== undefined) {
      return { absolute: Path.join(real.path, ...segments.slice(depth)), exists: depth === segments.length }
    }
  }
  return { absolute: workspace.root, exists: true }
})

/** How {@link resolve} treats the path. */
export interface ResolveOptions {
  /** Fail with {@link FileNotFound} when the path does not exist (default `false`). */
  readonly mustExist?: boolean
  /**
   * Follow a symlink in the last segment (default `true`). With `false` the result names the directory entry
   * itself, so that deleting a link deletes the link and not what it points to.
   */
  readonly followLast?: boolean
  /**
   * The path is a directory to list: it passes the globs when it could hold a match (`src` for `src/**`), not
   * only when it matches (default `false`).
   */
  readonly directory?: boolean
}

/**
 * Resolves `input` (relative to the workspace) to a checked real path, or refuses it with {@link PathRefused}
 * (see the module doc for the rules). `patterns` are the tool's `paths` globs; the root itself (`""` or `.`)
 * passes them.
 */
export const resolve = (
  workspace: Service,
  input: string,
  patterns: ReadonlyArray<string>,
  options?: ResolveOptions
): Effect.Effect<Resolved, PathRefused | FileNotFound | IoFailed> =>
  Effect.gen(function* () {
    const refuse = (reason: string) => Effect.fail(new PathRefused({ path: input, reason }))
    const lexical = Confine.refusal(input)
    if (lexical !== undefined) return yield* refuse(lexical)
    const segments = Confine.segments(input)
    if (typeof segments === "string") return yield* refuse(segments)
    const path = segments.join("/")
    const followLast = options?.followLast ?? true
    const real = yield* (
      followLast || segments.length === 0
        ? realpathOfDeepestAncestor(workspace, segments)
        : realpathOfDeepestAncestor(workspace, segments.slice(0, -1)).pipe(
            Effect.flatMap((parent) => {
              const absolute = Path.join(parent.absolute, segments[segments.length - 1]!)
              return parent.exists
                ? Sys.call("lstat", () => Fs.lstat(absolute)).pipe(
                    Effect.as({ absolute, exists: true }),
                    Effect.catchIf(
                      (e) => e.code === "ENOENT",
                      () => Effect.succeed({ absolute, exists: false })
                    )
                  )
                : Effect.succeed({ absolute, exists: false })
            })
          )
    ).pipe(
      Effect.mapError((e) =>
        e.code === "ENOTDIR" || e.code === "ELOOP"
          ? new PathRefused({ path: input, reason: "a segment of the path is not a directory, or a symlink loop" })
          : e.toolError()
      )
    )
    if (!contains(workspace, real.absolute)) return yield* refuse("resolves (through a symlink) outside the workspace")
    const relative = relativeTo(workspace, real.absolute)
    const realSegments = Confine.segments(relative)
    if (typeof realSegments === "string") return yield* refuse(`resolves to a path that ${realSegments}`)
    const matcher = Globs.paths(patterns)
    const passes = options?.directory === true ? matcher.leadsTo : matcher.matches
    if (path !== "" && !(passes(path) && passes(relative))) {
      return yield* refuse(`is not matched by this tool's paths (${patterns.join(", ")})`)
    }
    if (options?.mustExist === true && !real.exists) return yield* new FileNotFound({ path })
    return { path, relative, absolute: real.absolute, exists: real.exists }
  })
