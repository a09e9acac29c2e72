/**
 * The file tools: `fs_read`, `fs_list`, `fs_write` and `fs_delete`, confined to the workspace and to the spec's
 * `paths` globs (see `Workspace.resolve` for the rules).
 *
 * Bounds: `fs_read` reads regular files only (a FIFO, device or directory is a `WrongFileType` failure, and a FIFO
 * is never opened) and returns at most `maxReadBytes` (1 MB): a longer file comes back cut, with `truncated: true`
 * and its full `size`, so the model sees the start and knows there is more. `fs_list` returns at most
 * `maxListEntries` (1,000) entries and only those the globs let through (plus directories on the way to them).
 * `fs_write` takes at most `maxWriteBytes` (10 MB). A refused path is a `PathRefused` failure that names the path
 * the model gave and the rule, never anything read from the file.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FsTools, Workspace } from "@troupe/tools"
 *
 * const program = Effect.gen(function*() {
 *   const tools = yield* FsTools.toolkit
 *   return yield* tools.handle("fs_read", { path: "README.md" })
 * }).pipe(Effect.provide(FsTools.layer({ paths: ["**"] })), Effect.provide(Workspace.layer(".")))
 * ```
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Globs from "./internal/globs.ts"
import * as SafeFs from "./internal/safeFs.ts"
import { FsFailure, TooLarge } from "./ToolError.ts"
import * as Workspace from "./Workspace.ts"

const Path = Schema.String.annotate({ description: "A path relative to the workspace root, with / between names." })

/** Reads a file of the workspace. */
export const FsRead = Tool.make("fs_read", {
  description:
    "Read a text file of the workspace. Long files are cut: `truncated` is then true and `size` is the full size in bytes.",
  parameters: Schema.Struct({ path: Path }),
  success: Schema.Struct({ path: Schema.String, content: Schema.String, size: Schema.Int, truncated: Schema.Boolean }),
  failure: FsFailure,
  failureMode: "return"
})

/** Lists a directory of the workspace. */
export const FsList = Tool.make("fs_list", {
  description: 'List a directory of the workspace ("." for the root): names, types and sizes of its entries.',
  parameters: Schema.Struct({ path: Path }),
  success: Schema.Struct({
    path: Schema.String,
    entries: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.String, size: Schema.Int })),
    truncated: Schema.Boolean
  }),
  failure: FsFailure,
  failureMode: "return"
})

/** Creates or replaces a file of the workspace. */
export const FsWrite = Tool.make("fs_write", {
  description: "Create or replace a text file of the workspace (missing directories are created).",
  parameters: Schema.Struct({ path: Path, content: Schema.String }),
  success: Schema.Struct({ path: Schema.String, bytes: Schema.Int, created: Schema.Boolean }),
  failure: FsFailure,
  failureMode: "return"
})

/** Deletes a file of the workspace. */
export const FsDelete = Tool.make("fs_delete", {
  description: "Delete a file of the workspace (not a directory). A symlink is removed itself, not its target.",
  parameters: Schema.Struct({ path: Path }),
  success: Schema.Struct({ path: Schema.String, deleted: Schema.Boolean }),
  failure: FsFailure,
  failureMode: "return"
})

/** The four file tools. */
export const toolkit = Toolkit.make(FsRead, FsList, FsWrite, FsDelete)

/** The options of the file tools: the spec's `paths`, and the bounds. */
export interface Options extends Partial<ToolSpec.ToolOptions["fs_read"]> {
  /** Most bytes `fs_read` returns (default 1,000,000). */
  readonly maxReadBytes?: number
  /** Most entries `fs_list` returns (default 1,000). */
  readonly maxListEntries?: number
  /** Most bytes `fs_write` accepts (default 10,000,000). */
  readonly maxWriteBytes?: number
}

const decoder = new TextDecoder("utf-8", { fatal: false })
const encoder = new TextEncoder()

/** The handlers of the file tools, over one workspace. */
export const handlers = (workspace: Workspace.Service, options: Options = {}) => {
  const paths = options.paths ?? ["**"]
  const maxRead = options.maxReadBytes ?? 1_000_000
  const maxEntries = options.maxListEntries ?? 1_000
  const maxWrite = options.maxWriteBytes ?? 10_000_000
  const matcher = Globs.paths(paths)
  return toolkit.of({
    fs_read: ({ path }) =>
      Workspace.resolve(workspace, path, paths, { mustExist: true }).pipe(
        Effect.flatMap((file) =>
          SafeFs.readCapped(workspace, file, maxRead).pipe(Effect.map((read) => ({ file, read })))
        ),
        Effect.map(({ file, read }) => ({
          path: file.path,
          content: decoder.decode(read.bytes),
          size: read.size,
          truncated: read.truncated
        }))
      ),
    fs_list: ({ path }) =>
      Workspace.resolve(workspace, path, paths, { mustExist: true, directory: true }).pipe(
        Effect.flatMap((dir) =>
          SafeFs.listDirectory(dir, maxEntries, (name, isDirectory) => {
            const child = dir.relative === "" ? name : `${dir.relative}/${name}`
            return name !== ".git" && (matcher.matches(child) || (isDirectory && matcher.leadsTo(child)))
          }).pipe(Effect.map((listing) => ({ path: dir.path === "" ? "." : dir.path, ...listing })))
        )
      ),
    fs_write: ({ path, content }) =>
      Effect.gen(function* () {
        const data = encoder.encode(content)
        if (data.length > maxWrite) {
          return yield* new TooLarge({ what: "content", size: data.length, limit: maxWrite })
        }
        const file = yield* Workspace.resolve(workspace, path, paths)
        const written = yield* SafeFs.writeChecked(workspace, file, data)
        return { path: file.path, ...written }
      }),
    fs_delete: ({ path }) =>
      Workspace.resolve(workspace, path, paths, { mustExist: true, followLast: false }).pipe(
        Effect.tap(SafeFs.removeEntry),
        Effect.map((file) => ({ path: file.path, deleted: true }))
      )
  })
}

/** The handlers of the file tools, over the `Workspace` in context. */
export const layer = (options: Options = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      return handlers(yield* Workspace.Workspace, options)
    })
  )
