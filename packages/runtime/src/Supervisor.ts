/**
 * Supervision as data: a strategy, a restart tolerance, a backoff and the children, after Erlang/OTP.
 *
 * - **Strategies**: `one-for-one` restarts the child that ended; `one-for-all` restarts every child;
 *   `rest-for-one` restarts the child and the children started after it. Children start in order, each once the
 *   previous one's `init` has returned, and none after one that failed to start.
 * - **Restart types**: `permanent` children are always restarted; `transient` ones only after an abnormal exit
 *   (`Failed`, `Died`) — after `Normal` or `Shutdown` they stay in the supervisor's children, not running, and come
 *   back when a sibling's failure restarts them or with `restartChild`; `temporary` ones are never restarted and
 *   are removed when they end (also when a sibling's failure stops them).
 * - **Intensity**: more than `maxRestarts` restarts `within` the period (a child failing to start during a restart
 *   counts as one) and the supervisor gives up: it publishes `SupervisorGaveUp`, stops its children and exits with
 *   `Shutdown`, which its parent handles like any exit (a `permanent` parent restarts it, a `transient` one does
 *   not).
 * - **Backoff**: an optional `Schedule` gives the delay before each restart within a period (fed with the restart
 *   count); the count and the schedule start over once the period has passed without restarts.
 * - **A restarted supervisor restarts from its spec**: the children it started on demand are gone, and declared
 *   children that had ended come back.
 *
 * What a restarted child keeps: its ref and its mailbox (queued messages are handled by the new incarnation);
 * its state is rebuilt from scratch by `init`. The request it was handling when it crashed is answered with
 * `ActorCrashed`. A child that ends for good closes its mailbox: later messages are dead letters; if its
 * supervisor keeps it (a `transient` child) and starts it again, it gets a new ref.
 *
 * Defaults follow OTP rather than Akka: children are `permanent`, the strategy is `one-for-one` and the intensity
 * is OTP's 1 restart within 5 seconds (Elixir's is 3 within 5). A spec is checked, whole, when it is started
 * (`startChild`): a refused one (`InvalidSupervisorSpec`, `InvalidActorName`, `InvalidCapacity`) starts nothing.
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

/** The restart tolerance: at most `maxRestarts` (a non-negative integer) within `within` (positive, finite). */
export interface Intensity {
  readonly maxRestarts: number
  readonly within: Duration.Input
}

/** How a supervisor (or an actor, for the children it starts) handles its children's exits. */
export interface Flags {
  readonly strategy: Strategy
  readonly intensity: Intensity
  readonly backoff: Schedule.Schedule<unknown, number> | undefined
}

/** A child actor declared from a behaviour: a child spec. */
export interface ActorChild<M, R = never> {
  readonly _tag: "ActorChild"
  readonly id: string
  readonly behavior: Actor.Behavior<M, any, any, R>
  readonly restart: RestartType
}

/** A child supervisor, with its own children: a child spec. */
export interface SupervisorChild<R = never> {
  readonly _tag: "SupervisorChild"
  readonly id: string
  readonly spec: Spec<R>
  readonly restart: RestartType
}

/** A child spec: what `startChild` starts. */
export type Child<R = never> = ActorChild<any, R> | SupervisorChild<R>

/** A supervisor's specification. Build it with `make`. */
export interface Spec<R = never> extends Flags {
  readonly children: ReadonlyArray<Child<R>>
}

/**
 * Child specs built on demand from arguments ("spawn an agent from a spec"): `template(id, args)` is an
 * `ActorChild` to give to `startChild`.
 */
export type Template<A, M, R = never> = (id: string, args: A) => ActorChild<M, R>

/** What a supervisor reports about one child (OTP's `which_children`). */
export interface ChildInfo {
  readonly id: string
  readonly path: string
  readonly kind: "actor" | "supervisor"
  readonly restart: RestartType
  /** `false` while the child waits for a restart (backoff), and for a `transient` child that ended. */
  readonly running: boolean
}

