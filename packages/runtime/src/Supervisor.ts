/**
 * Supervision as data: a strategy, a restart tolerance, a backoff and the children, after Erlang/OTP.
 *
 * - **Strategies**: `one-for-one` restarts the child that failed; `one-for-all` restarts every child;
 *   `rest-for-one` restarts the failed child and the children started after it.
 * - **Restart types**: `permanent` children are always restarted; `transient` ones only after an abnormal exit
 *   (`Failed`, `Died`, `Escalated`); `temporary` ones never (when a sibling's failure stops them, they are gone).
 * - **Intensity**: more than `maxRestarts` restarts `within` the period and the supervisor gives up: it stops
 *   its children and escalates, ending with `Escalated`, which its own parent handles like any child failure.
 * - **Backoff**: an optional `Schedule` gives the delay before each restart within a period (fed with the restart
 *   count); the count and the schedule start over once the period has passed without restarts.
 *
 * What a restarted child keeps: its ref and its mailbox (queued messages are handled by the new incarnation);
 * its state is rebuilt from scratch by `init`. The request it was handling when it crashed is answered with
 * `ActorCrashed`. A child that ends for good closes its mailbox: later messages are dead letters.
 *
 * Defaults follow OTP rather than Akka: declared children are `permanent`, the strategy is `one-for-one` and the
 * intensity is 3 restarts within 5 seconds. Actors spawned directly on the `ActorSystem` are `temporary` unless
 * told otherwise, since nothing declared how to rebuild them.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { Supervisor } from "@troupe/runtime"
 *
 * const team = Supervisor.make({
 *   strategy: "rest-for-one",
 *   intensity: { maxRestarts: 5, within: "10 seconds" },
 *   backoff: Schedule.exponential("100 millis"),
 *   children: [Supervisor.actor("store", Store), Supervisor.actor("worker", Worker, { restart: "transient" })]
 * })
 * ```
 */
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type * as Actor from "./Actor.ts"
import type * as ActorError from "./ActorError.ts"
import type * as ActorRef from "./ActorRef.ts"

/** Which children a failure restarts. */
export type Strategy = "one-for-one" | "one-for-all" | "rest-for-one"

/** When a child is restarted. */
export type RestartType = "permanent" | "transient" | "temporary"

/** The restart tolerance: at most `maxRestarts` within `within`. */
export interface Intensity {
  readonly maxRestarts: number
  readonly within: Duration.Duration
}

/** A child actor declared from a behaviour. */
export interface ActorChild<M, R = never> {
  readonly _tag: "ActorChild"
  readonly id: string
  readonly behavior: Actor.Behavior<M, any, any, R>
  readonly restart: RestartType
}

/** A child supervisor, with its own children. */
export interface SupervisorChild<R = never> {
  readonly _tag: "SupervisorChild"
  readonly id: string
  readonly spec: Spec<R>
  readonly restart: RestartType
}

/** A child of a supervisor. */
export type Child<R = never> = ActorChild<any, R> | SupervisorChild<R>

/** A supervisor's specification. Build it with `make`. */
export interface Spec<R = never> {
  readonly strategy: Strategy
  readonly intensity: Intensity
  readonly backoff: Schedule.Schedule<unknown, number> | undefined
  readonly children: ReadonlyArray<Child<R>>
}

/** A way to build children on demand from arguments: "spawn an agent from a spec". */
export interface Template<A, M, R = never> {
  readonly build: (args: A) => Actor.Behavior<M, any, any, R>
  readonly restart: RestartType
}

/** What a supervisor reports about one child. */
export interface ChildInfo {
  readonly id: string
  readonly path: string
  readonly kind: "actor" | "supervisor"
  readonly restart: RestartType
  /** `false` while the child waits for a restart (backoff) or after its supervisor escalated. */
  readonly running: boolean
}

/** A running supervisor. */
export interface SupervisorRef {
  readonly path: string
  /** The live ref of a child declared in this supervisor's spec or started later. */
  readonly ref: <M>(child: ActorChild<M, any>) => Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNotFound>
  /** The running child supervisor with this id. */
  readonly supervisor: (id: string) => Effect.Effect<SupervisorRef, ActorError.ActorNotFound>
  /** Starts a new child actor under this supervisor. */
  readonly startChild: <M, R>(
    child: ActorChild<M, R>
  ) => Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNameTaken | ActorError.ActorStopped, R>
  /** Starts a new child supervisor under this supervisor. */
  readonly startSupervisor: <R>(
    child: SupervisorChild<R>
  ) => Effect.Effect<SupervisorRef, ActorError.ActorNameTaken | ActorError.ActorStopped, R>
  /** Builds a child from `template` with `args` and starts it as `id`. */
  readonly spawn: <A, M, R>(
    template: Template<A, M, R>,
    id: string,
    args: A
  ) => Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNameTaken | ActorError.ActorStopped, R>
  /** Stops the child `id` for good (its own children first). */
  readonly stopChild: (id: string) => Effect.Effect<void, ActorError.ActorNotFound>
  /** The children, in start order. */
  readonly children: Effect.Effect<ReadonlyArray<ChildInfo>>
}

/** The default restart tolerance: 3 restarts within 5 seconds. */
export const defaultIntensity: Intensity = { maxRestarts: 3, within: Duration.seconds(5) }

type ContextOf<Children extends ReadonlyArray<Child<any>>> = Children[number] extends infer C
  ? C extends Child<infer R>
    ? R
    : never
  : never

/** Builds a supervisor spec. Defaults: `one-for-one`, 3 restarts within 5 seconds, no backoff, no children. */
export const make = <const Children extends ReadonlyArray<Child<any>> = readonly []>(options: {
  readonly strategy?: Strategy | undefined
  readonly intensity?: { readonly maxRestarts: number; readonly within: Duration.Input } | undefined
  readonly backoff?: Schedule.Schedule<unknown, number> | undefined
  readonly children?: Children | undefined
}): Spec<ContextOf<Children>> => ({
  strategy: options.strategy ?? "one-for-one",
  intensity:
    options.intensity === undefined
      ? defaultIntensity
      : {
          maxRestarts: options.intensity.maxRestarts,
          within: Duration.fromInputUnsafe(options.intensity.within)
        },
  backoff: options.backoff,
  children: (options.children ?? []) as ReadonlyArray<Child<ContextOf<Children>>>
})

/** Declares a child actor. Default restart type: `permanent`. */
export const actor = <M, S, E, R>(
  id: string,
  behavior: Actor.Behavior<M, S, E, R>,
  options?: { readonly restart?: RestartType | undefined }
): ActorChild<M, R> => ({ _tag: "ActorChild", id, behavior, restart: options?.restart ?? "permanent" })

/** Declares a child supervisor. Default restart type: `permanent`. */
export const supervisor = <R>(
  id: string,
  spec: Spec<R>,
  options?: { readonly restart?: RestartType | undefined }
): SupervisorChild<R> => ({ _tag: "SupervisorChild", id, spec, restart: options?.restart ?? "permanent" })

/** Declares a template for children built on demand with `SupervisorRef.spawn`. Default restart: `transient`. */
export const template = <A, M, R = never>(
  build: (args: A) => Actor.Behavior<M, any, any, R>,
  options?: { readonly restart?: RestartType | undefined }
): Template<A, M, R> => ({ build, restart: options?.restart ?? "transient" })

/** `true` when a child of this restart type is restarted after ending with an abnormal (or normal) exit. */
export const shouldRestart = (restart: RestartType, abnormal: boolean): boolean =>
  restart === "permanent" || (restart === "transient" && abnormal)
