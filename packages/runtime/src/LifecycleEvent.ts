/**
 * What happens to actors over their life, published by the `ActorSystem` as a stream for the audit log and
 * metrics. A schema union so events can be persisted as they are.
 */
import * as Schema from "effect/Schema"
import * as ExitReason from "./ExitReason.ts"

/** An incarnation started (the first one, or after a restart) and is taking messages. */
export const Started = Schema.TaggedStruct("Started", {
  path: Schema.String,
  incarnation: Schema.Int,
  at: Schema.Finite
})

/** An incarnation crashed and its supervisor decided to restart it after `delayMillis`. */
export const Restarted = Schema.TaggedStruct("Restarted", {
  path: Schema.String,
  reason: ExitReason.ExitReason,
  delayMillis: Schema.Finite,
  at: Schema.Finite
})

/** The actor or supervisor ended for good; its mailbox is closed. */
export const Stopped = Schema.TaggedStruct("Stopped", {
  path: Schema.String,
  reason: ExitReason.ExitReason,
  at: Schema.Finite
})

/** A supervisor went over its restart intensity: it stopped its children and passed the failure to its parent. */
export const Escalated = Schema.TaggedStruct("Escalated", {
  path: Schema.String,
  child: Schema.String,
  restarts: Schema.Int,
  withinMillis: Schema.Finite,
  at: Schema.Finite
})

/**
 * A message was not handled: the mailbox was full (`tellNow`), the actor had stopped (a dead letter), or the
 * runtime stopped the actor (or restarted it for a sibling) while it was handling the message.
 */
export const MessageDropped = Schema.TaggedStruct("MessageDropped", {
  path: Schema.String,
  cause: Schema.Literals(["mailbox-full", "stopped", "interrupted"]),
  at: Schema.Finite
})

/** A lifecycle event. */
export const LifecycleEvent = Schema.Union([Started, Restarted, Stopped, Escalated, MessageDropped])

/** A lifecycle event. */
export type LifecycleEvent = typeof LifecycleEvent.Type
