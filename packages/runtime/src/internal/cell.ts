/**
 * The running side of one actor: its bounded mailbox (kept across restarts), its state, its watchers, and the ref
 * users hold. The cell *is* the ref, so an actor costs one object plus its mailbox.
 *
 * An actor runs in a fiber only while it has messages: a message arriving at an idle actor schedules a *burst*
 * (one fiber handling messages until the mailbox is empty), and the fiber ends with the burst. An idle actor holds
 * no fiber, which is what makes spawning, stopping and keeping thousands of idle actors cheap; messages are still
 * handled one at a time and in order, since a cell has at most one burst. `init` runs in the starting fiber, so
 * starting a child waits for it, as in OTP.
 */
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Schema from "effect/Schema"
import type * as Actor from "../Actor.ts"
import * as ActorError from "../ActorError.ts"
import type * as ActorRef from "../ActorRef.ts"
import * as ExitReason from "../ExitReason.ts"
import type * as Next from "../Next.ts"
import * as CellContext from "./cellContext.ts"
import * as CellRef from "./cellRef.ts"
import * as Core from "./core.ts"

type Item<M> = CellRef.Item<M>

/**
 * `Exit.isExit`, by prototype: the per-message check of the burst loop, where the property lookup of
 * `Exit.isExit` showed in profiles. An exit of another shape is taken for an effect, which is merely slower.
 */
const successPrototype = Object.getPrototypeOf(Exit.succeed(0))
const failurePrototype = Object.getPrototypeOf(Exit.fail(0))
const isExit = (effect: unknown): effect is Exit.Exit<unknown, unknown> => {
  const prototype = Object.getPrototypeOf(effect)
  return prototype === successPrototype || prototype === failurePrototype
}

/** How many messages a burst handles synchronously before it yields to other fibers. */
const fairnessBudget = 2048

type Watcher = (terminated: Actor.Terminated) => void

/** One actor: mailbox, incarnations, bursts, watchers. Implements the public `ActorRef`. */
export class ActorCell<M, S, E, R> extends CellRef.CellRef<M> implements Core.Node, Core.Parent, Core.Runnable {
  readonly parent: Core.Parent
  readonly behavior: Actor.Behavior<M, S, E, R>
  readonly context: Context.Context<R>
  incarnation = 0
  /** The incarnation handling messages; 0 before its `init` returned, after it ended, and once halted. */
  private live = 0
  private state: S | undefined = undefined
  /** The `ActorContext` of the current incarnation, from the start of its `init` until it ends. */
  current: CellContext.CellContext<M> | undefined = undefined
  /** A burst is scheduled or running. */
  private busy = false
  /** Messages taken from the mailbox together; those from `next` on are not handled yet (kept across restarts). */
  private batch: Array<Item<M>> | undefined = undefined
  private next = 0
  /** The message being handled. */
  private inFlight: Item<M> | undefined = undefined
  // Allocated on first use: most actors are never watched, and an idle actor should stay small.
  private watchers: Map<ActorCell<any, any, any, any>, Watcher> | undefined = undefined
  private watching: Set<ActorCell<any, any, any, any>> | undefined = undefined

  constructor(
    core: Core.Core,
    parent: Core.Parent,
    path: string,
    behavior: Actor.Behavior<M, S, E, R>,
    context: Context.Context<R>
  ) {
    super(core, path, behavior.capacity)
    this.parent = parent
    this.behavior = behavior
    this.context = context
  }

  get protocol(): Schema.Top {
    return this.behavior.protocol
  }

  isTerminated(): boolean {
    return this.terminated !== undefined
  }

  isRunning(): boolean {
    return this.live !== 0
  }

  // ---- bursts ---------------------------------------------------------------------------------------------

  private hasMessages(): boolean {
    return (this.batch !== undefined && this.next < this.batch.length) || this.mailbox.size > 0
  }

  /** Schedules a burst unless one is scheduled or running, or no incarnation takes messages. */
  protected wake(): void {
    if (this.live === 0 || this.busy) return
    this.busy = true
    this.core.schedule(this)
  }

