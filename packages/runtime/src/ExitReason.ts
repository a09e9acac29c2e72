/**
 * Why an actor or a supervisor ended.
 *
 * A schema union so that reasons can be audited, published as lifecycle events and sent between processes.
 * `Normal` and `Stopped` are the clean endings; `Failed`, `Died` and `Escalated` are abnormal, and only abnormal
 * endings make a `transient` child restart.
 */
import * as Cause from "effect/Cause"
import * as Schema from "effect/Schema"

/** The handler chose to stop (`Next.stop`). */
export const Normal = Schema.TaggedStruct("Normal", {})
/** Stopped from outside: by `ActorSystem.stop`, its supervisor, or shutdown. */
export const Stopped = Schema.TaggedStruct("Stopped", {})
/** The typed error channel failed (`init` or `receive` failed), or the handler stopped with `Next.fail`. */
export const Failed = Schema.TaggedStruct("Failed", { error: Schema.Unknown })
/** A defect: a bug or an unexpected interruption, with a readable rendering of its cause. */
export const Died = Schema.TaggedStruct("Died", { defect: Schema.String })
/** A supervisor went over its restart intensity, stopped its children and gave up. */
export const Escalated = Schema.TaggedStruct("Escalated", {
  child: Schema.String,
  restarts: Schema.Int,
  withinMillis: Schema.Finite
})

/** Why an actor or supervisor ended. */
export const ExitReason = Schema.Union([Normal, Stopped, Failed, Died, Escalated])

/** Why an actor or supervisor ended. */
export type ExitReason = typeof ExitReason.Type

/** The reason for a handler that stopped by choice. */
export const normal: ExitReason = Normal.make({})

/** The reason for an actor stopped from outside. */
export const stopped: ExitReason = Stopped.make({})

/** The reason for a typed failure. */
export const failed = (error: unknown): ExitReason => Failed.make({ error })

/** `true` for the endings that count as a crash (and restart a `transient` child). */
export const isAbnormal = (reason: ExitReason): boolean =>
  reason._tag === "Failed" || reason._tag === "Died" || reason._tag === "Escalated"

/**
 * Maps the failure cause of an incarnation onto a reason: typed errors are `Failed`, anything else `Died`.
 * The runtime's own stops never get here (they are not reported), so an interruption here is unexpected: a
 * handler that interrupted itself, say. It is rendered without `Cause.pretty`, which is costly.
 */
export const fromCause = (cause: Cause.Cause<unknown>): ExitReason => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) return failed(failure.error)
  if (cause.reasons.length > 0 && cause.reasons.every(Cause.isInterruptReason)) {
    return Died.make({ defect: "interrupted" })
  }
  return Died.make({ defect: Cause.pretty(cause) })
}

/** A one-line rendering for logs and event tables. */
export const format = (reason: ExitReason): string => {
  switch (reason._tag) {
    case "Normal":
    case "Stopped":
      return reason._tag.toLowerCase()
    case "Failed":
      return `failed: ${describe(reason.error)}`
    case "Died":
      return `died: ${reason.defect.split("\n")[0]}`
    case "Escalated":
      return `escalated: ${reason.child} restarted ${reason.restarts} times within ${reason.withinMillis}ms`
  }
}

const describe = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error ? String(error._tag) : undefined
    const message = "message" in error && typeof error.message === "string" ? error.message : undefined
    if (tag !== undefined || message !== undefined) return [tag, message].filter((s) => s).join(": ")
  }
  return String(error)
}
