/**
 * An address to send messages to: `tell` (fire and forget), `tellNow` (fail fast when full) and `ask`
 * (request/reply with a timeout). A ref stays valid across restarts of the actor behind it: the mailbox is kept.
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
   */
  readonly tell: (message: M) => Effect.Effect<void>
  /** Enqueues `message` or fails at once with `MailboxFull` (or `ActorStopped`), never waiting. */
  readonly tellNow: (message: M) => Effect.Effect<void, ActorError.MailboxFull | ActorError.ActorStopped>
  /** Decodes `input` with the protocol, then `tell`s it. For messages arriving from outside the type system. */
  readonly tellUnknown: (input: unknown) => Effect.Effect<void, ActorError.InvalidMessage>
  /**
   * Sends the request built by `make` around a fresh reply handle and waits for the answer.
   * Fails with `AskTimeout` after `timeout` (default 5 seconds), `ActorCrashed` when the handler failed before
   * answering, `ActorStopped` when the actor stopped for good, or with the request's own failure `E`.
   */
  readonly ask: <A, E = never>(
    make: (replyTo: ReplyTo.ReplyTo<A, E>) => M,
    options?: AskOptions
  ) => Effect.Effect<A, E | ActorError.AskError>
}

/** Options of `ask`. */
export interface AskOptions {
  /** How long to wait for the answer. Default: 5 seconds. */
  readonly timeout?: Duration.Input | undefined
}

/** The default ask timeout. */
export const defaultAskTimeout: Duration.Duration = Duration.seconds(5)

/** Data-first `tell`. */
export const tell = <M>(self: ActorRef<M>, message: M): Effect.Effect<void> => self.tell(message)

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
