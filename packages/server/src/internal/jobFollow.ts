/**
 * How a job follows its run: the events of its subscriptions routed into its record while the run goes on, what is
 * left in them once it ends, then the job's end, all in a fiber of the jobs' scope.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as PubSub from "effect/PubSub"
import * as Scope from "effect/Scope"
import * as JobEntry from "./jobEntry.ts"

/** A subscription and which of its events are the job's. */
export interface Routed {
  readonly subscription: PubSub.Subscription<JobEntry.Source["event"]>
  readonly route: (event: JobEntry.Source["event"]) => JobEntry.Source | undefined
}

/**
 * Follows `run` into `entry` in a fiber of `scope`; `jobScope` (the subscriptions') closes at the end, after `onEnd`.
 */
export const follow = <A, E>(options: {
  readonly scope: Scope.Scope
  readonly maxKept: number
  readonly entry: JobEntry.Entry
  readonly run: Fiber.Fiber<A, E>
  readonly subscriptions: ReadonlyArray<Routed>
  readonly outcome: (exit: Exit.Exit<A, E>) => JobEntry.Outcome
  readonly jobScope: Scope.Closeable
  readonly onEnd?: Effect.Effect<void> | undefined
}): Effect.Effect<void> => {
  const { entry, run, subscriptions, maxKept } = options
  const routed = (s: Routed, event: JobEntry.Source["event"]) => {
    const source = s.route(event)
    return source === undefined ? Effect.void : JobEntry.record(entry, source, maxKept)
  }
  const take = (s: Routed) => Effect.flatMap(PubSub.take(s.subscription), (event) => routed(s, event))
  const drain = Effect.forEach(subscriptions, (s) =>
    Effect.flatMap(PubSub.takeUpTo(s.subscription, Number.MAX_SAFE_INTEGER), (events) =>
      Effect.forEach(events, (event) => routed(s, event))
    )
  )
  return Effect.raceFirst(
    Effect.forEach(subscriptions, (s) => Effect.forever(take(s)), { concurrency: "unbounded" }),
    Fiber.await(run)
  ).pipe(
    Effect.andThen(drain),
    Effect.andThen(Fiber.await(run)),
    Effect.flatMap((exit) => JobEntry.finish(entry, options.outcome(exit))),
    Effect.andThen(options.onEnd ?? Effect.void),
    Effect.ensuring(Scope.close(options.jobScope, Exit.void)),
    Effect.forkIn(options.scope),
    Effect.asVoid
  )
}
