/**
 * The actor system: the root supervisor (`startChild` and the other `Supervisor.Children` verbs start and stop
 * its children), lookup by path, stop by path, lifecycle events, and shutdown of the whole tree (children before
 * parents) when its scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ActorSystem, Supervisor } from "@troupe/runtime"
 *
 * const program = Effect.gen(function* () {
 *   const system = yield* ActorSystem.ActorSystem
 *   const counter = yield* system.startChild(Supervisor.actor("counter", Counter))
 *   yield* counter.tell({ _tag: "Add", n: 1 })
 * }).pipe(Effect.provide(ActorSystem.layer()))
 * ```
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ActorError from "./ActorError.ts"
import type * as ActorRef from "./ActorRef.ts"
import * as ExitReason from "./ExitReason.ts"
import * as Cell from "./internal/cell.ts"
import * as Core from "./internal/core.ts"
import * as SupervisorNode from "./internal/supervisor.ts"
import * as Validate from "./internal/validate.ts"
import type * as LifecycleEvent from "./LifecycleEvent.ts"
import * as Supervisor from "./Supervisor.ts"

/** The actor system of one process. */
export class ActorSystem extends Context.Service<ActorSystem, Service>()("@troupe/runtime/ActorSystem") {}

/**
 * What the actor system offers. The `Supervisor.Children` verbs act on the root supervisor, at `/`: children
 * are `permanent` unless their spec says otherwise, as anywhere else, so a crash-looping `permanent` child at
 * the root can bring the whole system down once the root's intensity is exceeded (see `Options`).
 */
export interface Service extends Supervisor.Children {
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
  /** Stops the actor or supervisor at `path` for good (its children first) and removes it from its parent. */
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
   * Waits until the system has ended, with why: `Shutdown` after `shutdown`, or `Shutdown` with a `detail` when
   * the root supervisor went over its restart intensity, gave up and stopped everything (after OTP: a node whose
   * top supervisor gives up is down). A program that starts `permanent` actors at the root may want to watch this.
   */
  readonly terminated: Effect.Effect<ExitReason.ExitReason>
}

/** Options of the actor system. */
export interface Options {
  /**
   * The root supervisor's restart tolerance. Default: 10 restarts within 1 second. Over it, the root stops every
   * actor and the system ends (`terminated` tells); after that `startChild` fails with `ActorStopped`.
   */
  readonly intensity?: Supervisor.Intensity | undefined
}

/**
 * Builds an actor system in the current scope; closing the scope shuts it down. Fails with
 * `InvalidSupervisorSpec` when `options.intensity` is not a valid restart tolerance.
 */
export const make = (options?: Options): Effect.Effect<Service, ActorError.InvalidSupervisorSpec, Scope.Scope> =>
  Effect.acquireRelease(makeUnscoped(options), (system) => system.shutdown)

const makeUnscoped = (options?: Options): Effect.Effect<Service, ActorError.InvalidSupervisorSpec> =>
  Effect.gen(function* () {
    const rootSpec = Supervisor.make({ intensity: options?.intensity ?? { maxRestarts: 10, within: "1 second" } })
    const refused = Validate.flags("/", rootSpec)
    if (refused !== undefined) return yield* refused
    const events = yield* PubSub.unbounded<LifecycleEvent.LifecycleEvent>()
    const clock = yield* Clock.clockWith(Effect.succeed)
    const context = yield* Effect.context<never>()
    const core = new Core.Core(events, clock, context, SupervisorNode.makeChildSupervisor)
    const ended = Deferred.makeUnsafe<ExitReason.ExitReason>()
    // When the root itself gives up, nothing is above it: the whole tree is stopped.
    const systemParent: Core.Parent = {
      childExited: (node, reason) => {
        Effect.runForkWith(context)(Effect.andThen(end(node, reason), Deferred.succeed(ended, reason)))
      }
    }
    const end = (node: Core.Node, reason: ExitReason.ExitReason) =>
      Effect.andThen(
        node.terminate(reason),
        Effect.sync(() => core.timers.stop())
      )
    const root = yield* SupervisorNode.make(core, systemParent, "/", rootSpec, context as Context.Context<any>, false)
    core.registry.set("/", root)
    // The root has no declared children, so its start cannot fail.
    yield* Effect.orDie(root.start)

    const find = (path: string): Effect.Effect<Core.Node, ActorError.ActorNotFound> =>
      Effect.suspend(() => {
        const node = core.registry.get(path)
        return node === undefined || node.isTerminated()
          ? Effect.fail(new ActorError.ActorNotFound({ path }))
          : Effect.succeed(node)
      })

    const shutdown = Effect.andThen(end(root, ExitReason.shutdown), Deferred.succeed(ended, ExitReason.shutdown))

    const service: Service = {
      startChild: root.startChild.bind(root) as Supervisor.StartChild,
      restartChild: (id) => root.restartChild(id),
      stopChild: (id) => root.stopChild(id),
      children: root.children,
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
          if (node === root) return Core.detached(core, shutdown)
          return node.parent instanceof SupervisorNode.SupervisorNode
            ? node.parent.stopChild(Core.nameOf(path))
            : Core.detached(core, node.terminate(ExitReason.shutdown))
        }),
      paths: Effect.sync(() => [...core.registry.keys()].sort()),
      events: Stream.fromPubSub(events),
      subscribe: PubSub.subscribe(events),
      shutdown: Core.detached(core, shutdown),
      terminated: Deferred.await(ended)
    }
    return service
  })

/**
 * The actor system as a layer; it shuts down when the layer's scope closes. Fails with `InvalidSupervisorSpec`
 * when `options.intensity` is not a valid restart tolerance.
 */
export const layer = (options?: Options): Layer.Layer<ActorSystem, ActorError.InvalidSupervisorSpec> =>
  Layer.effect(ActorSystem, make(options))
