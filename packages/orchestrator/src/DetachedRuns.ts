/**
 * Runs made elsewhere (a cluster's runners: agent runs, and members' runs) that outlive the process that asked for
 * them stopping. A process stopped to be started again (a server's SIGTERM, `troupe orchestrate --postgres` stopped
 * with SIGTERM or Ctrl-C) would otherwise see every task in flight come back failed (interrupted), journalled as the
 * attempt's outcome and tried again as a new task, repeating the model and tool calls it had made; and
 * effect/cluster passes an interrupted caller's interrupt on to its task besides. Each run is made in a fiber of its
 * own instead: once the process is stopping, a run's failure is no outcome (it waits to be interrupted) and its
 * interruption leaves the task running where it runs, so the process started again waits for the same task. Until
 * then, an interrupted caller (a cancelled job, an orchestration that stops to wait for a person) still stops its
 * tasks.
 *
 * @example
 * ```ts
 * import { DetachedRuns } from "@troupe/orchestrator"
 *
 * const stopping = { now: false }
 * const runs = DetachedRuns.make(clusterRuns, stopping)
 * // A finalizer that runs before the cluster client's closes: set stopping.now = true in it.
 * ```
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as MemberRuns from "./MemberRuns.ts"

/** Whether the process is stopping, set by its owner before the runs' caller is interrupted. */
export interface Stopping {
  readonly now: boolean
}

/** `run` left running, and its failure unanswered, once `stopping.now` is set. */
export const detached = <A, E>(run: Effect.Effect<A, E>, stopping: Stopping): Effect.Effect<A, E> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.forkDetach(run), (fiber) =>
      restore(
        Effect.flatMap(Fiber.await(fiber), (exit) => (Exit.isFailure(exit) && stopping.now ? Effect.never : exit))
      ).pipe(Effect.onInterrupt(() => (stopping.now ? Effect.void : Fiber.interrupt(fiber))))
    )
  )

/** `runs` with every run `detached`. */
export const make = (runs: MemberRuns.Service, stopping: Stopping): MemberRuns.Service => ({
  exclusive: runs.exclusive,
  run: (request) => detached(runs.run(request), stopping)
})
