/**
 * What every node of an actor tree shares: the registry of paths, the lifecycle event hub, and the clock.
 * Internal: the public face is `ActorSystem`.
 */
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as PubSub from "effect/PubSub"
import type * as ExitReason from "../ExitReason.ts"
import type * as LifecycleEvent from "../LifecycleEvent.ts"

/** An actor or a supervisor, as its parent supervisor sees it. */
export interface Node {
  readonly path: string
  /** Who hears of its incarnations' endings: its supervisor, or the system for the root. */
  readonly parent: Parent
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

/** The last segment of a path: a child's id under its supervisor. */
export const nameOf = (path: string): string => path.slice(path.lastIndexOf("/") + 1)

/** Names are path segments: no slashes, not empty. */
export const isValidName = (name: string): boolean => name.length > 0 && !name.includes("/")

/**
 * The incarnations of an actor or a supervisor: each runs in a fiber of its own, and only the ending of the one
 * still live is reported; one the runtime halted ends unreported, so its exit is never taken for a crash.
 */
export abstract class Incarnated<E> {
  /** The number of the current (or last) incarnation. */
  incarnation = 0
  private fiber: Fiber.Fiber<ExitReason.ExitReason, E> | undefined = undefined
  /** The incarnation whose ending is reported; 0 once halted. */
  private live = 0

  /** `true` while an incarnation runs (not before the first start, nor after a halt). */
  protected get running(): boolean {
    return this.live !== 0
  }

  /** Called once an incarnation has ended; `reported` is false when the runtime halted it. */
  protected abstract ended(incarnation: number, exit: Exit.Exit<ExitReason.ExitReason, E>, reported: boolean): void

  /** Starts the next incarnation, running `run(incarnation)` with `context`. */
  protected launch(
    context: Context.Context<any>,
    run: (incarnation: number) => Effect.Effect<ExitReason.ExitReason, E, any>
  ) {
    const incarnation = ++this.incarnation
    this.live = incarnation
    const fiber = Effect.runForkWith(context)(run(incarnation))
    this.fiber = fiber
    fiber.addObserver((exit) => {
      const reported = this.live === incarnation
      if (reported) {
        this.live = 0
        this.fiber = undefined
      }
      this.ended(incarnation, exit, reported)
    })
  }

  /** Ends the current incarnation, unreported, and waits until its fiber has ended. */
  protected interruptIncarnation(): Effect.Effect<void> {
    const fiber = this.fiber
    this.live = 0
    this.fiber = undefined
    return fiber === undefined ? Effect.void : Fiber.interrupt(fiber)
  }
}
