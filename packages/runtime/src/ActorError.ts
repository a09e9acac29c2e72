/**
 * The typed failures of talking to actors. Schema-backed so they can be audited and sent between processes.
 */
import * as Schema from "effect/Schema"

/** `tellNow` found the mailbox full; the message was not enqueued. */
export class MailboxFull extends Schema.TaggedError<MailboxFull>()("MailboxFull", {
  path: Schema.String,
  capacity: Schema.Int
}) {}

/** No reply arrived within the ask's timeout. */
export class AskTimeout extends Schema.TaggedError<AskTimeout>()("AskTimeout", {
  path: Schema.String,
  timeoutMillis: Schema.Finite
}) {}

/**
 * The actor stopped before answering: it has stopped for good (its mailbox is closed), its handler stopped it
 * without replying, or the runtime stopped or restarted it while it was handling this request.
 */
export class ActorStopped extends Schema.TaggedError<ActorStopped>()("ActorStopped", {
  path: Schema.String
}) {}

/** The actor crashed while handling the request, before it replied. It may have been restarted since. */
export class ActorCrashed extends Schema.TaggedError<ActorCrashed>()("ActorCrashed", {
  path: Schema.String,
  reason: Schema.String
}) {}

/** No actor lives at this path. */
export class ActorNotFound extends Schema.TaggedError<ActorNotFound>()("ActorNotFound", {
  path: Schema.String
}) {}

/** The path is already taken by a live actor or supervisor. */
export class ActorNameTaken extends Schema.TaggedError<ActorNameTaken>()("ActorNameTaken", {
  path: Schema.String
}) {}

/** The actor at this path speaks another protocol than the one asked for. */
export class ProtocolMismatch extends Schema.TaggedError<ProtocolMismatch>()("ProtocolMismatch", {
  path: Schema.String
}) {}

/** A message given as unknown input did not decode with the actor's protocol. */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>()("InvalidMessage", {
  path: Schema.String,
  issue: Schema.String
}) {}

/** The failures of `ask`, apart from the protocol's own reply failures. */
export type AskError = AskTimeout | ActorStopped | ActorCrashed
