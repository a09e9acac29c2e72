/**
 * What the runtime's tests share: behaviours (a counter that fails on demand), waiting for lifecycle events,
 * counting live fibers, and a fresh actor system per test.
 */
import { Effect, Metric, PubSub, Schema } from "effect"
import {
  Actor,
  type ActorRef,
  ActorSystem,
  ExitReason,
  type LifecycleEvent,
  Next,
  ReplyTo,
  Supervisor
} from "../src/index.ts"

export const Add = Schema.TaggedStruct("Add", { n: Schema.Int })
export const Get = Schema.TaggedStruct("Get", { replyTo: ReplyTo.schema<number>() })
export const Crash = Schema.TaggedStruct("Crash", { message: Schema.String })
export const Die = Schema.TaggedStruct("Die", {})
export const Halt = Schema.TaggedStruct("Halt", {})
export const Block = Schema.TaggedStruct("Block", { until: Schema.Any })
/** Ends the incarnation with the given reason (e.g. `Shutdown`, as a supervisor that gave up does). */
export const Quit = Schema.TaggedStruct("Quit", { reason: ExitReason.ExitReason })
export const Divide = Schema.TaggedStruct("Divide", {
  by: Schema.Int,
  replyTo: ReplyTo.schema<number, DivisionByZero>()
})

export class DivisionByZero extends Schema.TaggedError<DivisionByZero>()("DivisionByZero", {}) {}
export class Boom extends Schema.TaggedError<Boom>()("Boom", { message: Schema.String }) {}

export const CounterProtocol = Schema.Union([Add, Get, Crash, Die, Halt, Block, Divide, Quit])
export type CounterMessage = typeof CounterProtocol.Type

/**
 * A counter: adds, answers, fails on demand (typed or defect), stops on `Halt`, blocks on a promise. `failInit`
 * makes `init` fail while it returns `true` (it is asked on every start).
 */
export const counter = (options?: {
  readonly capacity?: number
  readonly start?: number
  readonly log?: Array<string>
  readonly failInit?: () => boolean
}) =>
  Actor.make({
    protocol: CounterProtocol,
    capacity: options?.capacity,
    init: (context) =>
      Effect.suspend(() => {
        options?.log?.push(`init ${context.path} #${context.incarnation}`)
        return options?.failInit?.() === true
          ? Effect.fail(new Boom({ message: `init of ${context.path}` }))
          : Effect.succeed(options?.start ?? 0)
      }),
    receive: (count, message): Effect.Effect<Next.Next<number>, Boom> => {
      switch (message._tag) {
        case "Add":
          return Effect.succeed(Next.continueWith(count + message.n))
        case "Get":
          return Effect.as(ReplyTo.succeed(message.replyTo, count), Next.continueWith(count))
        case "Divide":
          return Effect.as(
            message.by === 0
              ? ReplyTo.fail(message.replyTo, new DivisionByZero())
              : ReplyTo.succeed(message.replyTo, count / message.by),
            Next.continueWith(count)
          )
        case "Crash":
          return Effect.fail(new Boom({ message: message.message }))
        case "Die":
          return Effect.die("defect on purpose")
        case "Halt":
          return Effect.succeed(Next.stop)
        case "Quit":
          return Effect.succeed({ _tag: "Stop", reason: message.reason })
        case "Block":
          return Effect.as(
            Effect.promise(() => message.until as Promise<void>),
            Next.continueWith(count)
          )
      }
    }
  })

/** Asks a counter for its count. */
export const get = (ref: ActorRef.ActorRef<CounterMessage>) => ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }))

/** A temporary child actor: the old `system.spawn` default, for tests where a crash should end the actor. */
export const temporary = <M, S, E, R>(id: string, behavior: Actor.Behavior<M, S, E, R>) =>
  Supervisor.actor(id, behavior, { restart: "temporary" })

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

/** Counts fibers started, and alive, under the program it is provided to (through effect's runtime-metrics hook). */
export const makeFiberCounter = () => {
  let live = 0
  let started = 0
  const service: Metric.FiberRuntimeMetricsService = {
    recordFiberStart: () => {
      live++
      started++
    },
    recordFiberEnd: () => {
      live--
    }
  }
  return {
    live: () => live,
    started: () => started,
    provide: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, Metric.FiberRuntimeMetrics, service)
  }
}

/** A promise and its resolver, to hold an actor inside its handler. */
export const gate = () => {
  let open!: () => void
  const until = new Promise<void>((resolve) => {
    open = resolve
  })
  return { until, open }
}

/** Lets other fibers run (mailbox wake-ups go through the event loop). */
export const settle = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))

/** Runs `effect` with a fresh actor system, shut down when it ends. */
export const withSystem = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, ActorSystem.layer())