  runBurst(): void {
    const incarnation = this.live
    if (incarnation === 0) {
      this.busy = false
      return
    }
    // A live incarnation always has its context.
    const fiber = Effect.runForkWith(this.context)(this.handleMessages(incarnation, this.current!))
    fiber.addObserver((exit) => this.burstEnded(incarnation, exit))
  }

  /** Handles messages until the mailbox is empty (`undefined`) or the incarnation ends (its reason). */
  private handleMessages(
    incarnation: number,
    context: CellContext.CellContext<M>
  ): Effect.Effect<ExitReason.ExitReason | undefined> {
    return Effect.withFiber((fiber) => {
      this.burst = fiber
      this.core.fibers.add(fiber)
      return this.drain(incarnation, context)
    })
  }

  /**
   * The burst's loop. Handlers that answer synchronously return an `Exit`, which is read on the spot; only an
   * asynchronous handler costs a trip through the fiber (a plain loop rather than a generator: measurably cheaper
   * per message).
   */
  private drain(
    incarnation: number,
    context: CellContext.CellContext<M>
  ): Effect.Effect<ExitReason.ExitReason | undefined> {
    for (let count = 0; ; count++) {
      // Synchronous handlers never give the fiber a chance to yield: leave room for others now and then.
      if (count === fairnessBudget) return Effect.flatMap(Effect.yieldNow, () => this.drain(incarnation, context))
      let item: Item<M>
      if (this.batch !== undefined && this.next < this.batch.length) {
        item = this.batch[this.next++]!
      } else {
        if (this.mailbox.size === 0) {
          this.batch = undefined
          return Effect.succeed(undefined)
        }
        this.batch = this.mailbox.takeAll()
        this.next = 1
        item = this.batch[0]!
      }
      this.inFlight = item
      const message = item instanceof CellRef.AskEnvelope ? (item.message as M) : item
      const handled = this.behavior.receive(this.state as S, message, context) as Effect.Effect<Next.Next<S>, E>
      if (!isExit(handled)) {
        return Effect.flatMap(Effect.exit(handled), (exit) => {
          if (this.live !== incarnation) return Effect.succeed(undefined)
          const reason = this.handled(item, exit)
          return reason === undefined ? this.drain(incarnation, context) : this.end(incarnation, context, reason)
        })
      }
      const reason = this.handled(item, handled as Exit.Exit<Next.Next<S>, E>)
      if (reason !== undefined) return this.end(incarnation, context, reason)
    }
  }

  /** Takes the outcome of one message: `undefined` to go on with the next one, or why the incarnation ends. */
  private handled(item: Item<M>, exit: Exit.Exit<Next.Next<S>, E>): ExitReason.ExitReason | undefined {
    if (Exit.isFailure(exit)) return ExitReason.fromCause(exit.cause)
    const next = exit.value
    if (next._tag === "Stop") return next.reason
    this.state = next.state
    this.inFlight = undefined
    if (item instanceof CellRef.AskEnvelope) this.core.timers.cancel(item)
    // Last: the asker resumes right here, and may send the next request at once.
    if (next.reply !== undefined) Deferred.doneUnsafe(next.reply.to.deferred, next.reply.exit)
    return undefined
  }

  /** The incarnation ends: its children are stopped before its supervisor hears of it. */
  private end(
    incarnation: number,
    context: CellContext.CellContext<M>,
    reason: ExitReason.ExitReason
  ): Effect.Effect<ExitReason.ExitReason | undefined> {
    return Effect.map(CellContext.stopChildren(context), () => (this.live === incarnation ? reason : undefined))
  }

  private burstEnded(incarnation: number, exit: Exit.Exit<ExitReason.ExitReason | undefined>): void {
    this.burst = undefined
    this.busy = false
    if (this.live !== incarnation) {
      // Halted by the runtime (a stop, or a sibling's restart): the message being handled is abandoned.
      this.abandonInFlight()
      return
    }
    const reason = Exit.isSuccess(exit) ? exit.value : ExitReason.fromCause(exit.cause)
    if (reason === undefined) {
      if (this.hasMessages()) this.wake()
      return
    }
    this.ended(reason)
  }

