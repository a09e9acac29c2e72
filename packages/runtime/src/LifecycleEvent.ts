/**
 * What happens to actors over their life, published by the `ActorSystem` as a stream for the audit log and
 * metrics. A schema union so events can be persisted as they are.
 *
 * The runtime's events, the provider pool's and the agent's all land in one audit stream, so every tag names its
 * subsystem (`Actor…`, `Supervisor…`, `Message…`) and none is shared with an exit reason or an error.
 */
import * as Schema from "effect/Schema"
import * as ExitReason from "./ExitReason.ts"

/** An incarnation started (the first one, or after a restart): its `init` returned and it takes messages. */
export const ActorStarted = Schema.TaggedStruct("ActorStarted", {
  path: Schema.String,
  incarnation: Schema.Int,
  at: Schema.Finite
})

/**
 * The supervisor decided to restart this child after `delayMillis`, because the child at `trigger` ended or failed
 * to start. `trigger` is the child's own path when its own exit (`reason`) is the one counted against the restart
 * intensity; the siblings a `one-for-all` or `rest-for-one` strategy restarts with it carry `Shutdown`.
 */
export const ActorRestarted = Schema.TaggedStruct("ActorRestarted", {
  path: Schema.String,
  reason: ExitReason.ExitReason,
  trigger: Schema.String,
  delayMillis: Schema.Finite,
  at: Schema.Finite
})

/** The actor or supervisor ended for good; its mailbox is closed. */
export const ActorTerminated = Schema.TaggedStruct("ActorTerminated", {
  path: Schema.String,
  reason: ExitReason.ExitReason,
  at: Schema.Finite
})

/**
 * A supervisor went over its restart intensity: `child` failed once more after `restarts` restarts within
 * `withinMillis`. It stops its children and exits with `Shutdown`, which its own parent handles like any exit.
 */
export const SupervisorGaveUp = Schema.TaggedStruct("SupervisorGaveUp", {
  path: Schema.String,
  child: Schema.String,
  restarts: Schema.Int,
  withinMillis: Schema.Finite,
  at: Schema.Finite
})

/**
 * A message was not handled: the mailbox was full (`tellNow`, or a `tell` an actor sent itself), the actor had
 * stopped (a dead letter), or the runtime stopped the actor (or restarted it for a sibling) while it was handling
 * the message.
 */
export const MessageDropped = Schema.TaggedStruct("MessageDropped", {
  path: Schema.String,
  cause: Schema.Literals(["mailbox-full", "stopped", "interrupted"]),
  at: Schema.Finite
})

/** A lifecycle event. */
export const LifecycleEvent = Schema.Union([
  ActorStarted,
  ActorRestarted,
  ActorTerminated,
  SupervisorGaveUp,
  MessageDropped
])

/** A lifecycle event. */
export type LifecycleEvent = typeof LifecycleEvent.Type
