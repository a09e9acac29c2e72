/**
 * One process at a time per durable run or orchestration: a lock file beside its journal
 * (`$TROUPE_HOME/runs/<id>/run.lock` for an agent run, `orchestrate.lock` for an orchestration) holds the pid of the
 * process running it. Two processes replaying one journal would both run the steps in flight (a tool twice), so a
 * second `troupe run --resume`, or a server resuming its jobs, is refused while another process runs it. A lock left
 * by a process that died (`kill -9`) is taken over: its pid no longer runs.
 *
 * @example
 * ```ts
 * yield* RunLock.hold(runsDir, runId, "run") // released when the scope closes
 * ```
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/** What is locked: an agent run or an orchestration. */
export const Kind = Schema.Literals(["run", "orchestration"])

/** What is locked: an agent run or an orchestration. */
export type Kind = typeof Kind.Type

/** Another live process runs it. */
export class RunLocked extends Schema.TaggedError<RunLocked>()("RunLocked", {
  kind: Kind,
  id: Schema.String,
  /** The pid of the process that holds the lock; none when it was taken between two looks. */
  holder: Schema.optionalKey(Schema.Int),
  path: Schema.String
}) {
  override get message(): string {
    return this.holder === undefined
      ? `${this.kind} ${this.id} was just locked by another process`
      : `${this.kind} ${this.id} is running in process ${this.holder}`
  }
}

/** The lock could not be taken or read (a file system error). */
export class RunLockFailed extends Schema.TaggedError<RunLockFailed>()("RunLockFailed", {
  kind: Kind,
  id: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot lock ${this.kind} ${this.id}: ${this.reason}`
  }
}

const fileOf: Record<Kind, string> = { run: "run.lock", orchestration: "orchestrate.lock" }

/** Where the lock of `id` is. */
export const pathOf = (runsDir: string, id: string, kind: Kind): string => NodePath.join(runsDir, id, fileOf[kind])

// Signal 0 only checks that the process exists; EPERM means it does, under another user.
const running = (pid: number): Effect.Effect<boolean> =>
  !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid
    ? Effect.succeed(false)
    : Effect.try({ try: () => process.kill(pid, 0), catch: (e) => (e as NodeJS.ErrnoException).code }).pipe(
        Effect.match({ onSuccess: () => true, onFailure: (code) => code === "EPERM" })
      )

// The pid in a lock file (a few bytes are read, whatever the file holds).
const holderOf = (path: string): Effect.Effect<number | undefined> =>
  Effect.try(() => {
    const fd = NodeFs.openSync(path, "r")
    const buffer = Buffer.alloc(32)
    const read = NodeFs.readSync(fd, buffer, 0, 32, 0)
    NodeFs.closeSync(fd)
    const text = buffer.subarray(0, read).toString("utf8").trim()
    return /^\d{1,10}$/.test(text) ? Number(text) : undefined
  }).pipe(Effect.orElseSucceed(() => undefined))

const remove = (path: string): Effect.Effect<void> =>
  Effect.try(() => NodeFs.rmSync(path, { force: true })).pipe(Effect.ignore)

const errnoOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? "error"

/** Holds the lock of `id` for the scope; fails while another live process holds it. */
export const hold = (
  runsDir: string,
  id: string,
  kind: Kind
): Effect.Effect<void, RunLocked | RunLockFailed, Scope.Scope> => {
  const path = pathOf(runsDir, id, kind)
  const refused = (holder: number) => new RunLocked({ kind, id, holder, path })
  const cannot = (reason: string) => new RunLockFailed({ kind, id, reason })
  const take = Effect.try({
    try: () => {
      NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true, mode: 0o700 })
      const fd = NodeFs.openSync(path, "wx", 0o600)
      NodeFs.writeSync(fd, `${process.pid}\n`)
      NodeFs.closeSync(fd)
    },
    catch: errnoOf
  })
  const takeAgain = Effect.mapError(take, (code) =>
    code === "EEXIST" ? new RunLocked({ kind, id, path }) : cannot(code)
  )
  // A dead holder's file is moved aside before it is removed: two processes taking over at once cannot both remove
  // it, and one that moved aside a lock a live process had just taken puts it back.
  const takeOver = (dead: number | undefined) =>
    Effect.gen(function* () {
      const aside = `${path}.${process.pid}.stale`
      const moved = yield* Effect.try({ try: () => NodeFs.renameSync(path, aside), catch: errnoOf }).pipe(
        Effect.match({ onSuccess: () => true, onFailure: () => false })
      )
      if (moved) {
        const holder = yield* holderOf(aside)
        if (holder !== undefined && holder !== dead && (yield* running(holder))) {
          yield* Effect.try(() => NodeFs.linkSync(aside, path)).pipe(Effect.ignore)
          yield* remove(aside)
          return yield* refused(holder)
        }
        yield* remove(aside)
      }
      return yield* takeAgain
    })
  const acquire = Effect.catch(take, (code) =>
    code !== "EEXIST"
      ? Effect.fail(cannot(code))
      : Effect.gen(function* () {
          const holder = yield* holderOf(path)
          if (holder !== undefined && (yield* running(holder))) return yield* refused(holder)
          return yield* takeOver(holder)
        })
  )
  // Only a lock that is still this process's is removed.
  const release = Effect.flatMap(holderOf(path), (holder) => (holder === process.pid ? remove(path) : Effect.void))
  return Effect.acquireRelease(acquire, () => release)
}
