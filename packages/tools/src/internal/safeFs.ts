/**
 * Bounded, confined file operations on paths `Workspace.resolve` has checked.
 *
 * Each one looks before it opens (`lstat`: a FIFO is never opened, so a read never blocks on one), opens with
 * `O_NOFOLLOW` (a last segment swapped for a symlink since the check fails with `ELOOP`) and `O_NONBLOCK`, and
 * then asks the kernel where the opened file really is (`/proc/self/fd/N`, on Linux) before a byte is read or
 * written. What this cannot close: a directory higher up swapped for a symlink between `mkdir` and `open` of a
 * new file can make the open create an empty file outside; the check then sees it, removes that file, and writes
 * nothing.
 */

import type { Stats } from "node:fs"
import { constants } from "node:fs"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Effect from "effect/Effect"
import { PathRefused, WrongFileType } from "../ToolError.ts"
import * as Workspace from "../Workspace.ts"
import * as Sys from "./sys.ts"

/** What a file-system entry is, in the words the tools use. */
export const kindOf = (stat: Stats): string =>
  stat.isFile()
    ? "file"
    : stat.isDirectory()
      ? "directory"
      : stat.isSymbolicLink()
        ? "symlink"
        : stat.isFIFO()
          ? "fifo"
          : stat.isSocket()
            ? "socket"
            : stat.isCharacterDevice() || stat.isBlockDevice()
              ? "device"
              : "other"

const open = (absolute: string, flags: number) =>
  Effect.acquireRelease(
    Sys.call("open", () => Fs.open(absolute, flags, 0o644)),
    (handle) => Sys.call("close", () => handle.close()).pipe(Effect.ignore)
  )

// Where the kernel says the open file is; `undefined` where /proc is not available (not Linux).
const locationOf = (handle: Fs.FileHandle) =>
  Sys.call("readlink", () => Fs.readlink(`/proc/self/fd/${handle.fd}`)).pipe(
    Effect.map((link): string | undefined => link),
    Effect.orElseSucceed(() => undefined)
  )

const swapped = (file: Workspace.Resolved) =>
  new PathRefused({ path: file.path, reason: "changed into a symlink or moved outside the workspace while in use" })

const wrongType = (file: Workspace.Resolved, expected: string, stat: Stats) =>
  new WrongFileType({ path: file.path, expected, actual: kindOf(stat) })

const mapOpenError = (file: Workspace.Resolved) => (e: Sys.SysError) =>
  e.code === "ELOOP" || e.code === "ENOTDIR" ? swapped(file) : e.toolError()

/** The first `limit` bytes of a regular file, its size, and whether it was longer. */
export const readCapped = (workspace: Workspace.Service, file: Workspace.Resolved, limit: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const before = yield* Sys.call("lstat", () => Fs.lstat(file.absolute)).pipe(Effect.mapError((e) => e.toolError()))
      if (!before.isFile()) return yield* wrongType(file, "file", before)
      const handle = yield* open(file.absolute, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).pipe(
        Effect.mapError(mapOpenError(file))
      )
      const stat = yield* Sys.call("fstat", () => handle.stat()).pipe(Effect.mapError((e) => e.toolError()))
      if (!stat.isFile()) return yield* wrongType(file, "file", stat)
      const location = yield* locationOf(handle)
      if (location !== undefined && !Workspace.contains(workspace, location)) return yield* swapped(file)
      const want = Math.min(stat.size, limit)
      const buffer = Buffer.alloc(want)
      let filled = 0
      while (filled < want) {
        const { bytesRead } = yield* Sys.call("read", () => handle.read(buffer, filled, want - filled, filled)).pipe(
          Effect.mapError((e) => e.toolError())
        )
        if (bytesRead === 0) break
        filled += bytesRead
      }
      return { bytes: buffer.subarray(0, filled), size: stat.size, truncated: stat.size > limit }
    })
  )

