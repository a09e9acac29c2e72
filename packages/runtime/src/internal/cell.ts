/**
 * The running side of one actor: its bounded mailbox (kept across restarts), its state, its watchers, and the ref
 * users hold. The cell *is* the ref, so an actor costs one object plus its queue.
 *
 * An actor runs in a fiber only while it has messages: a message arriving at an idle actor schedules a *burst*
 * (one fiber handling messages until the mailbox is empty), and the fiber ends with the burst. An idle actor holds
 * no fiber, which is what makes spawning, stopping and keeping thousands of idle actors cheap; messages are still
 * handled one at a time and in order, since a cell has at most one burst. `init` runs in the starting fiber, so
 * starting a child waits for it, as in OTP.
 */
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type * as Actor from "../Actor.ts"
import * as ActorError from "../ActorError.ts"
import * as ActorRef from "../ActorRef.ts"
import * as ExitReason from "../ExitReason.ts"
import type * as Next from "../Next.ts"
import * as ReplyTo from "../ReplyTo.ts"
import type * as AskTimers from "./askTimers.ts"
import * as CellContext from "./cellContext.ts"
import * as Core from "./core.ts"

/** A request in the mailbox: the message, and the deferred its asker waits on (until `deadline`). */
class AskEnvelope implements AskTimers.Pending {
  readonly message: unknown
  readonly reply: Deferred.Deferred<unknown, unknown>
  readonly path: string
  readonly timeoutMillis: number
  readonly deadline: number
  constructor(
    message: unknown,
    reply: Deferred.Deferred<unknown, unknown>,
    path: string,
    timeoutMillis: number,
    deadline: number
  ) {
    this.message = message
    this.reply = reply
    this.path = path
    this.timeoutMillis = timeoutMillis
    this.deadline = deadline
  }
}

type Item<M> = M | AskEnvelope
type Watcher = (terminated: Actor.Terminated) => void
type Cause = "mailbox-full" | "stopped" | "interrupted"

const defaultTimeoutMillis = Duration.toMillis(ActorRef.defaultAskTimeout)

/** One actor: mailbox, incarnations, bursts, watchers. Implements the public `ActorRef`. */
export class ActorCell<M, S, E, R> implements ActorRef.ActorRef<M>, Core.Node, Core.Parent, Core.Runnable {
  readonly path: string
  readonly core: Core.Core
  readonly parent: Core.Parent
  readonly behavior: Actor.Behavior<M, S, E, R>
  readonly context: Context.Context<R>
  readonly mailbox: Queue.Queue<Item<M>>
  incarnation = 0
  /** The incarnation handling messages; 0 before its `init` returned, after it ended, and once halted. */
  private live = 0
  private state: S | undefined = undefined
  /** The `ActorContext` of the current incarnation, from the start of its `init` until it ends. */
  current: CellContext.CellContext<M> | undefined = undefined
  /** The fiber of the running burst. */
  private burst: Fiber.Fiber<unknown, unknown> | undefined = undefined
  /** A burst is scheduled or running. */
  private busy = false
  /** Messages taken from the mailbox together; those from `next` on are not handled yet (kept across restarts). */
  private batch: Array<Item<M>> | undefined = undefined
  private next = 0
  /** The message being handled. */
  private inFlight: Item<M> | undefined = undefined
  private terminated: ExitReason.ExitReason | undefined = undefined
  // Allocated on first use: most actors are never watched, and an idle actor should stay small.
  private watchers: Map<ActorCell<any, any, any, any>, Watcher> | undefined = undefined
  private watching: Set<ActorCell<any, any, any, any>> | undefined = undefined

  constructor(
    core: Core.Core,
    parent: Core.Parent,
    path: string,
    behavior: Actor.Behavior<M, S, E, R>,
    context: Context.Context<R>,
    mailbox: Queue.Queue<Item<M>>
  ) {
    this.core = core
    this.parent = parent
    this.path = path
    this.behavior = behavior
    this.context = context
    this.mailbox = mailbox
  }

  get protocol(): Schema.Top {
    return this.behavior.protocol
  }

  isTerminated(): boolean {
    return this.terminated !== undefined
  }

  // ---- ActorRef -------------------------------------------------------------------------------------------

