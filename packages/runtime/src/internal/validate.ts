/**
 * The checks a child spec passes before anything of it is registered or started, after OTP's `check_childspecs`
 * and supervisor flag checks: names are path segments, capacities positive integers, intensities non-negative
 * integers, periods positive and finite, strategies and restart types known, child ids unique per supervisor.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ActorError from "../ActorError.ts"
import type * as Supervisor from "../Supervisor.ts"
import * as Core from "./core.ts"

/** A refusal of a spec. */
export type Refusal = ActorError.InvalidActorName | ActorError.InvalidCapacity | ActorError.InvalidSupervisorSpec

const strategies: ReadonlyArray<string> = ["one-for-one", "one-for-all", "rest-for-one"]
const restartTypes: ReadonlyArray<string> = ["permanent", "transient", "temporary"]

/** The period of an intensity in milliseconds, or `undefined` when it is not positive and finite. */
export const periodMillis = (within: Duration.Input): number | undefined => {
  const millis = Option.match(Duration.fromInput(within), { onNone: () => Number.NaN, onSome: Duration.toMillis })
  return millis > 0 && Number.isFinite(millis) ? millis : undefined
}

/** Checks supervision flags for the supervisor (or actor) at `path`. */
export const flags = (path: string, flags: Supervisor.Flags): ActorError.InvalidSupervisorSpec | undefined => {
  const refuse = (reason: string) => new ActorError.InvalidSupervisorSpec({ path, reason })
  if (!strategies.includes(flags.strategy)) return refuse(`unknown strategy ${String(flags.strategy)}`)
  const { maxRestarts, within } = flags.intensity
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) {
    return refuse(`intensity must be a non-negative integer, got ${String(maxRestarts)}`)
  }
  if (periodMillis(within) === undefined) return refuse(`period must be positive and finite, got ${String(within)}`)
  return undefined
}

/** Checks a child spec to be started under `parent`, with everything it declares. */
export const child = (parent: string, child: Supervisor.Child<any>): Refusal | undefined => {
  if (typeof child.id !== "string" || child.id.length === 0 || child.id.includes("/")) {
    return new ActorError.InvalidActorName({ parent, name: String(child.id) })
  }
  const path = Core.childPath(parent, child.id)
  if (!restartTypes.includes(child.restart)) {
    return new ActorError.InvalidSupervisorSpec({
      path: parent,
      reason: `unknown restart type ${String(child.restart)}`
    })
  }
  if (child._tag === "ActorChild") {
    const capacity = child.behavior.capacity
    if (!Number.isInteger(capacity) || capacity <= 0) return new ActorError.InvalidCapacity({ path, capacity })
    return flags(path, child.behavior.supervision)
  }
  return spec(path, child.spec)
}

/** Checks a supervisor spec at `path`: its flags, then each child; two children may not share an id. */
export const spec = (path: string, spec: Supervisor.Spec<any>): Refusal | undefined => {
  const refused = flags(path, spec)
  if (refused !== undefined) return refused
  const seen = new Set<string>()
  for (const declared of spec.children) {
    if (seen.has(declared.id)) {
      return new ActorError.InvalidSupervisorSpec({ path, reason: `duplicate child id ${declared.id}` })
    }
    seen.add(declared.id)
    const refusedChild = child(path, declared)
    if (refusedChild !== undefined) return refusedChild
  }
  return undefined
}
