/**
 * Runs made elsewhere (a cluster's runners: agent runs, and members' runs) that outlive the server stopping. A server
 * stopped with its scope (SIGTERM, to be started again) closes its cluster client while orchestrations still run in
 * the actor system: every task in flight would come back failed (interrupted), be journalled as the attempt's outcome
 * and be tried again as a new task, and effect/cluster passes an interrupted caller's interrupt on to its task
 * besides. Each run is made in a fiber of its own instead: once the server is stopping, a run's failure is no outcome
 * (it waits to be interrupted) and its interruption leaves the task running where it runs, so a server started again
 * waits for the same task. While the server runs, a cancelled job still stops its tasks.
 */
import type { MemberRuns } from "@troupe/orchestrator"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/** `run` left running, and its failure unanswered, once `stopping.now` is set. */
export const detached = <A, E>(run: Effect.Effect<A, E>, stopping: { readonly now: boolean }): Effect.Effect<A, E> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.forkDetach(run), (fiber) =>
      restore(
        Effect.flatMap(Fiber.await(fiber), (exit) => (Exit.isFailure(exit) && stopping.now ? Effect.never : exit))
      ).pipe(Effect.onInterrupt(() => (stopping.now ? Effect.void : Fiber.interrupt(fiber))))
    )
  )

/** `runs` with every run `detached`. */
export const make = (runs: MemberRuns.Service, stopping: { readonly now: boolean }): MemberRuns.Service => ({
  exclusive: runs.exclusive,
  run: (request) => detached(runs.run(request), stopping)
})
