/**
 * Bounded reads of the files a spec names: only regular files, never more than a limit.
 *
 * A team member or `instructionsFile` can name anything: `/dev/zero` (reading it never ends), a FIFO (opening it
 * for reading blocks until a writer comes, and the open cannot be interrupted), a directory, a huge log. So the
 * type and size are checked with `stat` before the file is opened, and the read stops one byte past the limit
 * even if the file grows meanwhile (or, like `/proc` files, reports a size of 0).
 *
 * The `FileSystem` interface has no non-blocking open, so a path swapped for a FIFO between the `stat` and the
 * `open` would still block: that race needs someone replacing files under the loader on purpose.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type * as PlatformError from "effect/PlatformError"
import type * as SpecError from "../SpecError.ts"

/** Why a read failed, with what a person needs to know about it. */
export interface ReadFailure {
  readonly reason: SpecError.FileProblem
  /** Completes "Cannot read FILE: ...". */
  readonly detail: string
}

const chunkBytes = 64 * 1024

const minChunkBytes = 4 * 1024

const kinds: Record<FileSystem.File.Type, string> = {
  File: "a regular file",
  Directory: "a directory",
  SymbolicLink: "a symbolic link",
  BlockDevice: "a block device",
  CharacterDevice: "a character device",
  FIFO: "a FIFO (named pipe)",
  Socket: "a socket",
  Unknown: "not a regular file"
}

const bytes = (n: number | bigint): string => n.toLocaleString("en-US")

const notRegular = (type: FileSystem.File.Type): ReadFailure => ({
  reason: "NotRegularFile",
  detail: `it is ${kinds[type]}, not a regular file`
})

const tooLarge = (limit: number, size: bigint | undefined): ReadFailure => ({
  reason: "TooLarge",
  detail:
    size === undefined
      ? `it grew past the limit of ${bytes(limit)} bytes while being read`
      : `it is ${bytes(size)} bytes, over the limit of ${bytes(limit)} bytes`
})

const systemReasons: Record<string, string> = {
  NotFound: "no such file",
  PermissionDenied: "permission denied",
  Busy: "the file is busy",
  TimedOut: "timed out",
  BadResource: "bad file descriptor"
}

const platform = (error: PlatformError.PlatformError): ReadFailure => {
  const tag = error.reason._tag
  if (tag === "NotFound") return { reason: "NotFound", detail: "no such file" }
  return {
    reason: "Unreadable",
    detail: systemReasons[tag] ?? (tag === "BadArgument" ? "invalid path" : `${tag} error`)
  }
}

const concat = (chunks: ReadonlyArray<Uint8Array>, total: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

const decoder = new TextDecoder("utf-8")

/** Reads the regular file at `path` as UTF-8 text, failing without opening it when it is anything else. */
export const read = (path: string, limit: number): Effect.Effect<string, ReadFailure, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.mapError(fs.stat(path), platform)
    if (info.type !== "File") return yield* Effect.fail(notRegular(info.type))
    if (info.size > BigInt(limit)) return yield* Effect.fail(tooLarge(limit, info.size))
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* Effect.mapError(fs.open(path, { flag: "r" }), platform)
        // What was opened may not be what was checked: look again at the open file itself.
        const opened = yield* Effect.mapError(file.stat, platform)
        if (opened.type !== "File") return yield* Effect.fail(notRegular(opened.type))
        const chunks: Array<Uint8Array> = []
        let total = 0
        // The size `stat` gave (and one byte more, to see the end) first: a spec is then read in one call.
        let want = Math.max(Number(info.size) + 1, minChunkBytes)
        while (true) {
          const chunk = yield* Effect.mapError(file.readAlloc(Math.min(want, limit + 1 - total)), platform)
          want = chunkBytes
          if (Option.isNone(chunk)) break
          chunks.push(chunk.value)
          total += chunk.value.length
          if (total > limit) return yield* Effect.fail(tooLarge(limit, undefined))
        }
        return decoder.decode(concat(chunks, total))
      })
    )
  })
