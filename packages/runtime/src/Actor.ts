/**
 * An actor's behaviour: its message protocol, how it builds its initial state, and how it handles one message.
 *
 * The handler returns what happens next (`Next.continueWith(state)` or a stop). Its failures are typed (`E`) and
 * end the incarnation with `Failed`; defects end it with `Died`. Both are handed to the supervisor.
 *
 * An actor can start children of its own from its `ActorContext` (`startChild`, `stopChild`, `children`, the
 * same verbs as a supervisor's): they live under its path (`/team/agent/child`) and are supervised with the
 * behaviour's `supervision` flags. Children belong to the incarnation that started them, as in OTP and Akka: when
 * it ends — the actor stops, crashes, or is restarted — they are stopped first (in reverse start order), and the
 * next incarnation starts with none (start them again in `init`). When the children's supervision gives up, the
 * incarnation ends with `Shutdown`, which the actor's own supervisor handles like any exit.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Actor, Next, ReplyTo } from "@troupe/runtime"
 *
 * const Counter = Actor.make({
 *   protocol: Schema.Union([
 *     Schema.TaggedStruct("Add", { n: Schema.Int }),
 *     Schema.TaggedStruct("Get", { replyTo: ReplyTo.schema<number>() })
 *   ]),
 *   init: () => Effect.succeed(0),
 *   receive: (count, message) =>
 *     message._tag === "Add"
 *       ? Effect.succeed(Next.continueWith(count + message.n))
 *       : Effect.as(ReplyTo.succeed(message.replyTo, count), Next.continueWith(count))
 * })
 * ```
 */
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as ActorRef from "./ActorRef.ts"
import type * as ExitReason from "./ExitReason.ts"
import type * as Next from "./Next.ts"
import * as Supervisor from "./Supervisor.ts"

/** The message an actor receives when an actor it watches stops for good. */
export interface Terminated {
  readonly _tag: "Terminated"
  readonly path: string
  readonly reason: ExitReason.ExitReason
}

/**
 * What a running actor can do besides handling its message: its own ref, death watch, and its children (the
 * `Supervisor.Children` verbs; they fail with `ActorStopped` once the incarnation has ended).
 */
export interface ActorContext<M> extends Supervisor.Children {
  /** This actor's own ref (valid across restarts). */
  readonly self: ActorRef.ActorRef<M>
  /** This actor's path. */
  readonly path: string
  /** How many times this actor has been started: 1 for the first incarnation. */
  readonly incarnation: number
  /**
   * Death watch: when `target` stops for good (not when it is restarted), this actor receives `map(terminated)`.
   * Watching an actor that has already stopped delivers at once.
   */
  readonly watch: (target: ActorRef.ActorRef<never>, map: (terminated: Terminated) => M) => Effect.Effect<void>
  /** Stops delivering `Terminated` for `target`. */
  readonly unwatch: (target: ActorRef.ActorRef<never>) => Effect.Effect<void>
}

/** An actor's behaviour. Build it with `make`. */
export interface Behavior<M, S, E = never, R = never> {
  /** The message protocol: a schema (usually a union of tagged structs) whose type is `M`. */
  readonly protocol: Schema.Schema<M>
  /** Builds the initial state. It runs again, from scratch, on every restart; starting the actor waits for it. */
  readonly init: (context: ActorContext<M>) => Effect.Effect<S, E, R>
  /** Handles one message. Messages are handled one at a time, in the order they were enqueued. */
  readonly receive: (state: S, message: M, context: ActorContext<M>) => Effect.Effect<Next.Next<S>, E, R>
  /** Mailbox capacity (messages), a positive integer. Default: 1,024. */
  readonly capacity: number
  /** How the children this actor starts from its context are supervised. Default: `Supervisor.flags()`. */
  readonly supervision: Supervisor.Flags
}

/** The mailbox capacity used when a behaviour does not say. */
export const defaultCapacity = 1024

/** Builds a behaviour from its protocol, initializer and handler. */
export const make = <M, S, E = never, R = never>(options: {
  readonly protocol: Schema.Schema<M>
  readonly init: (context: ActorContext<M>) => Effect.Effect<S, E, R>
  readonly receive: (state: S, message: M, context: ActorContext<M>) => Effect.Effect<Next.Next<S>, E, R>
  readonly capacity?: number | undefined
  readonly supervision?: Supervisor.FlagsOptions | undefined
}): Behavior<M, S, E, R> => ({
  protocol: options.protocol,
  init: options.init,
  receive: options.receive,
  capacity: options.capacity ?? defaultCapacity,
  supervision: Supervisor.flags(options.supervision)
})
