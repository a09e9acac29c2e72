/**
 * When index upkeep runs: in a background fiber owned by the layer's scope, woken once `optimizeEvery` rows have
 * been written, so that no `remember` waits for a compaction or an index build (about 4 s at 100,000 rows).
 *
 * Recall stays exact for the rows written meanwhile: LanceDB searches the fragments no index covers yet by brute
 * force, for vectors and for BM25 alike. A failed pass is logged and counted in the state, and the next write wakes
 * the fiber again; explicit passes (`Memory.optimize`) wait for a running one and retry lost commit races.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import type { UpkeepStatus } from "../Memory.ts"
import type { MemoryError } from "../MemoryError.ts"
import * as Lance from "./lance.ts"

/** What the background upkeep has done since the storage was opened (`Memory.UpkeepStatus`). */
export type State = UpkeepStatus

const describe = (cause: Cause.Cause<MemoryError>): string => {
  const error = Cause.squash(cause)
  return typeof error === "object" && error !== null && "operation" in error && "message" in error
    ? `${String(error.operation)}: ${String(error.message)}`
    : String(error)
}

/** The upkeep of one open store. */
export interface Upkeep {
  /** Counts rows just written and wakes the background fiber once `optimizeEvery` have accumulated. */
  readonly notify: (written: number) => Effect.Effect<void>
  /** Runs a pass now (after a running one), retrying commit races; fails with the pass's error. */
  readonly runNow: Effect.Effect<void, MemoryError>
  /**
   * Runs an effect with no pass running, such as a delete: in one process a delete and a compaction would otherwise
   * race, and the loser's commit fail.
   */
  readonly exclusive: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly state: Effect.Effect<State>
}

/**
 * Starts the background fiber of a store, for the life of the current scope; closing the scope interrupts it
 * between two native steps (a step already running is waited for, as it cannot be cancelled).
 */
export const start = (options: {
  readonly optimizeEvery: number
  readonly pass: Effect.Effect<void, MemoryError>
}): Effect.Effect<Upkeep, never, Scope.Scope> =>
  Effect.gen(function* () {
    const lock = yield* Semaphore.make(1)
    const wake = yield* Queue.sliding<void>(1)
    const state = yield* Ref.make<State>({ pendingRows: 0, running: false, runs: 0, failures: 0, lastError: undefined })

    const run = Effect.gen(function* () {
      const { pendingRows } = yield* Ref.updateAndGet(state, (s) => ({ ...s, running: true }))
      yield* options.pass
      // Rows written while the pass ran may not be in it: they stay pending for the next one.
      yield* Ref.update(state, (s) => ({
        ...s,
        pendingRows: Math.max(0, s.pendingRows - pendingRows),
        runs: s.runs + 1,
        lastError: undefined
      }))
    }).pipe(
      Effect.tapCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.void
          : Ref.update(state, (s) => ({ ...s, failures: s.failures + 1, lastError: describe(cause) }))
      ),
      Effect.ensuring(Ref.update(state, (s) => ({ ...s, running: false })))
    )

    // No retry with a delay here: a sleeping pass would hold the lock that deletes and explicit passes wait for.
    // The rows stay pending, so the next write wakes the fiber for another try.
    const background = lock
      .withPermit(run)
      .pipe(
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause)
            : Effect.logWarning("memory upkeep failed; it runs again after the next write", cause)
        )
      )

    yield* Effect.forkScoped(
      Effect.gen(function* () {
        while (true) {
          yield* Queue.take(wake)
          // A wake-up queued during the last pass may find its rows already folded in.
          if ((yield* Ref.get(state)).pendingRows >= options.optimizeEvery) yield* background
        }
      })
    )

    const notify = (written: number) =>
      Effect.gen(function* () {
        const { pendingRows } = yield* Ref.updateAndGet(state, (s) => ({ ...s, pendingRows: s.pendingRows + written }))
        if (pendingRows >= options.optimizeEvery) yield* Queue.offer(wake, undefined)
      })

    return {
      notify,
      runNow: lock.withPermit(run.pipe(Effect.retry(Lance.conflictRetry))),
      exclusive: (self) => lock.withPermit(self),
      state: Ref.get(state)
    } satisfies Upkeep
  })