/** Replaces (or creates, with its missing parent directories) a regular file with `data`. */
export const writeChecked = (workspace: Workspace.Service, file: Workspace.Resolved, data: Uint8Array) =>
  Effect.scoped(
    Effect.gen(function* () {
      if (file.exists) {
        const before = yield* Sys.call("lstat", () => Fs.lstat(file.absolute)).pipe(
          Effect.mapError((e) => e.toolError())
        )
        if (!before.isFile()) return yield* wrongType(file, "file", before)
      } else {
        yield* Sys.call("mkdir", () => Fs.mkdir(Path.dirname(file.absolute), { recursive: true })).pipe(
          Effect.mapError(mapOpenError(file))
        )
      }
      const handle = yield* open(
        file.absolute,
        constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK
      ).pipe(Effect.mapError(mapOpenError(file)))
      const location = yield* locationOf(handle)
      if (location !== undefined && !Workspace.contains(workspace, location)) {
        if (!file.exists) yield* Sys.call("unlink", () => Fs.unlink(location)).pipe(Effect.ignore)
        return yield* swapped(file)
      }
      const stat = yield* Sys.call("fstat", () => handle.stat()).pipe(Effect.mapError((e) => e.toolError()))
      if (!stat.isFile()) return yield* wrongType(file, "file", stat)
      yield* Sys.call("truncate", () => handle.truncate(0)).pipe(Effect.mapError((e) => e.toolError()))
      let written = 0
      while (written < data.length) {
        const { bytesWritten } = yield* Sys.call("write", () =>
          handle.write(data, written, data.length - written, written)
        ).pipe(Effect.mapError((e) => e.toolError()))
        written += bytesWritten
      }
      return { bytes: written, created: !file.exists }
    })
  )

/** Removes a file or a symlink (never what the symlink points to, never a directory). */
export const removeEntry = (file: Workspace.Resolved) =>
  Effect.gen(function* () {
    const stat = yield* Sys.call("lstat", () => Fs.lstat(file.absolute)).pipe(Effect.mapError((e) => e.toolError()))
    if (stat.isDirectory()) return yield* wrongType(file, "file", stat)
    yield* Sys.call("unlink", () => Fs.unlink(file.absolute)).pipe(Effect.mapError(mapOpenError(file)))
  })

/** One entry of a directory listing. */
export interface Entry {
  readonly name: string
  readonly type: string
  readonly size: number
}

/**
 * Up to `limit` entries of a directory for which `visible(name, isDirectory)` holds, sorted by name, and whether
 * there were more. At most `scanLimit` entries are looked at, so a directory of millions stays cheap.
 */
export const listDirectory = (
  file: Workspace.Resolved,
  limit: number,
  visible: (name: string, isDirectory: boolean) => boolean,
  scanLimit = 100_000
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const stat = yield* Sys.call("stat", () => Fs.stat(file.absolute)).pipe(Effect.mapError((e) => e.toolError()))
      if (!stat.isDirectory()) return yield* wrongType(file, "directory", stat)
      const dir = yield* Effect.acquireRelease(
        Sys.call("opendir", () => Fs.opendir(file.absolute)).pipe(Effect.mapError((e) => e.toolError())),
        (dir) => Sys.call("closedir", () => dir.close()).pipe(Effect.ignore)
      )
      const entries: Array<Entry> = []
      let truncated = false
      for (let scanned = 0; ; scanned++) {
        const dirent = yield* Sys.call("readdir", () => dir.read()).pipe(Effect.mapError((e) => e.toolError()))
        if (dirent === null) break
        if (scanned >= scanLimit || entries.length >= limit) {
          truncated = true
          break
        }
        if (!visible(dirent.name, dirent.isDirectory())) continue
        const entryStat = yield* Sys.call("lstat", () => Fs.lstat(Path.join(file.absolute, dirent.name))).pipe(
          Effect.option
        )
        entries.push({
          name: dirent.name,
          type: entryStat._tag === "Some" ? kindOf(entryStat.value) : "other",
          size: entryStat._tag === "Some" && entryStat.value.isFile() ? entryStat.value.size : 0
        })
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      return { entries, truncated }
    })
  )
