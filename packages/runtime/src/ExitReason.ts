/**
 * Why an actor or a supervisor ended.
 *
 * A schema union so that reasons can be audited, published in lifecycle events and sent between processes. Its
 * tags are not used by any event or error of the runtime, so a reason is never mistaken for an event in a merged
 * audit stream. `Normal` and `Shutdown` are the clean endings; `Failed` and `Died` are abnormal, and only abnormal
 * endings make a `transient` child restart (as in OTP, where `normal` and `shutdown` are the clean exits).
 */
import * as Cause from "effect/Cause"
import * as Schema from "effect/Schema"

/** The handler chose to stop (`Next.stop`). */
export const Normal = Schema.TaggedStruct("Normal", {})
/**
 * Shut down: stopped from outside (`stopChild`, `ActorSystem.stop`, shutdown, a sibling's restart), or a
 * supervisor that went over its restart intensity and gave up (then `detail` says why, after OTP's
 * `{shutdown, Term}`).
 */
export const Shutdown = Schema.TaggedStruct("Shutdown", { detail: Schema.optionalKey(Schema.String) })
/** The typed error channel failed (`init` or `receive` failed), or the handler stopped with `Next.fail`. */
export const Failed = Schema.TaggedStruct("Failed", { error: Schema.Unknown })
/** A defect: a bug or an unexpected interruption, with a readable rendering of its cause. */
export const Died = Schema.TaggedStruct("Died", { defect: Schema.String })

/** Why an actor or supervisor ended. */
export const ExitReason = Schema.Union([Normal, Shutdown, Failed, Died])

/** Why an actor or supervisor ended. */
export type ExitReason = typeof ExitReason.Type

/** The reason for a handler that stopped by choice. */
export const normal: ExitReason = Normal.make({})

/** The reason for an actor or supervisor shut down from outside. */
export const shutdown: ExitReason = Shutdown.make({})

/** A shutdown that says why, e.g. a supervisor that gave up. */
export const shutdownWith = (detail: string): ExitReason => Shutdown.make({ detail })

/** The reason for a typed failure. */
export const failed = (error: unknown): ExitReason => Failed.make({ error })

/** `true` for the endings that count as a crash (and restart a `transient` child). */
export const isAbnormal = (reason: ExitReason): boolean => reason._tag === "Failed" || reason._tag === "Died"

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
      return "normal"
    case "Shutdown":
      return reason.detail === undefined ? "shutdown" : `shutdown: ${reason.detail}`
    case "Failed":
      return `failed: ${describe(reason.error)}`
    case "Died":
      return `died: ${reason.defect.split("\n")[0]}`
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
