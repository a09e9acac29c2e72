/**
 * Test helpers: waiting for lifecycle events, and counting live fibers.
 */
import { Effect, Metric, PubSub } from "effect"
import { ActorSystem, type LifecycleEvent } from "../src/index.ts"

/** Takes events from `subscription` until one matches, and returns it. */
export const untilEvent = <E extends LifecycleEvent.LifecycleEvent>(
  subscription: PubSub.Subscription<LifecycleEvent.LifecycleEvent>,
  predicate: (event: LifecycleEvent.LifecycleEvent) => event is E
): Effect.Effect<E> =>
  Effect.gen(function* () {
    while (true) {
      const event = yield* PubSub.take(subscription)
      if (predicate(event)) return event
    }
  })

/** A predicate on an event's tag and path. */
export const is =
  <T extends LifecycleEvent.LifecycleEvent["_tag"]>(tag: T, path?: string) =>
  (event: LifecycleEvent.LifecycleEvent): event is Extract<LifecycleEvent.LifecycleEvent, { _tag: T }> =>
    event._tag === tag && (path === undefined || event.path === path)

/** Counts fibers alive under the program it is provided to (through effect's runtime-metrics hook). */
export const makeFiberCounter = () => {
  let live = 0
  const service: Metric.FiberRuntimeMetricsService = {
    recordFiberStart: () => {
      live++
    },
    recordFiberEnd: () => {
      live--
    }
  }
  return {
    live: () => live,
    provide: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, Metric.FiberRuntimeMetrics, service)
  }
}

/** Lets other fibers run (mailbox wake-ups go through the event loop). */
export const settle = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))

/** Runs `effect` with a fresh actor system, shut down when it ends. */
export const withSystem = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, ActorSystem.layer())
