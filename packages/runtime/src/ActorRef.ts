/**
 * An address to send messages to: `tell` (fire and forget), `tellAll` (a batch), `tellNow` (fail fast when full)
 * and `ask` (request/reply with a timeout). A ref stays valid across restarts of the actor behind it: the mailbox
 * is kept.
 */
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as ActorError from "./ActorError.ts"
import type * as ReplyTo from "./ReplyTo.ts"

/** An address of an actor that accepts messages of type `M`. */
export interface ActorRef<in M> {
  /** The actor's path in its system, e.g. `/orchestrator/backend-1`. */
  readonly path: string
  /** The message protocol; `tellUnknown` decodes with it. */
  readonly protocol: Schema.Top
  /**
   * Enqueues `message`, waiting for room when the mailbox is full (backpressure). A message sent to an actor that
   * has stopped for good is a dead letter: it is dropped and published as `MessageDropped`.
   *
   * Gotcha: an actor telling *itself* from its own handler never waits, since it would wait for itself: when its
   * mailbox is full the message is dropped and published as `MessageDropped` with cause `mailbox-full`.
   */
  readonly tell: (message: M) => Effect.Effect<void>
  /**
   * Enqueues `messages` in order, as many `tell`s would (waiting for room as needed), but in one step for the
   * mailbox: the fast path for batches.
   */
  readonly tellAll: (messages: Iterable<M>) => Effect.Effect<void>
  /** Enqueues `message` or fails at once with `MailboxFull` (or `ActorStopped`), never waiting. */
  readonly tellNow: (message: M) => Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped>
  /** Decodes `input` with the protocol, then `tell`s it. For messages arriving from outside the type system. */
  readonly tellUnknown: (input: unknown) => Effect.Effect<void, ActorError.InvalidMessage>
  /**
   * Sends the request built by `make` around a fresh reply handle and waits for the answer.
   * Fails with `AskTimeout` after `timeout` (default 5 seconds, measured with the system's `Clock`),
   * `ActorCrashed` when the handler failed before answering, `ActorStopped` when the actor stopped for good, or
   * with the request's own failure `E`. Gotcha: an actor asking itself from its own handler waits until the
   * timeout, since it cannot answer while it is waiting.
   */
  readonly ask: <A, E = never>(
    make: (replyTo: ReplyTo.ReplyTo<A, E>) => M,
    options?: AskOptions
  ) => Effect.Effect<A, E | ActorError.AskError>
}

/** Options of `ask`. */
export interface AskOptions {
  /** How long to wait for the answer. Default: 5 seconds; `Duration.infinity` waits for ever. */
  readonly timeout?: Duration.Input | undefined
}

/** The default ask timeout. */
export const defaultAskTimeout: Duration.Duration = Duration.seconds(5)

/** Data-first `tell`. */
export const tell = <M>(self: ActorRef<M>, message: M): Effect.Effect<void> => self.tell(message)

/** Data-first `tellAll`. */
export const tellAll = <M>(self: ActorRef<M>, messages: Iterable<M>): Effect.Effect<void> => self.tellAll(messages)

/** Data-first `tellNow`. */
export const tellNow = <M>(
  self: ActorRef<M>,
  message: M
): Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped> => self.tellNow(message)

/** Data-first `ask`. */
export const ask = <M, A, E = never>(
  self: ActorRef<M>,
  make: (replyTo: ReplyTo.ReplyTo<A, E>) => M,
  options?: AskOptions
): Effect.Effect<A, E | ActorError.AskError> => self.ask(make, options)