  private abandonInFlight(): void {
    const inFlight = this.inFlight
    this.inFlight = undefined
    if (inFlight !== undefined) this.abandon(inFlight, "interrupted")
  }

  /** The incarnation ended by itself (or its children's supervision gave up): tell the supervisor. */
  private ended(reason: ExitReason.ExitReason): void {
    this.live = 0
    this.state = undefined
    this.current = undefined
    const inFlight = this.inFlight
    this.inFlight = undefined
    if (inFlight instanceof CellRef.AskEnvelope) {
      this.core.timers.cancel(inFlight)
      // A handler that stops without replying answers with ActorStopped; one that fails, with ActorCrashed.
      const error = ExitReason.isAbnormal(reason)
        ? new ActorError.ActorCrashed({ path: this.path, reason: ExitReason.format(reason) })
        : new ActorError.ActorStopped({ path: this.path })
      Deferred.doneUnsafe(inFlight.deferred, Exit.fail(error))
    }
    this.parent.childExited(this, reason)
  }

  // ---- Node -----------------------------------------------------------------------------------------------

  get start(): Effect.Effect<void, ActorError.ChildInitFailed> {
    return Effect.suspend(() => {
      if (this.terminated !== undefined) {
        return Effect.fail(new ActorError.ChildInitFailed({ path: this.path, reason: this.terminated }))
      }
      const context = new CellContext.CellContext(this, ++this.incarnation)
      this.current = context
      const init = this.behavior.init(context)
      if (Exit.isExit(init)) return this.initialized(context, init as Exit.Exit<S, E>)
      return Effect.flatMap(Effect.exit(Effect.provideContext(init, this.context)), (exit) =>
        this.initialized(context, exit)
      )
    })
  }

  private initialized(
    context: CellContext.CellContext<M>,
    exit: Exit.Exit<S, E>
  ): Effect.Effect<void, ActorError.ChildInitFailed> {
    const reason = this.initFailure(context, exit)
    if (reason === undefined) {
      this.state = (exit as Exit.Success<S>).value
      this.live = context.incarnation
      Core.emit(this.core, {
        _tag: "ActorStarted",
        path: this.path,
        incarnation: context.incarnation,
        at: Core.now(this.core)
      })
      if (this.hasMessages()) this.wake()
      return Effect.void
    }
    if (this.current === context) this.current = undefined
    return Effect.andThen(
      CellContext.stopChildren(context),
      Effect.fail(new ActorError.ChildInitFailed({ path: this.path, reason }))
    )
  }

  /** Why the incarnation whose `init` just returned cannot go on, if it cannot. */
  private initFailure(context: CellContext.CellContext<M>, exit: Exit.Exit<S, E>): ExitReason.ExitReason | undefined {
    if (this.current !== context) return ExitReason.shutdown
    if (Exit.isFailure(exit)) return ExitReason.fromCause(exit.cause)
    // The children it started have already failed past their supervision's tolerance.
    if (context.supervisor !== undefined && !context.supervisor.isRunning()) {
      return ExitReason.shutdownWith("its children's supervision gave up during init")
    }
    return undefined
  }

  get halt(): Effect.Effect<void> {
    return Effect.suspend(() => this.haltNow() ?? Effect.void)
  }

  /**
   * Ends the current incarnation; what is left to wait for (a running burst, children), or `undefined` when it
   * is over already, which is the common case of an idle actor without children.
   */
  private haltNow(): Effect.Effect<void> | undefined {
    const context = this.current
    const burst = this.burst
    this.live = 0
    this.state = undefined
    this.current = undefined
    if (burst === undefined && context?.supervisor === undefined) return undefined
    burst?.interruptUnsafe()
    // The burst's end abandons the message it was handling.
    return Effect.andThen(Core.awaitEnd(burst), CellContext.stopChildren(context))
  }

