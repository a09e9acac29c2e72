/**
 * One process at a time per orchestration: `$TROUPE_HOME/runs/<orchestrationId>/orchestrate.lock` holds the pid of
 * the process running it. Two processes replaying one journal would both run the steps in flight (a tool twice),
 * so a second `--resume` while the first runs is refused. A lock left by a process that died (`kill -9`) is taken
 * over: its pid no longer runs.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { CliExit, ExitCode } from "../ExitCode.ts"

// Signal 0 only checks that the process exists; EPERM means it does, under another user.
const running = (pid: number): Effect.Effect<boolean> =>
  !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid
    ? Effect.succeed(false)
    : Effect.try({ try: () => process.kill(pid, 0), catch: (e) => (e as NodeJS.ErrnoException).code }).pipe(
        Effect.match({ onSuccess: () => true, onFailure: (code) => code === "EPERM" })
      )

// The pid in the lock file (a few bytes are read, whatever the file holds).
const holderOf = (path: string): Effect.Effect<number | undefined> =>
  Effect.try(() => {
    const fd = NodeFs.openSync(path, "r")
    const buffer = Buffer.alloc(32)
    const read = NodeFs.readSync(fd, buffer, 0, 32, 0)
    NodeFs.closeSync(fd)
    const text = buffer.subarray(0, read).toString("utf8").trim()
    return /^\d{1,10}$/.test(text) ? Number(text) : undefined
  }).pipe(Effect.orElseSucceed(() => undefined))

/** Holds the orchestration's lock for the scope; fails (bad input) while another live process holds it. */
export const hold = (runsDir: string, orchestrationId: string): Effect.Effect<void, CliExit, Scope.Scope> => {
  const path = NodePath.join(runsDir, orchestrationId, "orchestrate.lock")
  const take = Effect.try({
    try: () => {
      NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true, mode: 0o700 })
      const fd = NodeFs.openSync(path, "wx", 0o600)
      NodeFs.writeSync(fd, `${process.pid}\n`)
      NodeFs.closeSync(fd)
    },
    catch: (error) => (error as NodeJS.ErrnoException).code ?? "error"
  })
  const acquire = Effect.catch(take, (code) => {
    if (code !== "EEXIST") {
      return Effect.fail(
        new CliExit({ code: ExitCode.failed, message: `cannot lock orchestration ${orchestrationId}: ${code}` })
      )
    }
    return Effect.gen(function* () {
      const holder = yield* holderOf(path)
      if (holder !== undefined && (yield* running(holder))) {
        return yield* new CliExit({
          code: ExitCode.badInput,
          message: `orchestration ${orchestrationId} is running in process ${holder}: stop it before resuming`
        })
      }
      // Left by a process that is gone: taken over.
      yield* Effect.sync(() => NodeFs.rmSync(path, { force: true }))
      return yield* Effect.mapError(
        take,
        (again) =>
          new CliExit({
            code: again === "EEXIST" ? ExitCode.badInput : ExitCode.failed,
            message: `cannot lock orchestration ${orchestrationId}: ${again === "EEXIST" ? "another process took it" : again}`
          })
      )
    })
  })
  return Effect.acquireRelease(acquire, () => Effect.sync(() => NodeFs.rmSync(path, { force: true })))
}
