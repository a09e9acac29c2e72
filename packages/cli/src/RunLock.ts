/**
 * One process at a time per durable run or orchestration (`RunLock` of `@troupe/agent`: a lock file beside its
 * journal holding the pid of the process running it), as the `troupe` command reports it: a run another live process
 * runs (`troupe run --resume` twice, or a server that resumed it) is bad input, exit 2.
 *
 * @example
 * ```ts
 * yield* RunLock.hold(runsDir, runId, "run") // released when the scope closes
 * ```
 */
import { RunLock } from "@troupe/agent"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { CliExit, ExitCode } from "./ExitCode.ts"

export const pathOf = RunLock.pathOf

/** Holds the lock of `id` for the scope; fails (bad input, exit 2) while another live process holds it. */
export const hold = (runsDir: string, id: string, kind: RunLock.Kind): Effect.Effect<void, CliExit, Scope.Scope> =>
  RunLock.hold(runsDir, id, kind).pipe(
    Effect.mapError((error) =>
      error._tag === "RunLockFailed"
        ? new CliExit({ code: ExitCode.failed, message: error.message })
        : new CliExit({
            code: ExitCode.badInput,
            message:
              error.holder === undefined
                ? error.message
                : `${error.message}: stop it before resuming (if no troupe process has that pid, remove ${error.path})`
          })
    )
  )