  tell(message: M): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (Queue.offerUnsafe(this.mailbox, message)) {
        this.wake()
        return Effect.void
      }
      if (this.terminated !== undefined) return this.deadLetter
      return Effect.withFiber((fiber) => {
        // The actor's own handler waiting for room in its own mailbox would wait for ever.
        if (fiber === this.burst) return Effect.sync(() => this.dropped("mailbox-full"))
        return Effect.map(Queue.offer(this.mailbox, message), (ok) => (ok ? this.wake() : this.dropped("stopped")))
      })
    })
  }

  tellAll(messages: Iterable<M>): Effect.Effect<void> {
    return Effect.suspend(() => {
      const rest = Queue.offerAllUnsafe(this.mailbox, messages)
      this.wake()
      if (rest.length === 0) return Effect.void
      if (this.terminated !== undefined) return Effect.sync(() => this.droppedAll(rest, "stopped"))
      return Effect.withFiber((fiber) => {
        if (fiber === this.burst) return Effect.sync(() => this.droppedAll(rest, "mailbox-full"))
        return Effect.map(Queue.offerAll(this.mailbox, rest), (left) => {
          this.wake()
          this.droppedAll(left, "stopped")
        })
      })
    })
  }

  tellNow(message: M): Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped> {
    return Effect.suspend((): Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped> => {
      if (Queue.offerUnsafe(this.mailbox, message)) {
        this.wake()
        return Effect.void
      }
      if (this.terminated !== undefined) {
        return Effect.andThen(this.deadLetter, Effect.fail(new ActorError.ActorStopped({ path: this.path })))
      }
      this.dropped("mailbox-full")
      return Effect.fail(new ActorError.MailboxFull({ path: this.path, capacity: this.behavior.capacity }))
    })
  }

  tellUnknown(input: unknown): Effect.Effect<void, ActorError.InvalidMessage> {
    return Schema.decodeUnknownEffect(this.behavior.protocol as Schema.Codec<M, unknown>)(input).pipe(
      Effect.mapError((error) => new ActorError.InvalidMessage({ path: this.path, issue: String(error.issue) })),
      Effect.flatMap((message) => this.tell(message))
    )
  }

  ask<A, E2 = never>(
    make: (replyTo: ReplyTo.ReplyTo<A, E2>) => M,
    options?: ActorRef.AskOptions
  ): Effect.Effect<A, E2 | ActorError.AskError> {
    return Effect.suspend(() => {
      if (this.terminated !== undefined) return Effect.fail(new ActorError.ActorStopped({ path: this.path }))
      const replyTo = ReplyTo.makeUnsafe<A, E2>()
      // The asker also waits for the runtime's own failures (crash, stop, timeout), so the deferred is widened.
      const reply = replyTo.deferred as unknown as Deferred.Deferred<A, E2 | ActorError.AskError>
      const timeoutMillis = options?.timeout === undefined ? defaultTimeoutMillis : toMillis(options.timeout)
      const envelope = new AskEnvelope(
        make(replyTo),
        reply as Deferred.Deferred<unknown, unknown>,
        this.path,
        timeoutMillis,
        this.core.timers.deadline(timeoutMillis)
      )
      if (Queue.offerUnsafe(this.mailbox, envelope)) {
        this.core.timers.add(envelope)
        this.wake()
        return Deferred.await(reply)
      }
      // A full mailbox: rare enough for the plain race, which also bounds the wait for room.
      return Queue.offer(this.mailbox, envelope).pipe(
        Effect.flatMap((ok) => {
          if (!ok) return Effect.fail(new ActorError.ActorStopped({ path: this.path }))
          this.wake()
          return Deferred.await(reply)
        }),
        Effect.timeoutOrElse({
          duration: timeoutMillis,
          orElse: () => Effect.fail(new ActorError.AskTimeout({ path: this.path, timeoutMillis }))
        })
      )
    })
  }

  /** Reports a message that will not be handled. */
  private dropped(cause: Cause): void {
    Core.emit(this.core, { _tag: "MessageDropped", path: this.path, cause, at: Core.now(this.core) })
  }

  private droppedAll(messages: ReadonlyArray<unknown>, cause: Cause): void {
    for (let i = 0; i < messages.length; i++) this.dropped(cause)
  }

  private get deadLetter(): Effect.Effect<void> {
    return Effect.sync(() => this.dropped("stopped"))
  }

  /** Answers or reports an item that will not be handled, because the actor stopped or was halted. */
  private abandon(item: Item<M>, cause: "stopped" | "interrupted"): void {
    if (item instanceof AskEnvelope) {
      this.core.timers.cancel(item)
      Deferred.doneUnsafe(item.reply, Exit.fail(new ActorError.ActorStopped({ path: this.path })))
    } else {
      this.dropped(cause)
    }
  }

  // ---- bursts ---------------------------------------------------------------------------------------------

  private hasMessages(): boolean {
    return (this.batch !== undefined && this.next < this.batch.length) || Queue.sizeUnsafe(this.mailbox) > 0
  }

  /** Schedules a burst unless one is scheduled or running, or no incarnation takes messages. */
  private wake(): void {
    if (this.live === 0 || this.busy) return
    this.busy = true
    this.core.schedule(this)
  }

  runBurst(): void {
    const incarnation = this.live
    if (incarnation === 0 || this.current === undefined) {
      this.busy = false
      return
    }
    const fiber = Effect.runForkWith(this.context)(this.handleMessages(incarnation, this.current))
    fiber.addObserver((exit) => {
      this.core.fibers.delete(fiber)
      this.burstEnded(incarnation, exit)
    })
  }

  /** Handles messages until the mailbox is empty (`undefined`) or the incarnation ends (its reason). */
  private handleMessages(
    incarnation: number,
    context: CellContext.CellContext<M>
  ): Effect.Effect<ExitReason.ExitReason | undefined> {
    return Effect.gen({ self: this }, function* () {
      this.burst = yield* Effect.fiber
      this.core.fibers.add(this.burst)
      while (true) {
        let item: Item<M>
        if (this.batch !== undefined && this.next < this.batch.length) {
          item = this.batch[this.next++]!
        } else {
          if (Queue.sizeUnsafe(this.mailbox) === 0) {
            this.batch = undefined
            return undefined
          }
          this.batch = yield* Queue.takeAll(this.mailbox)
          this.next = 1
          item = this.batch[0]!
        }
        this.inFlight = item
        const message = item instanceof AskEnvelope ? (item.message as M) : item
        let exit = this.behavior.receive(this.state as S, message, context) as Effect.Effect<Next.Next<S>, E>
        // Handlers that answer synchronously return an `Exit`: read it without a trip through the fiber.
        if (!Exit.isExit(exit)) {
          exit = yield* Effect.exit(exit)
          if (this.live !== incarnation) return undefined
        }
        const reason = outcome(exit as Exit.Exit<Next.Next<S>, E>)
        if (reason === undefined) {
          this.state = ((exit as Exit.Success<Next.Next<S>>).value as Next.Continue<S>).state
          this.inFlight = undefined
          if (item instanceof AskEnvelope) this.core.timers.cancel(item)
          continue
        }
        // The incarnation ends: its children are stopped before its supervisor hears of it.
        yield* CellContext.stopChildren(context)
        return this.live === incarnation ? reason : undefined
      }
    })
  }

  private burstEnded(incarnation: number, exit: Exit.Exit<ExitReason.ExitReason | undefined>): void {
    this.burst = undefined
    this.busy = false
    if (this.live !== incarnation) {
      // Halted by the runtime (a stop, or a sibling's restart): the message being handled is abandoned.
      this.abandonInFlight("interrupted")
      return
    }
    const reason = Exit.isSuccess(exit) ? exit.value : ExitReason.fromCause(exit.cause)
    if (reason === undefined) {
      if (this.hasMessages()) this.wake()
      return
    }
    this.ended(incarnation, reason)
  }

  private abandonInFlight(cause: "stopped" | "interrupted"): void {
    const inFlight = this.inFlight
    this.inFlight = undefined
    if (inFlight !== undefined) this.abandon(inFlight, cause)
  }

  /** The incarnation ended by itself (or its children's supervision gave up): tell the supervisor. */
  private ended(incarnation: number, reason: ExitReason.ExitReason): void {
    this.live = 0
    this.state = undefined
    this.current = undefined
    const inFlight = this.inFlight
    this.inFlight = undefined
    if (inFlight instanceof AskEnvelope) {
      this.core.timers.cancel(inFlight)
      // A handler that stops without replying answers with ActorStopped; one that fails, with ActorCrashed.
      const error = ExitReason.isAbnormal(reason)
        ? new ActorError.ActorCrashed({ path: this.path, reason: ExitReason.format(reason) })
        : new ActorError.ActorStopped({ path: this.path })
      Deferred.doneUnsafe(inFlight.reply, Exit.fail(error))
    }
    this.parent.childExited(this, incarnation, reason)
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
    if (this.current === context && Exit.isSuccess(exit)) {
      this.state = exit.value
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
    const reason =
      this.current !== context ? ExitReason.shutdown : ExitReason.fromCause((exit as Exit.Failure<S, E>).cause)
    if (this.current === context) this.current = undefined
    return Effect.andThen(
      CellContext.stopChildren(context),
      Effect.fail(new ActorError.ChildInitFailed({ path: this.path, reason }))
    )
  }

  get halt(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const context = this.current
      const burst = this.burst
      this.live = 0
      this.state = undefined
      this.current = undefined
      burst?.interruptUnsafe()
      return Effect.andThen(
        Core.awaitEnd(burst),
        Effect.andThen(
          CellContext.stopChildren(context),
          Effect.sync(() => this.abandonInFlight("interrupted"))
        )
      )
    })
  }

  terminate(reason: ExitReason.ExitReason): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.terminated !== undefined
        ? Effect.void
        : Effect.andThen(
            this.halt,
            Effect.sync(() => this.close(reason))
          )
    )
  }

  /** Ends the actor for good: refuses new messages, answers pending asks, notifies watchers. */
  private close(reason: ExitReason.ExitReason): void {
    if (this.terminated !== undefined) return
    this.terminated = reason
    if (this.core.registry.get(this.path) === this) this.core.registry.delete(this.path)
    const batch = this.batch
    if (batch !== undefined) for (let i = this.next; i < batch.length; i++) this.abandon(batch[i]!, "stopped")
    this.batch = undefined
    // Taking releases senders waiting for room, so this drains them too; every one is answered or reported.
    for (let taken = Queue.takeUnsafe(this.mailbox); taken !== undefined; taken = Queue.takeUnsafe(this.mailbox)) {
      if (!Exit.isSuccess(taken)) break
      this.abandon(taken.value, "stopped")
    }
    Queue.shutdownUnsafe(this.mailbox)
    if (this.watching !== undefined) for (const target of this.watching) target.watchers?.delete(this)
    this.watching = undefined
    const terminated: Actor.Terminated = { _tag: "Terminated", path: this.path, reason }
    if (this.watchers !== undefined) for (const deliver of this.watchers.values()) deliver(terminated)
    this.watchers = undefined
    Core.emit(this.core, { _tag: "ActorTerminated", path: this.path, reason, at: Core.now(this.core) })
  }

  // ---- Parent of the children started from its context ------------------------------------------------------

  childExited(child: Core.Node, _incarnation: number, reason: ExitReason.ExitReason): void {
    // Only the children's supervisor reports here, and only when it gave up.
    const context = this.current
    if (context === undefined || context.supervisor !== child || this.live !== context.incarnation) return
    Effect.runForkWith(this.core.context)(this.endWith(context, reason))
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
          Effect.sync(() => this.ended(context.incarnation, reason))
        )
      )
    })
  }

  // ---- death watch ----------------------------------------------------------------------------------------

  /** Delivers a system message (e.g. `Terminated`) without blocking the caller. */
  private deliver(message: M): void {
    if (this.terminated !== undefined) return
    if (Queue.offerUnsafe(this.mailbox, message)) {
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

/** `undefined` to go on with the next message, or why the incarnation ends. */
const outcome = <S, E>(exit: Exit.Exit<Next.Next<S>, E>): ExitReason.ExitReason | undefined => {
  if (Exit.isFailure(exit)) return ExitReason.fromCause(exit.cause)
  return exit.value._tag === "Continue" ? undefined : exit.value.reason
}

const toMillis = (input: Duration.Input): number =>
  typeof input === "number"
    ? input
    : Duration.toMillis(Option.getOrElse(Duration.fromInput(input), () => ActorRef.defaultAskTimeout))

/** Creates an actor cell with a fresh mailbox of the behaviour's capacity. */
export const make = <M, S, E, R>(
  core: Core.Core,
  parent: Core.Parent,
  path: string,
  behavior: Actor.Behavior<M, S, E, R>,
  context: Context.Context<R>
): Effect.Effect<ActorCell<M, S, E, R>> =>
  Effect.map(
    Queue.bounded<Item<M>>(behavior.capacity),
    (mailbox) => new ActorCell(core, parent, path, behavior, context, mailbox)
  )

/** `true` when `ref` is a local actor of this runtime. */
export const isCell = (ref: unknown): ref is ActorCell<any, any, any, any> => ref instanceof ActorCell
