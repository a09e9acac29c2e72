/**
 * The `SupervisorRef` side of a supervisor: its children table and the `Supervisor.Children` verbs on it. The
 * supervisor node adds its lifecycle and the control loop that handles its children's exits.
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as ActorError from "../ActorError.ts"
import type * as ActorRef from "../ActorRef.ts"
import * as ExitReason from "../ExitReason.ts"
import type * as Supervisor from "../Supervisor.ts"
import * as Cell from "./cell.ts"
import * as Core from "./core.ts"
import * as Validate from "./validate.ts"

/** One child of a supervisor, from its spec to its current node. */
export interface Entry {
  readonly id: string
  readonly child: Supervisor.Child<any>
  readonly context: Context.Context<any>
  /** Started on demand rather than declared: gone when the supervisor restarts from its spec. */
  readonly dynamic: boolean
  /** Replaced when an ended child is started again. */
  node: Core.Node
  /** `ended`: a transient child that exited cleanly, kept (not running) until a restart brings it back. */
  status: "starting" | "running" | "restarting" | "ended"
  /** The restart this entry waits for; a later failure that covers the entry replaces it. */
  restartToken: object | undefined
}

/** A supervisor's children and the verbs on them. */
export abstract class SupervisorRefBase implements Supervisor.SupervisorRef {
  readonly path: string
  readonly core: Core.Core
  /** The children by id; a `Map` keeps them in start order. */
  protected entries = new Map<string, Entry>()
  protected readonly lock = new Core.Lock()
  protected terminated: ExitReason.ExitReason | undefined = undefined
  /** `startChild` is accepted: an incarnation is starting or running. */
  protected accepting = false

  constructor(core: Core.Core, path: string) {
    this.core = core
    this.path = path
  }

  isTerminated(): boolean {
    return this.terminated !== undefined
  }

  /** Makes (and registers, not starts) the node of a child spec. */
  protected abstract makeChild(child: Supervisor.Child<any>, context: Context.Context<any>): Effect.Effect<Core.Node>

  ref<M>(child: Supervisor.ActorChild<M, any>): Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNotFound> {
    return Effect.suspend(() => {
      const node = this.entries.get(child.id)?.node
      return node !== undefined && Cell.isCell(node) && node.behavior === child.behavior && !node.isTerminated()
        ? Effect.succeed(node as ActorRef.ActorRef<M>)
        : Effect.fail(new ActorError.ActorNotFound({ path: Core.childPath(this.path, child.id) }))
    })
  }

  supervisor(id: string): Effect.Effect<Supervisor.SupervisorRef, ActorError.ActorNotFound> {
    return Effect.suspend(() => {
      const node = this.entries.get(id)?.node
      return node instanceof SupervisorRefBase && !node.isTerminated()
        ? Effect.succeed(node)
        : Effect.fail(new ActorError.ActorNotFound({ path: Core.childPath(this.path, id) }))
    })
  }

  startChild<M, R>(child: Supervisor.ActorChild<M, R>): Effect.Effect<ActorRef.ActorRef<M>, ActorError.StartError, R>
  startChild<R>(child: Supervisor.SupervisorChild<R>): Effect.Effect<Supervisor.SupervisorRef, ActorError.StartError, R>
  startChild(child: Supervisor.Child<any>): Effect.Effect<any, ActorError.StartError, any> {
    return Effect.flatMap(Effect.context<any>(), (context) => this.add(child, context))
  }

  /** Checks the whole spec, then registers the child, starts it and waits for its `init`. */
  protected add(
    child: Supervisor.Child<any>,
    context: Context.Context<any>
  ): Effect.Effect<Core.Node, ActorError.StartError> {
    const refused = Validate.child(this.path, child)
    if (refused !== undefined) return Effect.fail(refused)
    return this.lock.with(
      Effect.suspend((): Effect.Effect<Core.Node, ActorError.StartError> => {
        // A terminated supervisor was halted first, so it does not accept either.
        if (!this.accepting) {
          return Effect.fail(new ActorError.ActorStopped({ path: this.path }))
        }
        const path = Core.childPath(this.path, child.id)
        if (this.entries.has(child.id) || this.core.registry.has(path)) {
          return Effect.fail(new ActorError.ActorNameTaken({ path }))
        }
        return Effect.flatMap(this.makeChild(child, context), (node) => {
          const entry: Entry = {
            id: child.id,
            child,
            context,
            dynamic: true,
            node,
            status: "starting",
            restartToken: undefined
          }
          this.entries.set(child.id, entry)
          // Only `init` may be interrupted: whatever happens to it, the entry is settled.
          return Effect.flatMap(Effect.exit(node.start), (exit) => {
            if (Exit.isSuccess(exit)) {
              entry.status = "running"
              return Effect.succeed(node)
            }
            if (this.entries.get(child.id) === entry) this.entries.delete(child.id)
            return Effect.uninterruptible(
              Effect.andThen(node.terminate(initFailure(exit.cause)), Effect.failCause(exit.cause))
            )
          })
        })
      })
    )
  }

  restartChild(
    id: string
  ): Effect.Effect<void, ActorError.ActorNotFound | ActorError.ChildInitFailed | ActorError.ActorStopped> {
    return this.lock.with(
      Effect.uninterruptibleMask((restore) =>
        Effect.gen({ self: this }, function* () {
          if (!this.accepting) {
            return yield* new ActorError.ActorStopped({ path: this.path })
          }
          const entry = this.entries.get(id)
          if (entry === undefined) return yield* new ActorError.ActorNotFound({ path: Core.childPath(this.path, id) })
          if (entry.status !== "ended") return
          entry.node = yield* this.makeChild(entry.child, entry.context)
          entry.status = "starting"
          const exit = yield* Effect.exit(restore(entry.node.start))
          if (Exit.isSuccess(exit)) {
            entry.status = "running"
            return
          }
          entry.status = "ended"
          yield* entry.node.terminate(initFailure(exit.cause))
          return yield* Effect.failCause(exit.cause)
        })
      )
    )
  }

  stopChild(id: string): Effect.Effect<void, ActorError.ActorNotFound> {
    // Within this supervisor's own lock (a child's `init` stopping a sibling) the stop must run right here.
    return Effect.withFiber((fiber) =>
      this.lock.isHeldBy(fiber) ? this.stopChildNow(id) : Core.detached(this.core, this.stopChildNow(id))
    )
  }

  private stopChildNow(id: string): Effect.Effect<void, ActorError.ActorNotFound> {
    return this.lock.with(
      Effect.uninterruptible(
        Effect.suspend(() => {
          const entry = this.entries.get(id)
          if (entry === undefined) {
            return Effect.fail(new ActorError.ActorNotFound({ path: Core.childPath(this.path, id) }))
          }
          this.entries.delete(id)
          return entry.node.terminate(ExitReason.shutdown)
        })
      )
    )
  }

  get children(): Effect.Effect<ReadonlyArray<Supervisor.ChildInfo>> {
    return Effect.sync(() =>
      [...this.entries.values()].map((e) => ({
        id: e.id,
        path: e.node.path,
        kind: e.child._tag === "SupervisorChild" ? "supervisor" : "actor",
        restart: e.child.restart,
        running: e.node.isRunning()
      }))
    )
  }
}

/** Why a child failed to start: the reason inside its `ChildInitFailed`, or the cause itself. */
export const initFailure = (cause: Cause.Cause<ActorError.ChildInitFailed>): ExitReason.ExitReason =>
  Result.match(Cause.findError(cause), { onSuccess: (error) => error.reason, onFailure: ExitReason.fromCause })
