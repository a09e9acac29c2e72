/**
 * The sending side of an actor cell: the public `ActorRef` over its mailbox. Every message sent is either
 * enqueued (and the actor woken), or reported: dead letters, full mailboxes and abandoned requests never vanish.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as ActorError from "../ActorError.ts"
import * as ActorRef from "../ActorRef.ts"
import type * as ExitReason from "../ExitReason.ts"
import * as ReplyTo from "../ReplyTo.ts"
import type * as AskTimers from "./askTimers.ts"
import * as Core from "./core.ts"
import * as Mailbox from "./mailbox.ts"

/**
 * A request in the mailbox: the message, and the reply its asker waits on (until `deadline`). It is itself the
 * `ReplyTo` the message carries.
 */
export class AskEnvelope extends ReplyTo.Handle<unknown, unknown> implements AskTimers.Pending {
  message: unknown = undefined
  readonly path: string
  readonly timeoutMillis: number
  readonly deadline: number
  constructor(path: string, timeoutMillis: number, deadline: number) {
    super(Deferred.makeUnsafe())
    this.path = path
    this.timeoutMillis = timeoutMillis
    this.deadline = deadline
  }
}

/** What a mailbox holds: messages, and requests wrapped with their reply. */
export type Item<M> = M | AskEnvelope

type Cause = "mailbox-full" | "stopped" | "interrupted"

const defaultTimeoutMillis = Duration.toMillis(ActorRef.defaultAskTimeout)

/** The `ActorRef` of a cell; the cell adds incarnations and bursts (`wake`). */
export abstract class CellRef<M> implements ActorRef.ActorRef<M> {
  readonly path: string
  readonly core: Core.Core
  readonly mailbox: Mailbox.Mailbox<Item<M>>
  protected terminated: ExitReason.ExitReason | undefined = undefined
  /** The fiber of the running burst, if any. */
  protected burst: Fiber.Fiber<unknown, unknown> | undefined = undefined

  constructor(core: Core.Core, path: string, capacity: number) {
    this.core = core
    this.path = path
    this.mailbox = new Mailbox.Mailbox(capacity)
  }

  abstract get protocol(): Schema.Top

  /** Lets the actor handle what was just enqueued. */
  protected abstract wake(): void

  tell(message: M): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.mailbox.offer(message)) {
        this.wake()
        return Effect.void
      }
      return this.offerSlow([message])
    })
  }

  tellAll(messages: Iterable<M>): Effect.Effect<void> {
    return Effect.suspend(() => {
      const rest = this.mailbox.offerAll(messages)
      this.wake()
      return rest.length === 0 ? Effect.void : this.offerSlow(rest as ReadonlyArray<M>)
    })
  }

  /** Messages that did not fit: dead letters, dropped (sent by the actor to itself), or waiting for room. */
  private offerSlow(messages: ReadonlyArray<M>): Effect.Effect<void> {
    if (this.mailbox.isClosed) return Effect.sync(() => this.droppedAll(messages.length, "stopped"))
    return Effect.withFiber((fiber) => {
      // The actor's own handler waiting for room in its own mailbox would wait for ever.
      if (fiber === this.burst) return Effect.sync(() => this.droppedAll(messages.length, "mailbox-full"))
      // Room is made by a running burst, which looks for more messages when it ends: no wake needed.
      return Effect.map(this.mailbox.offerWaiting(messages), (left) => this.droppedAll(left.length, "stopped"))
    })
  }

  tellNow(message: M): Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped> {
    return Effect.suspend((): Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped> => {
      if (this.mailbox.offer(message)) {
        this.wake()
        return Effect.void
      }
      if (this.mailbox.isClosed) {
        this.dropped("stopped")
        return Effect.fail(new ActorError.ActorStopped({ path: this.path }))
      }
      this.dropped("mailbox-full")
      return Effect.fail(new ActorError.MailboxFull({ path: this.path, capacity: this.mailbox.capacity }))
    })
  }

  tellUnknown(input: unknown): Effect.Effect<void, ActorError.InvalidMessage> {
    return Schema.decodeUnknownEffect(this.protocol as Schema.Codec<M, unknown>)(input).pipe(
      Effect.mapError((error) => new ActorError.InvalidMessage({ path: this.path, issue: String(error.issue) })),
      Effect.flatMap((message) => this.tell(message))
    )
  }

  ask<A, E = never>(
    make: (replyTo: ReplyTo.ReplyTo<A, E>) => M,
    options?: ActorRef.AskOptions
  ): Effect.Effect<A, E | ActorError.AskError> {
    return Effect.suspend(() => {
      if (this.mailbox.isClosed) return Effect.fail(new ActorError.ActorStopped({ path: this.path }))
      const timeoutMillis = options?.timeout === undefined ? defaultTimeoutMillis : toMillis(options.timeout)
      const envelope = new AskEnvelope(this.path, timeoutMillis, this.core.timers.deadline(timeoutMillis))
      envelope.message = make(envelope as unknown as ReplyTo.ReplyTo<A, E>)
      // The asker also waits for the runtime's own failures (crash, stop, timeout), so the deferred is widened.
      const reply = envelope.deferred as Deferred.Deferred<A, E | ActorError.AskError>
      if (this.mailbox.offer(envelope)) {
        this.core.timers.add(envelope)
        this.wake()
        return Deferred.await(reply)
      }
      // A full mailbox: rare enough for the plain race, which also bounds the wait for room.
      return this.mailbox.offerWaiting([envelope]).pipe(
        Effect.flatMap((left) => {
          if (left.length > 0) return Effect.fail(new ActorError.ActorStopped({ path: this.path }))
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
  protected dropped(cause: Cause): void {
    Core.emit(this.core, { _tag: "MessageDropped", path: this.path, cause, at: Core.now(this.core) })
  }

  private droppedAll(count: number, cause: Cause): void {
    for (let i = 0; i < count; i++) this.dropped(cause)
  }

  /** Answers or reports an item that will not be handled, because the actor stopped or was halted. */
  protected abandon(item: Item<M>, cause: "stopped" | "interrupted"): void {
    if (item instanceof AskEnvelope) {
      this.core.timers.cancel(item)
      Deferred.doneUnsafe(item.deferred, Exit.fail(new ActorError.ActorStopped({ path: this.path })))
    } else {
      this.dropped(cause)
    }
  }
}

const toMillis = (input: Duration.Input): number =>
  typeof input === "number"
    ? input
    : Duration.toMillis(Option.getOrElse(Duration.fromInput(input), () => ActorRef.defaultAskTimeout))
