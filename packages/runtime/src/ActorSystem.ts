/**
 * The actor system: spawns actors and supervisors, finds them by path, stops them, publishes their lifecycle
 * events, and shuts the whole tree down (children before parents) when its scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ActorSystem } from "@troupe/runtime"
 *
 * const program = Effect.gen(function* () {
 *   const system = yield* ActorSystem.ActorSystem
 *   const counter = yield* system.spawn("counter", Counter)
 *   yield* counter.tell({ _tag: "Add", n: 1 })
 * }).pipe(Effect.provide(ActorSystem.layer()))
 * ```
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Actor from "./Actor.ts"
import * as ActorError from "./ActorError.ts"
import type * as ActorRef from "./ActorRef.ts"
import * as ExitReason from "./ExitReason.ts"
import * as Cell from "./internal/cell.ts"
import * as Core from "./internal/core.ts"
import * as SupervisorNode from "./internal/supervisor.ts"
import type * as LifecycleEvent from "./LifecycleEvent.ts"
import * as Supervisor from "./Supervisor.ts"

/** The actor system of one process. */
export class ActorSystem extends Context.Service<ActorSystem, Service>()("@troupe/runtime/ActorSystem") {}

/** What the actor system offers. */
export interface Service {
  /**
   * Starts an actor at `/name` under the root supervisor. Such actors are `temporary` unless `restart` says
   * otherwise: declare children in a `Supervisor` spec to have them rebuilt after a crash.
   */
  readonly spawn: <M, S, E, R>(
    name: string,
    behavior: Actor.Behavior<M, S, E, R>,
    options?: { readonly restart?: Supervisor.RestartType | undefined }
  ) => Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNameTaken | ActorError.ActorStopped, R>
  /** Starts a supervisor (and its declared children) at `/name`. `temporary` unless `restart` says otherwise. */
  readonly spawnSupervisor: <R>(
    name: string,
    spec: Supervisor.Spec<R>,
    options?: { readonly restart?: Supervisor.RestartType | undefined }
  ) => Effect.Effect<Supervisor.SupervisorRef, ActorError.ActorNameTaken | ActorError.ActorStopped, R>
  /**
   * The live actor at `path`, typed by its protocol: the schema must be the very one its behaviour was built with.
   */
  readonly lookup: <M>(
    path: string,
    protocol: Schema.Schema<M>
  ) => Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNotFound | ActorError.ProtocolMismatch>
  /** The live actor at `path`, to send unknown input to (`tellUnknown` decodes it with the actor's protocol). */
  readonly lookupUnknown: (path: string) => Effect.Effect<ActorRef.ActorRef<never>, ActorError.ActorNotFound>
  /** The live supervisor at `path` (`/` is the root). */
  readonly lookupSupervisor: (path: string) => Effect.Effect<Supervisor.SupervisorRef, ActorError.ActorNotFound>
  /** Stops the actor or supervisor at `path` for good (a supervisor's children first). */
  readonly stop: (path: string) => Effect.Effect<void, ActorError.ActorNotFound>
  /** The paths of every live actor and supervisor, sorted. */
  readonly paths: Effect.Effect<ReadonlyArray<string>>
  /** Lifecycle events from the moment the stream is run. */
  readonly events: Stream.Stream<LifecycleEvent.LifecycleEvent>
  /** A subscription to lifecycle events that starts now (use it when no event may be missed). */
  readonly subscribe: Effect.Effect<PubSub.Subscription<LifecycleEvent.LifecycleEvent>, never, Scope.Scope>
  /** Stops every actor, children before parents, and waits until none is running. Also run when the scope closes. */
  readonly shutdown: Effect.Effect<void>
  /**
   * Waits until the system has ended, with why: `Stopped` after `shutdown`, or `Escalated` when the root
   * supervisor went over its restart intensity and stopped everything (after OTP: a node whose top supervisor
   * gives up is down). A program that spawns `permanent` actors at the root may want to watch this.
   */
  readonly terminated: Effect.Effect<ExitReason.ExitReason>
}

