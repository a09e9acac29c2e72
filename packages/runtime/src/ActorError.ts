/**
 * The typed failures of talking to actors and of starting them. Schema-backed so they can be audited and sent
 * between processes; their tags are not used by any lifecycle event or exit reason.
 */
import * as Schema from "effect/Schema"
import * as ExitReason from "./ExitReason.ts"

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
 * without replying, or the runtime stopped or restarted it while it was handling this request. Also the failure of
 * starting a child under a supervisor (or an actor incarnation) that is no longer running.
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

/** The path is already taken by a live actor or supervisor, or by a child its supervisor keeps (not running). */
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

/**
 * A child's `init` failed (or, for a supervisor, one of its children failed to start), so starting it failed and
 * nothing was added. `reason` is the failure; for a supervisor it is `Failed` with the inner `ChildInitFailed`.
 */
export class ChildInitFailed extends Schema.TaggedError<ChildInitFailed>()("ChildInitFailed", {
  path: Schema.String,
  reason: ExitReason.ExitReason
}) {}

/** A name is not a path segment: it is empty or contains `/`. */
export class InvalidActorName extends Schema.TaggedError<InvalidActorName>()("InvalidActorName", {
  parent: Schema.String,
  name: Schema.String
}) {}

/** A mailbox capacity is not a positive integer. */
export class InvalidCapacity extends Schema.TaggedError<InvalidCapacity>()("InvalidCapacity", {
  path: Schema.String,
  capacity: Schema.Number
}) {}

/**
 * A supervisor spec (or an actor's supervision of its children) was refused: a restart intensity that is not a
 * non-negative integer, a period that is not positive and finite, an unknown strategy or restart type, or two
 * children with the same id. Nothing of the spec was started or registered.
 */
export class InvalidSupervisorSpec extends Schema.TaggedError<InvalidSupervisorSpec>()("InvalidSupervisorSpec", {
  path: Schema.String,
  reason: Schema.String
}) {}

/** The failures of `ask`, apart from the protocol's own reply failures. */
export type AskError = AskTimeout | ActorStopped | ActorCrashed

/** The failures of starting a child: a refused declaration, a taken name, a stopped parent, or a failed `init`. */
export type StartError =
  | ActorNameTaken
  | ActorStopped
  | ChildInitFailed
  | InvalidActorName
  | InvalidCapacity
  | InvalidSupervisorSpec
