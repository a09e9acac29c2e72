/**
 * Programs an agent started in the background with `shell_start`, kept until `wait_for {until: "process-exit"}`
 * reports how each ended. Each runs like a `shell_run` (argv only, its own process group, a scrubbed environment,
 * output capped) and is killed with its group at its timeout or when the toolkit's scope closes.
 *
 * At most `maxProcesses` (4) are kept at once, running or ended but not yet reported, so that neither processes
 * nor their captured output pile up. A program that cannot be started is reported by the wait, not by the start.
 * A resumed durable run replays the start from its journal without starting the program again: the wait then
 * answers `ProcessNotFound`, and the model can start it anew.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as PlatformError from "effect/PlatformError"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as RunProcess from "./internal/runProcess.ts"

/** `wait_for` was asked about a process that is not kept: never started, or its end already reported. */
export class ProcessNotFound extends Schema.TaggedError<ProcessNotFound>()("ProcessNotFound", {
  process: Schema.String
}) {}

/** `shell_start` was refused: as many programs as allowed are kept already. */
export class TooManyProcesses extends Schema.TaggedError<TooManyProcesses>()("TooManyProcesses", {
  limit: Schema.Int
}) {}

/** The programs of one toolkit. */
export interface Registry {
  /** Starts `run` in the background and returns its id (`p1`, `p2`, ...). */
  readonly start: (
    run: RunProcess.Run,
    spawner: ChildProcessSpawner["Service"]
  ) => Effect.Effect<string, TooManyProcesses>
  /**
   * How the process `id` ended, once it has (and then it is forgotten), or `None` when it still runs at the end of
   * `within`. Fails with the spawn error when the program could not be started.
   */
  readonly exit: (
    id: string,
    within: Effect.Effect<void>
  ) => Effect.Effect<Option.Option<RunProcess.Outcome>, ProcessNotFound | PlatformError.PlatformError>
}

/** An empty registry whose programs are killed when the scope closes. */
export const make = (options: { readonly maxProcesses?: number } = {}): Effect.Effect<Registry, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const limit = options.maxProcesses ?? 4
    const kept = new Map<string, Fiber.Fiber<RunProcess.Outcome, PlatformError.PlatformError>>()
    let started = 0
    return {
      start: (run, spawner) =>
        Effect.suspend((): Effect.Effect<string, TooManyProcesses> => {
          if (kept.size >= limit) return Effect.fail(new TooManyProcesses({ limit }))
          started += 1
          const id = `p${started}`
          return RunProcess.run(run).pipe(
            Effect.provideService(ChildProcessSpawner, spawner),
            Effect.forkIn(scope),
            Effect.map((fiber) => {
              kept.set(id, fiber)
              return id
            })
          )
        }),
      exit: (id, within) =>
        Effect.suspend(
          (): Effect.Effect<Option.Option<RunProcess.Outcome>, ProcessNotFound | PlatformError.PlatformError> => {
            const fiber = kept.get(id)
            if (fiber === undefined) return Effect.fail(new ProcessNotFound({ process: id }))
            return Effect.raceFirst(Effect.map(Fiber.await(fiber), Option.some), Effect.as(within, Option.none())).pipe(
              Effect.flatMap((ended) => {
                if (Option.isNone(ended)) return Effect.succeed(Option.none())
                kept.delete(id)
                return Exit.isSuccess(ended.value)
                  ? Effect.succeed(Option.some(ended.value.value))
                  : Effect.failCause(ended.value.cause)
              })
            )
          }
        )
    }
  })
