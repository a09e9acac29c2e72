/**
 * What every node of an actor tree shares: the registry of paths, the lifecycle event hub, and the clock.
 * Internal: the public face is `ActorSystem`.
 */
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import type * as ExitReason from "../ExitReason.ts"
import type * as LifecycleEvent from "../LifecycleEvent.ts"

/** An actor or a supervisor, as its parent supervisor sees it. */
export interface Node {
  readonly path: string
  /** The number of the current (or last) incarnation; exits of older ones are stale. */
  readonly incarnation: number
  /** `true` once ended for good. */
  readonly isTerminated: () => boolean
  /** Starts a new incarnation; its own ending (not a halt) is reported to the parent. */
  readonly start: Effect.Effect<void>
  /** Ends the current incarnation without reporting it; the node can be started again (mailbox kept). */
  readonly halt: Effect.Effect<void>
  /** Halts, then ends for good: closes the mailbox, notifies watchers, leaves the registry. */
  readonly terminate: (reason: ExitReason.ExitReason) => Effect.Effect<void>
}

/** Receives the ending of a child's incarnation. */
export interface Parent {
  readonly childExited: (child: Node, incarnation: number, reason: ExitReason.ExitReason) => void
}

/** The state one actor system shares between its nodes. */
export interface Core {
  readonly registry: Map<string, Node>
  readonly events: PubSub.PubSub<LifecycleEvent.LifecycleEvent>
  readonly clock: Clock.Clock
  /** The context actors run with when they do not bring their own (clock, metrics, tracer of the system). */
  readonly context: Context.Context<never>
}

/** Publishes a lifecycle event without waiting (the hub is unbounded). */
export const emit = (core: Core, event: LifecycleEvent.LifecycleEvent): void => {
  PubSub.publishUnsafe(core.events, event)
}

/** The current time in milliseconds, from the system's clock (a `TestClock` in tests). */
export const now = (core: Core): number => core.clock.currentTimeMillisUnsafe()

/** Joins a parent path and a child name. */
export const childPath = (parent: string, name: string): string => (parent === "/" ? `/${name}` : `${parent}/${name}`)

/** Names are path segments: no slashes, not empty. */
export const isValidName = (name: string): boolean => name.length > 0 && !name.includes("/")
