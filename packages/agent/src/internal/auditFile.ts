/**
 * The file side of the audit trail: Node's callback `fs` calls as effects (effect's `FileSystem` has no
 * `fdatasync`), and a line scanner that never holds more than one bounded line in memory.
 */
import * as fs from "node:fs"
import { dirname } from "node:path"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import { AuditLogError } from "../AuditEntry.ts"

const call = <A>(
  operation: string,
  path: string,
  run: (callback: (error: NodeJS.ErrnoException | null, value: A) => void) => void
): Effect.Effect<A, AuditLogError> =>
  Effect.callback<A, AuditLogError>((resume) => {
    run((error, value) =>
      resume(
        error === null
          ? Effect.succeed(value)
          : Effect.fail(new AuditLogError({ operation, path, message: error.message }))
      )
    )
  })

/** The size of a file, or `undefined` when it does not exist. */
export const size = (path: string): Effect.Effect<number | undefined, AuditLogError> =>
  Effect.callback<number | undefined, AuditLogError>((resume) => {
    fs.stat(path, (error, stats) =>
      resume(
        error === null
          ? Effect.succeed(stats.size)
          : error.code === "ENOENT"
            ? Effect.succeed(undefined)
            : Effect.fail(new AuditLogError({ operation: "stat", path, message: error.message }))
      )
    )
  })

/** Creates a directory and its parents. */
export const mkdir = (path: string): Effect.Effect<void, AuditLogError> =>
  call<string | undefined>("mkdir", path, (cb) => fs.mkdir(path, { recursive: true, mode: 0o700 }, cb)).pipe(
    Effect.asVoid
  )

/** Opens a file for the life of the current scope. */
export const open = (path: string, flags: string): Effect.Effect<number, AuditLogError, Scope.Scope> =>
  Effect.acquireRelease(
    call<number>("open", path, (cb) => fs.open(path, flags, 0o600, cb)),
    (fd) => Effect.ignore(close(path, fd))
  )

/** Closes a descriptor. */
export const close = (path: string, fd: number): Effect.Effect<void, AuditLogError> =>
  call<void>("close", path, (cb) => fs.close(fd, (error) => cb(error, undefined)))

/**
 * Writes all of `buffer` at the end of a file opened to append, synchronously (a page-cache write is a few
 * microseconds; see the chain for why this one call is not a callback).
 */
export const writeAllSync = (path: string, fd: number, buffer: Buffer): Result.Result<void, AuditLogError> =>
  Result.try({
    try: () => {
      let offset = 0
      while (offset < buffer.length) offset += fs.writeSync(fd, buffer, offset, buffer.length - offset)
    },
    catch: (error) =>
      new AuditLogError({ operation: "write", path, message: error instanceof Error ? error.message : String(error) })
  })

/** Flushes the descriptor's data (and the size, not the times) to the device. */
export const fdatasync = (path: string, fd: number): Effect.Effect<void, AuditLogError> =>
  call<void>("fdatasync", path, (cb) => fs.fdatasync(fd, (error) => cb(error, undefined)))

/** Cuts a file to `length` bytes. */
export const truncate = (path: string, fd: number, length: number): Effect.Effect<void, AuditLogError> =>
  call<void>("ftruncate", path, (cb) => fs.ftruncate(fd, length, (error) => cb(error, undefined)))

/**
 * Makes a new file's directory entry durable. Best effort: some platforms cannot fsync a directory, and the
 * file's own data is synced either way.
 */
export const syncDirectory = (path: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    // Opening and closing a directory do no I/O: done here rather than as two more trips through the thread pool.
    const fd = Result.try(() => fs.openSync(dirname(path), "r"))
    if (Result.isFailure(fd)) return resume(Effect.void)
    fs.fsync(fd.success, () => {
      Result.try(() => fs.closeSync(fd.success))
      resume(Effect.void)
    })
  })

/** A complete line: its number (from 1), its text without the newline, and its byte span. */
export interface Line {
  readonly _tag: "Line"
  readonly number: number
  readonly text: string
  readonly end: number
}

/** A line longer than the limit; its bytes were skipped, not held. */
export interface Oversized {
  readonly _tag: "Oversized"
  readonly number: number
  readonly bytes: number
  readonly end: number
}

/** The file's last bytes, with no newline after them. */
export interface Incomplete {
  readonly _tag: "Incomplete"
  readonly number: number
  readonly bytes: number
}

/** What the scanner found next. */
export type Scanned = Line | Oversized | Incomplete

const chunkSize = 64 * 1024

/**
 * Opens a file and returns a pull of its lines (`undefined` at the end), for the life of the current scope.
 * A line over `maxLineBytes` is skipped chunk by chunk and reported as `Oversized`, so a 1 GB line costs time but
 * not memory.
 */
export const scan = (
  path: string,
  maxLineBytes: number
): Effect.Effect<Effect.Effect<Scanned | undefined, AuditLogError>, AuditLogError, Scope.Scope> =>
  Effect.gen(function* () {
    const fd = yield* open(path, "r")
    const buffer = Buffer.alloc(chunkSize)
    let start = 0
    let stop = 0
    let position = 0
    let eof = false
    let pieces: Array<Buffer> = []
    let pending = 0
    let lineStart = 0
    let number = 0

    const take = (): Scanned | undefined => {
      const newline = buffer.indexOf(0x0a, start)
      if (newline !== -1 && newline < stop) {
        const piece = buffer.subarray(start, newline)
        start = newline + 1
        const bytes = pending + piece.length
        const end = lineStart + bytes + 1
        const text =
          bytes > maxLineBytes
            ? undefined
            : pieces.length === 0
              ? piece.toString("utf8")
              : Buffer.concat([...pieces, piece]).toString("utf8")
        pieces = []
        pending = 0
        lineStart = end
        number += 1
        return text === undefined ? { _tag: "Oversized", number, bytes, end } : { _tag: "Line", number, text, end }
      }
      const rest = buffer.subarray(start, stop)
      pending += rest.length
      // The buffer is reused by the next read, so a kept piece is a copy.
      if (pending <= maxLineBytes) pieces.push(Buffer.from(rest))
      else pieces = []
      start = stop
      return undefined
    }

    return Effect.gen(function* () {
      while (true) {
        if (start < stop) {
          const found = take()
          if (found !== undefined) return found
        }
        if (eof) {
          if (pending === 0) return undefined
          const bytes = pending
          pending = 0
          pieces = []
          number += 1
          return { _tag: "Incomplete", number, bytes } satisfies Incomplete
        }
        const at = position
        const read = yield* call<number>("read", path, (cb) => fs.read(fd, buffer, 0, chunkSize, at, cb))
        position += read
        start = 0
        stop = read
        eof = read === 0
      }
    })
  })
