/**
 * Time an agent spends waiting on the world through a sensor (`wait_for`), kept apart from its working time.
 *
 * A sensor wait does not count against a run's `limits.timeout` nor its `stepTimeout`, like the time spent waiting
 * for a person's approval. Those limits bound *working* time (model calls, tools doing work) so that a loop or a
 * hung call ends; while the agent waits for a file to change it works on nothing and spends no tokens. The wait is
 * bounded on its own instead: each by the tool's `maxWait` (10 minutes by default, set in the spec), the waits of
 * one run by `maxSteps` (every wait is a model turn), and everything by the timeout of whoever started the run.
 * Counted, a 2-minute `stepTimeout` would fail the whole run at any longer wait, and a watcher agent's `timeout`
 * would be the real bound of its `maxWait`.
 *
 * `wait_for` runs each wait through the {@link Waiting} reference, which by default tells nobody. A loop that keeps
 * working time makes a {@link Tracker} for the run, provides its `waiting` around a step, bounds the step with the
 * tracker's `timeoutOrElse` (which stops the clock while a wait is in progress), and leaves `waited` out of the
 * time the run has worked.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SensorWaits } from "@troupe/tools"
 *
 * const bounded = <A, E>(step: Effect.Effect<A, E>) =>
 *   Effect.gen(function*() {
 *     const tracker = yield* SensorWaits.make
 *     return yield* tracker
 *       .timeoutOrElse(step, { duration: "2 minutes", orElse: () => Effect.fail("step-time" as const) })
 *       .pipe(Effect.provideService(SensorWaits.Waiting, tracker.waiting))
 *   })
 * ```
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"

/** What a wait on the world is reported to. */
export interface Service {
  /** Runs `wait`, a wait on the world rather than work. */
  readonly around: <A, E, R>(wait: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** Where `wait_for` reports its waits; by default nowhere (the wait just runs). */
export const Waiting: Context.Reference<Service> = Context.Reference<Service>("@troupe/tools/SensorWaits/Waiting", {
  defaultValue: () => ({ around: (wait) => wait })
})

/** The waits of one run, and bounds on working time that leave them out. */
export interface Tracker {
  /** Provide it as {@link Waiting} around the steps whose waits should not count. */
  readonly waiting: Service
  /** Milliseconds, up to now, during which at least one wait was in progress. */
  readonly waited: Effect.Effect<number>
  /**
   * `effect`, interrupted and replaced by `orElse` once it has run for `duration` not counting the time during which
   * a wait was in progress (the `Effect.timeoutOrElse` of working time).
   */
  readonly timeoutOrElse: <A, E, R, A2, E2, R2>(
    effect: Effect.Effect<A, E, R>,
    options: { readonly duration: Duration.Input; readonly orElse: () => Effect.Effect<A2, E2, R2> }
  ) => Effect.Effect<A | A2, E | E2, R | R2>
}

/**
 * A tracker with no wait seen yet. It passes every wait on to the {@link Waiting} in context when it is made, so
 * trackers nest: an application watching its agents still sees the waits of a run that tracks its own.
 */
export const make: Effect.Effect<Tracker> = Effect.gen(function* () {
  const outer = yield* Waiting
  // Open while no wait is in progress: the deadline parks on it instead of polling through a long wait.
  const idle = yield* Latch.make(true)
  let active = 0
  let total = 0
  let since = 0
  // Milliseconds waited up to `now`, the wait in progress included.
  const waitedBy = (now: number): number => total + (active > 0 ? now - since : 0)
  const waited = Effect.clockWith((clock) => Effect.sync(() => waitedBy(clock.currentTimeMillisUnsafe())))
  const begin = Effect.clockWith((clock) =>
    Effect.suspend(() => {
      active += 1
      if (active > 1) return Effect.void
      since = clock.currentTimeMillisUnsafe()
      return idle.close
    })
  )
  const end = Effect.clockWith((clock) =>
    Effect.suspend(() => {
      active -= 1
      if (active > 0) return Effect.void
      total += clock.currentTimeMillisUnsafe() - since
      return idle.open
    })
  )
  const waiting: Service = {
    around: (wait) =>
      outer.around(
        Effect.acquireUseRelease(
          begin,
          () => wait,
          () => end
        )
      )
  }
  // Built from plain suspensions rather than a generator: it runs around every model call of a run.
  const timeoutOrElse: Tracker["timeoutOrElse"] = (effect, { duration, orElse }) =>
    Effect.clockWith((clock) => {
      const limit = Duration.toMillis(Duration.fromInputUnsafe(duration))
      const start = clock.currentTimeMillisUnsafe()
      const waitedBefore = waitedBy(start)
      const deadline: Effect.Effect<void> = Effect.suspend(() => {
        if (active > 0) return Effect.andThen(idle.await, deadline)
        const now = clock.currentTimeMillisUnsafe()
        const left = limit - (now - start - (waitedBy(now) - waitedBefore))
        return left <= 0 ? Effect.void : Effect.andThen(clock.sleep(Duration.millis(left)), deadline)
      })
      return Effect.raceFirst(effect, Effect.flatMap(deadline, orElse))
    })
  return { waiting, waited, timeoutOrElse }
})
