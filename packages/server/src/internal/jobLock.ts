/**
 * One process at a time per recorded job: a job holds the lock of its run or orchestration (`RunLock`, the lock that
 * `troupe run --resume` and `troupe orchestrate --resume` take too) from before its record is written until after its
 * end is, so two servers sharing a state directory do not both resume it, nor a server and a command.
 */
import { RunLock } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { Conflict, ServerFailure } from "../ServerApi.ts"

/**
 * A scope for the job `id` holding its lock in `records` (nothing is locked without records); a `Conflict` while
 * another live process holds it.
 */
export const scopeFor = (
  records: string | undefined,
  id: string,
  kind: RunLock.Kind
): Effect.Effect<Scope.Closeable, Conflict | ServerFailure> =>
  Effect.flatMap(Scope.make(), (scope) =>
    records === undefined
      ? Effect.succeed(scope)
      : RunLock.hold(records, id, kind).pipe(
          Scope.provide(scope),
          Effect.as(scope),
          Effect.onError(() => Scope.close(scope, Exit.void)),
          Effect.mapError((error) =>
            error._tag === "RunLocked"
              ? new Conflict({ message: error.message })
              : new ServerFailure({ message: `the job cannot be locked in the state directory (${error.reason})` })
          )
        )
  )