/** Options of the actor system. */
export interface Options {
  /**
   * The root supervisor's restart tolerance. Default: 10 restarts within 1 second. Over it, the root stops every
   * actor and the system ends (`terminated` tells); after that `spawn` fails with `ActorStopped`.
   */
  readonly intensity?: { readonly maxRestarts: number; readonly within: Duration.Input } | undefined
}

/** Builds an actor system in the current scope; closing the scope shuts it down. */
export const make = (options?: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.acquireRelease(makeUnscoped(options), (system) => system.shutdown)

const makeUnscoped = (options?: Options): Effect.Effect<Service> =>
  Effect.gen(function* () {
    const events = yield* PubSub.unbounded<LifecycleEvent.LifecycleEvent>()
    const clock = yield* Clock.clockWith(Effect.succeed)
    const context = yield* Effect.context<never>()
    const core: Core.Core = { registry: new Map(), events, clock, context }
    const ended = Deferred.makeUnsafe<ExitReason.ExitReason>()
    // When the root itself gives up, nothing is above it: the whole tree is stopped.
    const systemParent: Core.Parent = {
      childExited: (node, _incarnation, reason) => {
        Effect.runForkWith(context)(Effect.andThen(node.terminate(reason), Deferred.succeed(ended, reason)))
      }
    }
    const rootSpec = Supervisor.make({
      strategy: "one-for-one",
      intensity: options?.intensity ?? { maxRestarts: 10, within: "1 second" }
    })
    const root = yield* Effect.orDie(
      SupervisorNode.make(core, systemParent, "/", rootSpec, context as Context.Context<any>)
    )
    core.registry.set("/", root)
    yield* root.start

    const find = (path: string): Effect.Effect<Core.Node, ActorError.ActorNotFound> =>
      Effect.suspend(() => {
        const node = core.registry.get(path)
        return node === undefined || node.isTerminated()
          ? Effect.fail(new ActorError.ActorNotFound({ path }))
          : Effect.succeed(node)
      })

    const service: Service = {
      spawn: (name, behavior, spawnOptions) =>
        root.startChild(Supervisor.actor(name, behavior, { restart: spawnOptions?.restart ?? "temporary" })),
      spawnSupervisor: (name, spec, spawnOptions) =>
        root.startSupervisor(Supervisor.supervisor(name, spec, { restart: spawnOptions?.restart ?? "temporary" })),
      lookup: <M>(path: string, protocol: Schema.Schema<M>) =>
        Effect.flatMap(
          find(path),
          (node): Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNotFound | ActorError.ProtocolMismatch> => {
            if (!Cell.isCell(node)) return Effect.fail(new ActorError.ActorNotFound({ path }))
            if (node.protocol !== protocol) return Effect.fail(new ActorError.ProtocolMismatch({ path }))
            return Effect.succeed(node as ActorRef.ActorRef<M>)
          }
        ),
      lookupUnknown: (path) =>
        Effect.flatMap(find(path), (node) =>
          Cell.isCell(node)
            ? Effect.succeed(node as ActorRef.ActorRef<never>)
            : Effect.fail(new ActorError.ActorNotFound({ path }))
        ),
      lookupSupervisor: (path) =>
        Effect.flatMap(find(path), (node) =>
          node instanceof SupervisorNode.SupervisorNode
            ? Effect.succeed(node)
            : Effect.fail(new ActorError.ActorNotFound({ path }))
        ),
      stop: (path) =>
        Effect.flatMap(find(path), (node) => {
          if (node === root) return service.shutdown
          return node.parent instanceof SupervisorNode.SupervisorNode
            ? node.parent.stopChild(Core.nameOf(path))
            : node.terminate(ExitReason.stopped)
        }),
      paths: Effect.sync(() => [...core.registry.keys()].sort()),
      events: Stream.fromPubSub(events),
      subscribe: PubSub.subscribe(events),
      shutdown: Effect.andThen(root.terminate(ExitReason.stopped), Deferred.succeed(ended, ExitReason.stopped)),
      terminated: Deferred.await(ended)
    }
    return service
  })

/** The actor system as a layer; it shuts down when the layer's scope closes. */
export const layer = (options?: Options): Layer.Layer<ActorSystem> => Layer.effect(ActorSystem, make(options))
