/**
 * One run's open trail: entries chained in memory as they are appended, and one fiber that writes them with
 * group commit — whatever queued while a write and fdatasync were in flight goes out in the next single write and
 * fdatasync.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { type AuditEntry, AuditLogClosed, AuditLogError, type Head } from "../AuditEntry.ts"
import * as File from "./auditFile.ts"
import * as Json from "./auditJson.ts"

/** What an append waits for before it returns. */
export type Durability = "durable" | "written" | "queued"

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
  /** Appends and waits for the fdatasync that covers it, whatever the durability. */
  readonly appendSynced: (prepared: Prepared) => Effect.Effect<AuditEntry, AuditLogError | AuditLogClosed>
  readonly sync: Effect.Effect<void, AuditLogError | AuditLogClosed>
  readonly head: Effect.Effect<Head>
  /** Syncs what was appended, stops the writer fiber and closes the file; later appends fail. */
  readonly close: Effect.Effect<void, AuditLogError>
}

interface Batch {
  readonly lines: Array<string>
  wantSync: boolean
  readonly written: Deferred.Deferred<void, AuditLogError>
  readonly synced: Deferred.Deferred<void, AuditLogError>
}

const newBatch = (): Batch => ({
  lines: [],
  wantSync: false,
  written: Deferred.makeUnsafe(),
  synced: Deferred.makeUnsafe()
})

/**
 * Starts the writer over an open descriptor positioned at the end of a good chain ending at `head` (`seq` -1 and
 * the zero hash for a new trail). The fiber and the descriptor live in `scope`.
 */
export const make = (options: {
  readonly path: string
  readonly runId: string
  readonly fd: number
  readonly head: Head
  readonly lastTime: number | undefined
  readonly durability: Durability
  readonly scope: Scope.Closeable
}): Effect.Effect<Chain> =>
  Effect.gen(function* () {
    const { path, runId, fd, durability, scope } = options
    let head = options.head
    // Times never go backwards along the chain, even when the clock does (or a resumed trail's last time is bogus).
    let lastTime =
      options.lastTime !== undefined && Number.isFinite(options.lastTime) ? options.lastTime : Number.NEGATIVE_INFINITY
    let current = newBatch()
    let dirty = false
    let closed = false
    let failure: AuditLogError | undefined
    const wake = yield* Queue.sliding<void>(1)

    const flush = (batch: Batch) =>
      Effect.gen(function* () {
        if (batch.lines.length > 0) {
          yield* File.writeAll(path, fd, Buffer.from(batch.lines.join(""), "utf8"))
          dirty = true
        }
        Deferred.doneUnsafe(batch.written, Exit.void)
        if (dirty && (batch.wantSync || durability === "durable")) {
          yield* File.fdatasync(path, fd)
          dirty = false
        }
        if (!dirty) Deferred.doneUnsafe(batch.synced, Exit.void)
      })

    const fail = (batch: Batch, error: AuditLogError) => {
      Deferred.doneUnsafe(batch.written, Exit.fail(error))
      Deferred.doneUnsafe(batch.synced, Exit.fail(error))
    }

    // After a failed write or fdatasync the file's state is unknown (a failed fdatasync may have dropped the
    // dirty pages), so the chain stops rather than retrying over a hole. A defect stops it too: a waiter must
    // never wait for a writer that is gone.
    const stop = (batch: Batch, cause: Cause.Cause<AuditLogError>) =>
      Effect.sync(() => {
        failure = Option.getOrElse(
          Cause.findErrorOption(cause),
          () => new AuditLogError({ operation: "write", path, message: Cause.pretty(cause) })
        )
        fail(batch, failure)
      })

    const loop = Effect.gen(function* () {
      while (true) {
        yield* Queue.take(wake)
        const batch = current
        if (batch.lines.length === 0 && !batch.wantSync) continue
        current = newBatch()
        if (failure !== undefined) fail(batch, failure)
        else
          yield* flush(batch).pipe(
            Effect.uninterruptible,
            Effect.catchCause((cause) => stop(batch, cause))
          )
      }
    })
    const writer = yield* Effect.forkIn(loop, scope)

    const stage = (prepared: Prepared, now: number) =>
      Effect.suspend((): Effect.Effect<{ entry: AuditEntry; batch: Batch }, AuditLogError | AuditLogClosed> => {
        if (failure !== undefined) return Effect.fail(failure)
        if (closed) return Effect.fail(new AuditLogClosed({ runId }))
        lastTime = Math.max(lastTime, now)
        const envelope = {
          seq: head.seq + 1,
          time: new Date(lastTime).toISOString(),
          runId,
          agent: prepared.agent,
          type: prepared.type,
          prevHash: head.hash
        }
        const hash = Json.entryHash(envelope, prepared.canonical)
        head = { seq: envelope.seq, hash }
        const batch = current
        batch.lines.push(Json.line(envelope, prepared.canonical, hash))
        Queue.offerUnsafe(wake, undefined)
        return Effect.succeed({ entry: { ...envelope, data: prepared.data, hash } satisfies AuditEntry, batch })
      })

    const appendWith = (prepared: Prepared, wait: "synced" | "written" | "none") =>
      Effect.gen(function* () {
        const { batch, entry } = yield* stage(prepared, yield* Clock.currentTimeMillis)
        if (wait === "synced") {
          batch.wantSync = true
          yield* Deferred.await(batch.synced)
        } else if (wait === "written") yield* Deferred.await(batch.written)
        return entry
      })

    const waitFor = { durable: "synced", written: "written", queued: "none" } as const

    const sync = Effect.suspend((): Effect.Effect<void, AuditLogError | AuditLogClosed> => {
      if (failure !== undefined) return Effect.fail(failure)
      if (closed) return Effect.fail(new AuditLogClosed({ runId }))
      const batch = current
      batch.wantSync = true
      Queue.offerUnsafe(wake, undefined)
      return Deferred.await(batch.synced)
    })

    const close = Effect.suspend(() => {
      if (closed) return Effect.void
      closed = true
      const batch = current
      batch.wantSync = true
      Queue.offerUnsafe(wake, undefined)
      return Deferred.await(batch.synced).pipe(
        Effect.ensuring(Fiber.interrupt(writer)),
        Effect.ensuring(Scope.close(scope, Exit.void))
      )
    })

    return {
      append: (prepared) => appendWith(prepared, waitFor[durability]),
      appendSynced: (prepared) => appendWith(prepared, "synced"),
      sync,
      head: Effect.sync(() => head),
      close
    } satisfies Chain
  })
