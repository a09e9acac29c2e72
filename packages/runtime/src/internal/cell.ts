/**
 * The running side of one actor: its bounded mailbox (kept across restarts), its current incarnation's fiber,
 * its watchers, and the ref users hold. The cell *is* the ref, so an actor costs one object plus its queue.
 */
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type * as Actor from "../Actor.ts"
import * as ActorError from "../ActorError.ts"
import * as ActorRef from "../ActorRef.ts"
import * as ExitReason from "../ExitReason.ts"
import * as ReplyTo from "../ReplyTo.ts"
import * as Core from "./core.ts"

/** A request in the mailbox: the message, and the deferred its asker waits on. */
class AskEnvelope {
  readonly message: unknown
  readonly reply: Deferred.Deferred<unknown, unknown>
  constructor(message: unknown, reply: Deferred.Deferred<unknown, unknown>) {
    this.message = message
    this.reply = reply
  }
}

type Watcher = (terminated: Actor.Terminated) => void

/** One actor: mailbox, incarnations, watchers. Implements the public `ActorRef`. */
export class ActorCell<M, S, E, R> extends Core.Incarnated<E> implements ActorRef.ActorRef<M>, Core.Node {
  readonly path: string
  readonly core: Core.Core
  readonly parent: Core.Parent
  readonly behavior: Actor.Behavior<M, S, E, R>
  readonly context: Context.Context<R>
  readonly mailbox: Queue.Queue<M | AskEnvelope>
  /** The message being handled: taken from the mailbox, its handler not yet finished. */
  private inFlight: M | AskEnvelope | undefined = undefined
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
    mailbox: Queue.Queue<M | AskEnvelope>
  ) {
    super()
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
      if (Queue.offerUnsafe(this.mailbox, message)) return Effect.void
      if (this.terminated !== undefined) return this.deadLetter
      return Effect.flatMap(Queue.offer(this.mailbox, message), (ok) => (ok ? Effect.void : this.deadLetter))
    })
  }

  tellNow(message: M): Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped> {
    return Effect.suspend((): Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped> => {
      if (Queue.offerUnsafe(this.mailbox, message)) return Effect.void
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
      // The asker also waits for the runtime's own failures (crash, stop), so the deferred is widened here.
      const reply = replyTo.deferred as unknown as Deferred.Deferred<A, E2 | ActorError.AskError>
      const envelope = new AskEnvelope(make(replyTo), reply as Deferred.Deferred<unknown, unknown>)
      const timeout = Duration.fromInputUnsafe(options?.timeout ?? ActorRef.defaultAskTimeout)
      return Queue.offer(this.mailbox, envelope).pipe(
        Effect.flatMap((ok) =>
          ok ? Deferred.await(reply) : Effect.fail(new ActorError.ActorStopped({ path: this.path }))
        ),
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () =>
            Effect.fail(new ActorError.AskTimeout({ path: this.path, timeoutMillis: Duration.toMillis(timeout) }))
        })
      )
    })
  }

  /** Reports a message that will not be handled. */
  private dropped(cause: "mailbox-full" | "stopped" | "interrupted"): void {
    Core.emit(this.core, { _tag: "MessageDropped", path: this.path, cause, at: Core.now(this.core) })
  }

  private get deadLetter(): Effect.Effect<void> {
    return Effect.sync(() => this.dropped("stopped"))
  }

  // ---- Node -----------------------------------------------------------------------------------------------

  get start(): Effect.Effect<void> {
    return Effect.sync(() => {
      if (this.terminated === undefined) this.launch(this.context, (incarnation) => this.run(incarnation))
    })
  }

  get halt(): Effect.Effect<void> {
    return Effect.suspend(() => this.interruptIncarnation())
  }

  terminate(reason: ExitReason.ExitReason): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.terminated !== undefined) return Effect.void
      return Effect.andThen(
        this.halt,
        Effect.sync(() => this.close(reason))
      )
    })
  }

  /** Ends the actor for good: refuses new messages, answers pending asks, notifies watchers. */
  private close(reason: ExitReason.ExitReason): void {
    this.terminated = reason
    if (this.core.registry.get(this.path) === this) this.core.registry.delete(this.path)
    // Taking releases senders waiting for room, so this drains them too; every one is answered or reported.
    for (let taken = Queue.takeUnsafe(this.mailbox); taken !== undefined; taken = Queue.takeUnsafe(this.mailbox)) {
      if (!Exit.isSuccess(taken)) break
      const item = taken.value
      if (item instanceof AskEnvelope) {
        Deferred.doneUnsafe(item.reply, Exit.fail(new ActorError.ActorStopped({ path: this.path })))
      } else {
        this.dropped("stopped")
      }
    }
    Queue.shutdownUnsafe(this.mailbox)
    if (this.watching !== undefined) for (const target of this.watching) target.watchers?.delete(this)
    this.watching = undefined
    const terminated: Actor.Terminated = { _tag: "Terminated", path: this.path, reason }
    if (this.watchers !== undefined) for (const deliver of this.watchers.values()) deliver(terminated)
    this.watchers = undefined
    Core.emit(this.core, { _tag: "Stopped", path: this.path, reason, at: Core.now(this.core) })
  }

  /** Delivers a system message (e.g. `Terminated`) without blocking the caller. */
  private deliver(message: M): void {
    if (this.terminated !== undefined || Queue.offerUnsafe(this.mailbox, message)) return
    Effect.runForkWith(this.core.context)(this.tell(message))
  }

  protected ended(incarnation: number, exit: Exit.Exit<ExitReason.ExitReason, E>, reported: boolean): void {
    const inFlight = this.inFlight
    this.inFlight = undefined
    if (!reported) {
      // Halted by the runtime (a stop, or a sibling's restart): the message being handled is abandoned.
      if (inFlight instanceof AskEnvelope) {
        Deferred.doneUnsafe(inFlight.reply, Exit.fail(new ActorError.ActorStopped({ path: this.path })))
      } else if (inFlight !== undefined) {
        this.dropped("interrupted")
      }
      return
    }
    const reason = Exit.isSuccess(exit) ? exit.value : ExitReason.fromCause(exit.cause)
    if (inFlight instanceof AskEnvelope) {
      // A handler that stops without replying answers with ActorStopped; one that fails, with ActorCrashed.
      const error = Exit.isSuccess(exit)
        ? new ActorError.ActorStopped({ path: this.path })
        : new ActorError.ActorCrashed({ path: this.path, reason: ExitReason.format(reason) })
      Deferred.doneUnsafe(inFlight.reply, Exit.fail(error))
    }
    this.parent.childExited(this, incarnation, reason)
  }

  private run(incarnation: number): Effect.Effect<ExitReason.ExitReason, E, R> {
    const cell = this
    const { behavior, mailbox } = this
    const context = this.actorContext(incarnation)
    return Effect.gen(function* () {
      let state = yield* behavior.init(context)
      Core.emit(cell.core, { _tag: "Started", path: cell.path, incarnation, at: Core.now(cell.core) })
      // A plain loop: `Effect.forever` yields after every iteration and is several times slower here.
      while (true) {
        const item = yield* Queue.take(mailbox)
        cell.inFlight = item
        const message = item instanceof AskEnvelope ? (item.message as M) : item
        const next = yield* behavior.receive(state, message, context)
        // On a stop the message stays in flight until the incarnation has ended, so that an unanswered ask
        // is answered then.
        if (next._tag === "Stop") return next.reason
        cell.inFlight = undefined
        state = next.state
      }
    })
  }

  private actorContext(incarnation: number): Actor.ActorContext<M> {
    return new CellContext(this, incarnation)
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

/** The `ActorContext` of one incarnation; methods live on the prototype to keep idle actors small. */
class CellContext<M> implements Actor.ActorContext<M> {
  readonly self: ActorCell<M, any, any, any>
  readonly incarnation: number
  constructor(self: ActorCell<M, any, any, any>, incarnation: number) {
    this.self = self
    this.incarnation = incarnation
  }
  get path(): string {
    return this.self.path
  }
  watch(target: ActorRef.ActorRef<never>, map: (terminated: Actor.Terminated) => M): Effect.Effect<void> {
    return Effect.sync(() => this.self.watchUnsafe(target, map))
  }
  unwatch(target: ActorRef.ActorRef<never>): Effect.Effect<void> {
    return Effect.sync(() => this.self.unwatchUnsafe(target))
  }
}

/** Creates an actor cell with a fresh mailbox of the behaviour's capacity. */
export const make = <M, S, E, R>(
  core: Core.Core,
  parent: Core.Parent,
  path: string,
  behavior: Actor.Behavior<M, S, E, R>,
  context: Context.Context<R>
): Effect.Effect<ActorCell<M, S, E, R>> =>
  Effect.map(
    Queue.bounded<M | AskEnvelope>(behavior.capacity),
    (mailbox) => new ActorCell(core, parent, path, behavior, context, mailbox)
  )

/** `true` when `ref` is a local actor of this runtime. */
export const isCell = (ref: unknown): ref is ActorCell<any, any, any, any> => ref instanceof ActorCell
