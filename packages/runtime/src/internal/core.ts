/**
 * What every node of an actor tree shares: the registry of paths, the lifecycle event hub, the clock, the run
 * queue of actors with messages, and the ask timers. Internal: the public face is `ActorSystem`.
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as PubSub from "effect/PubSub"
import * as Scheduler from "effect/Scheduler"
import type * as ActorError from "../ActorError.ts"
import type * as ExitReason from "../ExitReason.ts"
import type * as LifecycleEvent from "../LifecycleEvent.ts"
import type * as Supervisor from "../Supervisor.ts"
import * as AskTimers from "./askTimers.ts"

/** An actor or a supervisor, as its parent supervisor sees it. */
export interface Node {
  readonly path: string
  /** Who hears of its incarnations' endings: its supervisor, or the system for the root. */
  readonly parent: Parent
  /** `true` once ended for good. */
  readonly isTerminated: () => boolean
  /** `true` while an incarnation runs: started (its `init` returned) and not ended or halted since. */
  readonly isRunning: () => boolean
  /**
   * Starts a new incarnation and waits until its `init` has returned (a supervisor: until its children have
   * started). On failure nothing of the incarnation is left running and the node can be started again.
   */
  readonly start: Effect.Effect<void, ActorError.ChildInitFailed>
  /** Ends the current incarnation without reporting it; the node can be started again (mailbox kept). */
  readonly halt: Effect.Effect<void>
  /** Halts, then ends for good: closes the mailbox, notifies watchers, leaves the registry. */
  readonly terminate: (reason: ExitReason.ExitReason) => Effect.Effect<void>
}

/** Receives the ending of a child's incarnation. */
export interface Parent {
  readonly childExited: (child: Node, reason: ExitReason.ExitReason) => void
}

/** The supervisor of the children an actor starts from its context: a node whose parent is the actor. */
export interface ChildSupervisor extends Node, Supervisor.Children {}

/** Makes (but does not start) the supervisor of an actor's children, at the actor's path. */
export type MakeChildSupervisor = (
  core: Core,
  actor: Parent & { readonly path: string },
  flags: Supervisor.Flags,
  context: Context.Context<any>
) => Effect.Effect<ChildSupervisor>

/** Something with messages to handle, run by the system's dispatcher. */
export interface Runnable {
  readonly runBurst: () => void
}

/** The state one actor system shares between its nodes. */
export class Core {
  readonly registry = new Map<string, Node>()
  readonly events: PubSub.PubSub<LifecycleEvent.LifecycleEvent>
  readonly clock: Clock.Clock
  /** The context actors run with when they do not bring their own (clock, metrics, tracer of the system). */
  readonly context: Context.Context<never>
  readonly timers: AskTimers.AskTimers
  /**
   * The fibers the runtime itself waits for when it halts actors and supervisors: bursts and control loops. Weak,
   * so that an ended fiber needs no bookkeeping.
   */
  readonly fibers = new WeakSet<Fiber.Fiber<unknown, unknown>>()
  readonly makeChildSupervisor: MakeChildSupervisor
  private readonly dispatcher: Scheduler.SchedulerDispatcher
  private ready: Array<Runnable> = []
  private flushing = false

  constructor(
    events: PubSub.PubSub<LifecycleEvent.LifecycleEvent>,
    clock: Clock.Clock,
    context: Context.Context<never>,
    makeChildSupervisor: MakeChildSupervisor
  ) {
    this.events = events
    this.makeChildSupervisor = makeChildSupervisor
    this.clock = clock
    this.context = context
    this.timers = new AskTimers.AskTimers(clock, context)
    this.dispatcher = Context.get(context, Scheduler.Scheduler).makeDispatcher()
  }

  /**
   * Runs `actor.runBurst` on a later turn of the scheduler. One task serves every actor that became ready
   * meanwhile, so many wake-ups cost one scheduled task.
   */
  schedule(actor: Runnable): void {
    this.ready.push(actor)
    if (this.flushing) return
    this.flushing = true
    this.dispatcher.scheduleTask(this.flush, 0)
  }

  private readonly flush = (): void => {
    const ready = this.ready
    this.ready = []
    this.flushing = false
    for (let i = 0; i < ready.length; i++) ready[i]!.runBurst()
  }
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

/**
 * Waits until `fiber` has ended, unless it is the calling fiber: a node that stops itself (or an ancestor) from
 * its own handler interrupts its own fiber, which ends once the caller's uninterruptible region is over.
 */
export const awaitEnd = (fiber: Fiber.Fiber<unknown, unknown> | undefined): Effect.Effect<void> =>
  fiber === undefined
    ? Effect.void
    : Effect.withFiber((current) =>
        current === fiber || fiber.pollUnsafe() !== undefined ? Effect.void : Effect.asVoid(Fiber.await(fiber))
      )

/**
 * Runs `effect` in a fiber of its own when called from a fiber the runtime waits for (an actor's handler, a
 * supervisor's loop). Stopping runs uninterruptibly and waits for the stopped actors' fibers; a handler stopping
 * its own supervisor, say, would otherwise wait for the supervisor while the supervisor waits for it.
 */
export const detached = <A, E>(core: Core, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) => (core.fibers.has(fiber) ? Effect.flatMap(Effect.forkDetach(effect), Fiber.join) : effect))

/**
 * A mutex that the fiber holding it may take again: a child's `init` runs while its supervisor's lock is held,
 * and may start a sibling through the same supervisor.
 */
export class Lock {
  private owner: Fiber.Fiber<unknown, unknown> | undefined = undefined
  private waiters: Array<{ readonly fiber: Fiber.Fiber<unknown, unknown>; readonly resume: () => void }> = []

  /** `true` when `fiber` holds the lock. */
  isHeldBy(fiber: Fiber.Fiber<unknown, unknown>): boolean {
    return this.owner === fiber
  }

  /** Runs `body` holding the lock; waiting for it can be interrupted, `body` keeps its own interruptibility. */
  with<A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.withFiber((fiber) => {
      if (this.owner === fiber) return body
      if (this.owner === undefined) {
        // Taken in the same step as the release is registered: nothing can interrupt in between.
        this.owner = fiber
        return Effect.onExit(body, this.releaseOnExit)
      }
      return Effect.uninterruptibleMask((restore) =>
        Effect.andThen(restore(this.acquire(fiber)), Effect.ensuring(restore(body), this.release))
      )
    })
  }

  private acquire(fiber: Fiber.Fiber<unknown, unknown>): Effect.Effect<void> {
    if (this.owner === undefined) {
      this.owner = fiber
      return Effect.void
    }
    return Effect.callback<void>((resume) => {
      const waiter = { fiber, resume: () => resume(Effect.void) }
      this.waiters.push(waiter)
      return Effect.sync(() => {
        const index = this.waiters.indexOf(waiter)
        if (index >= 0) this.waiters.splice(index, 1)
      })
    })
  }

  private readonly release = Effect.sync(() => {
    const next = this.waiters.shift()
    this.owner = next?.fiber
    next?.resume()
  })

  private readonly releaseOnExit = () => this.release
}
