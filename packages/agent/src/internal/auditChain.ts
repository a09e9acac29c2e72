/**
 * One run's open trail: each append is chained and written to the file at once, and fdatasync runs as group
 * commit — whoever needs durability while no fdatasync is in flight starts one covering everything written so far;
 * whoever needs it while one is in flight waits for it and, if still uncovered, starts the next. Ten concurrent
 * durable appends cost two fdatasyncs, not ten.
 */

import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { type AuditEntry, AuditLogClosed, AuditLogError, type Head } from "../AuditEntry.ts"
import * as File from "./auditFile.ts"
import * as Json from "./auditJson.ts"

/**
 * What an append waits for: `"durable"`, the fdatasync that covers its line; `"written"`, only the write (the
 * line is in the OS's page cache: a killed process loses nothing, a power cut may), with `sync` as the barrier.
 */
export type Durability = "durable" | "written"

/** An entry's content, made JSON and redacted, with the canonical text of its data. */
export interface Prepared {
  readonly agent: string
  readonly type: string
  readonly data: Schema.Json
  readonly canonical: string
}

/** An open trail. */
export interface Chain {
  readonly append: (prepared: Prepared) => Effect.Effect<AuditEntry, AuditLogError | AuditLogClosed>
  /** Returns once everything written is fdatasynced (at once when it already is). */
  readonly sync: Effect.Effect<void, AuditLogError | AuditLogClosed>
  readonly head: Effect.Effect<Head>
  /** How many fdatasync rounds ran: how well group commit batches, for tests and benchmarks. */
  readonly rounds: () => number
  /** Syncs what was appended and closes the file; later appends fail. */
  readonly close: Effect.Effect<void, AuditLogError>
}

/**
 * Starts the chain over a descriptor opened for appending at the end of a good chain ending at `head` (`seq` -1
 * and the zero hash for a new trail). The descriptor lives in `scope`, closed by `close`.
 */
export const make = (options: {
  readonly path: string
  readonly runId: string
  readonly fd: number
  readonly head: Head
  readonly lastTime: number | undefined
  readonly durability: Durability
  readonly scope: Scope.Closeable
  /**
   * Files whose directory entry is new (the trail, its run's directory): their directories are fsynced with the
   * first round, at the same time as the file, instead of one after the other when the trail is opened.
   */
  readonly newEntries?: ReadonlyArray<string>
}): Chain => {
  const { path, runId, fd, scope } = options
  let newEntries = options.newEntries ?? []
  let head = options.head
  // Times never go backwards along the chain, even when the clock does (or a resumed trail's last time is bogus).
  let lastTime =
    options.lastTime !== undefined && Number.isFinite(options.lastTime) ? options.lastTime : Number.NEGATIVE_INFINITY
  let syncedSeq = head.seq
  let inFlight: Deferred.Deferred<void, AuditLogError> | undefined
  let rounds = 0
  let closed = false
  // After a failed write or fdatasync the file's state is unknown (a failed fdatasync may have dropped dirty
  // pages), so the chain stops rather than write after a hole.
  let failure: AuditLogError | undefined

  // The write is synchronous: a page-cache write takes a few microseconds, and the callback API would add two
  // event-loop turns to every append. Doing it while chaining also keeps the file in seq order without a lock.
  const stage = (prepared: Prepared, now: number): Effect.Effect<AuditEntry, AuditLogError | AuditLogClosed> => {
    if (failure !== undefined) return Effect.fail(failure)
    if (closed) return Effect.fail(new AuditLogClosed({ runId }))
    const time = Math.max(lastTime, now)
    const envelope = {
      seq: head.seq + 1,
      time: new Date(time).toISOString(),
      runId,
      agent: prepared.agent,
      type: prepared.type,
      prevHash: head.hash
    }
    const hash = Json.entryHash(envelope, prepared.canonical)
    const written = File.writeAllSync(path, fd, Buffer.from(Json.line(envelope, prepared.canonical, hash), "utf8"))
    if (Result.isFailure(written)) {
      failure = written.failure
      return Effect.fail(failure)
    }
    lastTime = time
    head = { seq: envelope.seq, hash }
    return Effect.succeed({ ...envelope, data: prepared.data, hash })
  }

  const flush = Effect.suspend(() => {
    if (newEntries.length === 0) return File.fdatasync(path, fd)
    const entries = newEntries
    newEntries = []
    return Effect.all([File.fdatasync(path, fd), ...entries.map(File.syncDirectory)], {
      concurrency: "unbounded",
      discard: true
    })
  })

  const fdatasync = (round: Deferred.Deferred<void, AuditLogError>, upto: number) =>
    flush.pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          inFlight = undefined
          if (Exit.isSuccess(exit)) {
            syncedSeq = Math.max(syncedSeq, upto)
            Deferred.doneUnsafe(round, Exit.void)
          } else {
            failure = Option.getOrElse(
              Cause.findErrorOption(exit.cause),
              () => new AuditLogError({ operation: "fdatasync", path, message: Cause.pretty(exit.cause) })
            )
            Deferred.doneUnsafe(round, Exit.fail(failure))
          }
        })
      ),
      // Once started, a round finishes and reports even if its starter is interrupted: others wait on it.
      Effect.uninterruptible
    )

  const syncedTo = (seq: number): Effect.Effect<void, AuditLogError> =>
    Effect.suspend(() => {
      if (failure !== undefined) return Effect.fail(failure)
      if (syncedSeq >= seq) return Effect.void
      if (inFlight !== undefined) return Effect.andThen(Deferred.await(inFlight), syncedTo(seq))
      const round = Deferred.makeUnsafe<void, AuditLogError>()
      inFlight = round
      rounds += 1
      return Effect.andThen(fdatasync(round, head.seq), syncedTo(seq))
    })

  // One effect step per append besides the sync: appends are on every agent step's path.
  const appendWith = (prepared: Prepared, durable: boolean) =>
    Clock.clockWith((clock) => {
      const staged = stage(prepared, clock.currentTimeMillisUnsafe())
      return durable ? Effect.flatMap(staged, (entry) => Effect.as(syncedTo(entry.seq), entry)) : staged
    })

  const sync = Effect.suspend(
    (): Effect.Effect<void, AuditLogError | AuditLogClosed> =>
      closed ? Effect.fail(new AuditLogClosed({ runId })) : syncedTo(head.seq)
  )

  const close = Effect.suspend(() => {
    if (closed) return Effect.void
    closed = true
    return syncedTo(head.seq).pipe(Effect.ensuring(Scope.close(scope, Exit.void)))
  })

  return {
    append: (prepared) => appendWith(prepared, options.durability === "durable"),
    sync,
    head: Effect.sync(() => head),
    rounds: () => rounds,
    close
  }
}