  terminate(reason: ExitReason.ExitReason): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.terminated !== undefined) return Effect.void
      const halting = this.haltNow()
      if (halting === undefined) {
        this.close(reason)
        return Effect.void
      }
      return Effect.andThen(
        halting,
        Effect.sync(() => this.close(reason))
      )
    })
  }

  /** Ends the actor for good: refuses new messages, answers pending asks, notifies watchers. */
  private close(reason: ExitReason.ExitReason): void {
    if (this.terminated !== undefined) return
    this.terminated = reason
    if (this.core.registry.get(this.path) === this) this.core.registry.delete(this.path)
    const batch = this.batch
    if (batch !== undefined) for (let i = this.next; i < batch.length; i++) this.abandon(batch[i]!, "stopped")
    this.batch = undefined
    // Closing releases senders waiting for room and hands their messages over: every one is answered or reported.
    for (const item of this.mailbox.close()) this.abandon(item, "stopped")
    if (this.watching !== undefined) for (const target of this.watching) target.watchers?.delete(this)
    this.watching = undefined
    const terminated: Actor.Terminated = { _tag: "Terminated", path: this.path, reason }
    if (this.watchers !== undefined) for (const deliver of this.watchers.values()) deliver(terminated)
    this.watchers = undefined
    Core.emit(this.core, { _tag: "ActorTerminated", path: this.path, reason, at: Core.now(this.core) })
  }

  // ---- Parent of the children started from its context ------------------------------------------------------

  childExited(child: Core.Node, reason: ExitReason.ExitReason): void {
    // Only the children's supervisor reports here, and only when it gave up.
    const context = this.current
    if (context?.supervisor === child) Effect.runForkWith(this.core.context)(this.endWith(context, reason))
  }

  private endWith(context: CellContext.CellContext<M>, reason: ExitReason.ExitReason): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.live !== context.incarnation) return Effect.void
      const burst = this.burst
      this.live = 0
      burst?.interruptUnsafe()
      return Effect.andThen(
        Core.awaitEnd(burst),
        Effect.andThen(
          CellContext.stopChildren(context),
          Effect.sync(() => this.ended(reason))
        )
      )
    })
  }

  // ---- death watch ----------------------------------------------------------------------------------------

  /** Delivers a system message (e.g. `Terminated`) without blocking the caller. */
  private deliver(message: M): void {
    if (this.terminated !== undefined) return
    if (this.mailbox.offer(message)) {
      this.wake()
      return
    }
    Effect.runForkWith(this.core.context)(this.tell(message))
  }

  /** Death watch, see `ActorContext.watch`. */
  watchUnsafe(target: ActorRef.ActorRef<never>, map: (terminated: Actor.Terminated) => M): void {
    if (!isCell(target)) return
    const cell = target
    if (cell.terminated !== undefined) {
      this.deliver(map({ _tag: "Terminated", path: cell.path, reason: cell.terminated }))
      return
    }
    cell.watchers ??= new Map()
    cell.watchers.set(this, (terminated) => this.deliver(map(terminated)))
    this.watching ??= new Set()
    this.watching.add(cell)
  }

  /** See `ActorContext.unwatch`. */
  unwatchUnsafe(target: ActorRef.ActorRef<never>): void {
    if (!isCell(target)) return
    target.watchers?.delete(this)
    this.watching?.delete(target)
  }
}

/** Creates an actor cell with a fresh mailbox of the behaviour's capacity. */
export const make = <M, S, E, R>(
  core: Core.Core,
  parent: Core.Parent,
  path: string,
  behavior: Actor.Behavior<M, S, E, R>,
  context: Context.Context<R>
): ActorCell<M, S, E, R> => new ActorCell(core, parent, path, behavior, context)

/** `true` when `ref` is a local actor of this runtime. */
export const isCell = (ref: unknown): ref is ActorCell<any, any, any, any> => ref instanceof ActorCell
