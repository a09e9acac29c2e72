/**
 * The `ActorContext` of one incarnation of an actor: its ref, death watch, and the children it starts, which a
 * supervisor of its own (made on the first `startChild`, with the behaviour's `supervision` flags) keeps under the
 * actor's path. The children belong to the incarnation: they are stopped when it ends.
 */
import * as Effect from "effect/Effect"
import type * as Actor from "../Actor.ts"
import * as ActorError from "../ActorError.ts"
import type * as ActorRef from "../ActorRef.ts"
import * as ExitReason from "../ExitReason.ts"
import type * as Supervisor from "../Supervisor.ts"
import type * as Cell from "./cell.ts"
import * as Core from "./core.ts"

/** The `ActorContext` of one incarnation; methods live on the prototype to keep idle actors small. */
export class CellContext<M> implements Actor.ActorContext<M> {
  readonly self: Cell.ActorCell<M, any, any, any>
  readonly incarnation: number
  /** The supervisor of the children this incarnation started, once it started one. */
  supervisor: Core.ChildSupervisor | undefined = undefined

  constructor(self: Cell.ActorCell<M, any, any, any>, incarnation: number) {
    this.self = self
    this.incarnation = incarnation
  }

  get path(): string {
    return this.self.path
  }

  watch(target: ActorRef.ActorRef<never>, map: (terminated: Actor.Terminated) => M): Effect.Effect<void> {
    return Effect.sync(() => this.self.watchUnsafe(target, map))
  }

  unwatch(target: ActorRef.ActorRef<never>): Effect.Effect<void> {
    return Effect.sync(() => this.self.unwatchUnsafe(target))
  }

  startChild<M2, R>(child: Supervisor.ActorChild<M2, R>): Effect.Effect<ActorRef.ActorRef<M2>, ActorError.StartError, R>
  startChild<R>(child: Supervisor.SupervisorChild<R>): Effect.Effect<Supervisor.SupervisorRef, ActorError.StartError, R>
  startChild(child: Supervisor.Child<any>): Effect.Effect<unknown, ActorError.StartError, any> {
    return Effect.flatMap(this.childSupervisor, (supervisor) =>
      supervisor.startChild(child as Supervisor.ActorChild<any>)
    )
  }

  restartChild(
    id: string
  ): Effect.Effect<void, ActorError.ActorNotFound | ActorError.ChildInitFailed | ActorError.ActorStopped> {
    return Effect.suspend(() =>
      this.supervisor === undefined ? Effect.fail(this.notFound(id)) : this.supervisor.restartChild(id)
    )
  }

  stopChild(id: string): Effect.Effect<void, ActorError.ActorNotFound> {
    return Effect.suspend(() =>
      this.supervisor === undefined ? Effect.fail(this.notFound(id)) : this.supervisor.stopChild(id)
    )
  }

  get children(): Effect.Effect<ReadonlyArray<Supervisor.ChildInfo>> {
    return Effect.suspend(() => (this.supervisor === undefined ? Effect.succeed([]) : this.supervisor.children))
  }

  private notFound(id: string): ActorError.ActorNotFound {
    return new ActorError.ActorNotFound({ path: Core.childPath(this.self.path, id) })
  }

  /** The children's supervisor, made and started on first use; refused once the incarnation has ended. */
  private get childSupervisor(): Effect.Effect<Core.ChildSupervisor, ActorError.ActorStopped> {
    return Effect.suspend(() => {
      if (this.self.current !== this) return Effect.fail(new ActorError.ActorStopped({ path: this.self.path }))
      if (this.supervisor !== undefined) return Effect.succeed(this.supervisor)
      const { core, behavior, context } = this.self
      return Effect.flatMap(core.makeChildSupervisor(core, this.self, behavior.supervision, context), (made) => {
        if (this.supervisor !== undefined) return Effect.succeed(this.supervisor)
        this.supervisor = made
        // It has no declared children, so its start cannot fail.
        return Effect.as(Effect.orDie(made.start), made)
      })
    })
  }
}

/** Stops the children an incarnation started (their own children first), and waits until they have ended. */
export const stopChildren = (context: CellContext<any> | undefined): Effect.Effect<void> =>
  context?.supervisor === undefined ? Effect.void : context.supervisor.terminate(ExitReason.shutdown)