/** Starts a child from its spec: an actor gives its ref, a supervisor its `SupervisorRef`. */
export interface StartChild {
  <M, R>(child: ActorChild<M, R>): Effect.Effect<ActorRef.ActorRef<M>, ActorError.StartError, R>
  <R>(child: SupervisorChild<R>): Effect.Effect<SupervisorRef, ActorError.StartError, R>
}

/**
 * The verb family for children, the same on `ActorSystem` (the root), `SupervisorRef` and `ActorContext` (an
 * actor's own children), after OTP's `start_child`, `restart_child`, `terminate_child` + `delete_child` and
 * `which_children`.
 */
export interface Children {
  /**
   * Starts a child and waits until its `init` has returned (for a supervisor: until its children have started).
   * A failing `init` fails with `ChildInitFailed` and adds nothing; a taken id fails with `ActorNameTaken`; a
   * refused spec with `InvalidActorName`, `InvalidCapacity` or `InvalidSupervisorSpec`, registering nothing.
   */
  readonly startChild: StartChild
  /**
   * Starts again a child that is kept but not running (a `transient` child that ended). A running child, or one
   * waiting for its restart, is left as it is.
   */
  readonly restartChild: (
    id: string
  ) => Effect.Effect<void, ActorError.ActorNotFound | ActorError.ChildInitFailed | ActorError.ActorStopped>
  /** Stops the child `id` for good (its own children first) and forgets it. */
  readonly stopChild: (id: string) => Effect.Effect<void, ActorError.ActorNotFound>
  /** The children, in start order. */
  readonly children: Effect.Effect<ReadonlyArray<ChildInfo>>
}

/** A running supervisor. */
export interface SupervisorRef extends Children {
  readonly path: string
  /** The live ref of a child declared in this supervisor's spec or started later. */
  readonly ref: <M>(child: ActorChild<M, any>) => Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNotFound>
  /** The running child supervisor with this id. */
  readonly supervisor: (id: string) => Effect.Effect<SupervisorRef, ActorError.ActorNotFound>
}

/** OTP's default restart tolerance: 1 restart within 5 seconds (Elixir's default is 3 within 5). */
export const defaultIntensity: Intensity = { maxRestarts: 1, within: Duration.seconds(5) }

/** The options of `make` and of an actor's `supervision`: every field has a default. */
export interface FlagsOptions {
  readonly strategy?: Strategy | undefined
  readonly intensity?: Intensity | undefined
  readonly backoff?: Schedule.Schedule<unknown, number> | undefined
}

type ContextOf<Children extends ReadonlyArray<Child<any>>> = Children[number] extends infer C
  ? C extends Child<infer R>
    ? R
    : never
  : never

/** Builds supervision flags. Defaults: `one-for-one`, 1 restart within 5 seconds (OTP's), no backoff. */
export const flags = (options?: FlagsOptions): Flags => ({
  strategy: options?.strategy ?? "one-for-one",
  intensity: options?.intensity ?? defaultIntensity,
  backoff: options?.backoff
})

/**
 * Builds a supervisor spec. Defaults: `one-for-one`, 1 restart within 5 seconds (OTP's), no backoff, no
 * children. The spec is checked when it is started, not here.
 */
export const make = <const Children extends ReadonlyArray<Child<any>> = readonly []>(
  options: FlagsOptions & { readonly children?: Children | undefined }
): Spec<ContextOf<Children>> => ({
  ...flags(options),
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

/**
 * Declares a template: `template(id, args)` builds a child spec for `startChild`. Default restart: `transient`.
 *
 * @example
 * ```ts
 * const Worker = Supervisor.template((start: number) => counter(start))
 * const w1 = yield* pool.startChild(Worker("w1", 10))
 * ```
 */
export const template =
  <A, M, R = never>(
    build: (args: A) => Actor.Behavior<M, any, any, R>,
    options?: { readonly restart?: RestartType | undefined }
  ): Template<A, M, R> =>
  (id, args) =>
    actor(id, build(args), { restart: options?.restart ?? "transient" })

/** `true` when a child of this restart type is restarted after ending with an abnormal (or normal) exit. */
export const shouldRestart = (restart: RestartType, abnormal: boolean): boolean =>
  restart === "permanent" || (restart === "transient" && abnormal)
