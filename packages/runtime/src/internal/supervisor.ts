/**
 * The running side of a supervisor: its children in start order, a control loop that handles their exits one at
 * a time, restart intensity and backoff, and giving up to its own parent. Also the supervisor of the children an
 * actor starts from its context (`embedded`: it lives at the actor's path and publishes no events of its own).
 */
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import type * as Actor from "../Actor.ts"
import * as ActorError from "../ActorError.ts"
import * as ExitReason from "../ExitReason.ts"
import * as Supervisor from "../Supervisor.ts"
import * as Cell from "./cell.ts"
import * as Core from "./core.ts"
import * as Restarts from "./restarts.ts"
import * as SupervisorRef from "./supervisorRef.ts"
import * as Validate from "./validate.ts"

type Control =
  | {
      readonly _tag: "Exited"
      readonly node: Core.Node
      readonly reason: ExitReason.ExitReason
    }
  | { readonly _tag: "RestartDue"; readonly entries: ReadonlyArray<SupervisorRef.Entry>; readonly token: object }

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** A running supervisor: a node to its parent, a parent to its children, and the public `SupervisorRef`. */
export class SupervisorNode extends SupervisorRef.SupervisorRefBase implements Core.ChildSupervisor, Core.Parent {
  readonly parent: Core.Parent
  readonly spec: Supervisor.Spec<any>
  readonly context: Context.Context<any>
  readonly embedded: boolean
  incarnation = 0
  private readonly control: Queue.Queue<Control>
  private readonly restarts: Restarts.Restarts
  /** The incarnation whose control loop runs; 0 before, once halted, and once it gave up. */
  private live = 0
  private loop: Fiber.Fiber<ExitReason.ExitReason> | undefined = undefined
  private readonly timers = new Set<Fiber.Fiber<void>>()

  constructor(
    core: Core.Core,
    parent: Core.Parent,
    path: string,
    spec: Supervisor.Spec<any>,
    context: Context.Context<any>,
    control: Queue.Queue<Control>,
    embedded: boolean
  ) {
    super(core, path)
    this.parent = parent
    this.spec = spec
    this.context = context
    this.control = control
    this.embedded = embedded
    // The spec was checked before this node was made, so its period is valid.
    this.restarts = new Restarts.Restarts(spec, Validate.periodMillis(spec.intensity.within) ?? 1)
  }

  isRunning(): boolean {
    return this.live !== 0
  }

  childExited(node: Core.Node, reason: ExitReason.ExitReason): void {
    Queue.offerUnsafe(this.control, { _tag: "Exited", node, reason })
  }

  // ---- Node -----------------------------------------------------------------------------------------------

  /** Starts the declared children in order, each after the previous one's `init`, then the control loop. */
  get start(): Effect.Effect<void, ActorError.ChildInitFailed> {
    return this.lock.with(
      Effect.uninterruptibleMask((restore) =>
        Effect.gen({ self: this }, function* () {
          if (this.terminated !== undefined) {
            return yield* new ActorError.ChildInitFailed({ path: this.path, reason: this.terminated })
          }
          const incarnation = ++this.incarnation
          this.accepting = true
          this.restarts.reset()
          yield* this.fromSpec()
          for (const entry of this.entries.values()) {
            const exit = yield* Effect.exit(restore(entry.node.start))
            if (Exit.isSuccess(exit)) {
              entry.status = "running"
              continue
            }
            this.accepting = false
            yield* this.haltChildren
            return yield* new ActorError.ChildInitFailed({ path: this.path, reason: ExitReason.fromCause(exit.cause) })
          }
          this.launch(incarnation)
          if (!this.embedded) {
            Core.emit(this.core, { _tag: "ActorStarted", path: this.path, incarnation, at: Core.now(this.core) })
          }
        })
      )
    )
  }

  /** Rebuilds the children from the spec: halted declared children start in place, ended ones anew. */
  private fromSpec(): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      const previous = this.entries
      this.entries = new Map()
      for (const child of this.spec.children) {
        const kept = previous.get(child.id)
        previous.delete(child.id)
        const node =
          // Halting dropped the children started on demand, so what is kept under a declared id is declared.
          kept !== undefined && !kept.node.isTerminated() ? kept.node : yield* this.makeChild(child, this.context)
        this.entries.set(child.id, {
          id: child.id,
          child,
          context: this.context,
          dynamic: false,
          node,
          status: "restarting",
          restartToken: undefined
        })
      }
      // Children started on demand by the incarnation that ended are not part of the next one.
      for (const entry of previous.values()) yield* entry.node.terminate(ExitReason.shutdown)
    })
  }

  protected makeChild(child: Supervisor.Child<any>, context: Context.Context<any>): Effect.Effect<Core.Node> {
    const path = Core.childPath(this.path, child.id)
    return Effect.map(makeNode(this.core, this, path, child, context), (node) => {
      this.core.registry.set(path, node)
      return node
    })
  }

  private launch(incarnation: number): void {
    this.live = incarnation
    const fiber = Effect.runForkWith(this.context)(this.run(incarnation))
    this.loop = fiber
    this.core.fibers.add(fiber)
    fiber.addObserver((exit) => {
      if (this.loop === fiber) this.loop = undefined
      if (this.live !== incarnation) return
      this.live = 0
      this.parent.childExited(this, Exit.isSuccess(exit) ? exit.value : ExitReason.fromCause(exit.cause))
    })
  }

  get halt(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.terminated !== undefined) return Effect.void
      const loop = this.loop
      this.live = 0
      this.accepting = false
      loop?.interruptUnsafe()
      return Effect.andThen(Core.awaitEnd(loop), this.lock.with(Effect.uninterruptible(this.haltChildren)))
    })
  }

  terminate(reason: ExitReason.ExitReason): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.terminated !== undefined) return Effect.void
      return Effect.andThen(
        this.halt,
        this.lock.with(
          Effect.uninterruptible(
            Effect.suspend(() => {
              if (this.terminated !== undefined) return Effect.void
              this.terminated = reason
              const entries = [...this.entries.values()].reverse()
              this.entries = new Map()
              return Effect.andThen(
                Effect.forEach(entries, (entry) => entry.node.terminate(ExitReason.shutdown), { discard: true }),
                Effect.sync(() => {
                  if (this.core.registry.get(this.path) === this) this.core.registry.delete(this.path)
                  if (!this.embedded) {
                    Core.emit(this.core, { _tag: "ActorTerminated", path: this.path, reason, at: Core.now(this.core) })
                  }
                })
              )
            })
          )
        )
      )
    })
  }

  // ---- the control loop -------------------------------------------------------------------------------------

  private run(incarnation: number): Effect.Effect<ExitReason.ExitReason> {
    return Effect.gen({ self: this }, function* () {
      while (true) {
        const message = yield* Queue.take(this.control)
        const outcome = yield* this.lock.with(
          Effect.uninterruptibleMask((restore) => this.handle(message, incarnation, restore))
        )
        if (outcome !== undefined) return outcome
      }
    })
  }

  /** Halts every child, last started first; children started on demand are stopped for good. */
  private readonly haltChildren: Effect.Effect<void> = Effect.suspend(() => {
    for (const timer of this.timers) timer.interruptUnsafe()
    this.timers.clear()
    while (Queue.takeUnsafe(this.control) !== undefined) {
      // stale exits and restarts of the incarnation being halted
    }
    return Effect.forEach(
      [...this.entries.values()].reverse(),
      (entry) =>
        Effect.suspend(() => {
          if (entry.dynamic) {
            this.entries.delete(entry.id)
            return entry.node.terminate(ExitReason.shutdown)
          }
          // Statuses are set anew when the supervisor starts again, from its spec.
          return entry.node.halt
        }),
      { discard: true }
    )
  })

  private handle(
    message: Control,
    incarnation: number,
    restore: Restore
  ): Effect.Effect<ExitReason.ExitReason | undefined> {
    if (message._tag === "RestartDue") {
      // Only the entries still waiting for this very restart: a later failure may have rescheduled them (with a
      // longer backoff, and together with the children they depend on, which must start first).
      const due = message.entries.filter(
        (e) => e.restartToken === message.token && this.entries.get(e.id) === e && e.status === "restarting"
      )
      return this.restart(due, incarnation, restore)
    }
    return Effect.suspend(() => {
      const { node, reason } = message
      const entry = this.entries.get(Core.nameOf(node.path))
      // A child halted since it exited (a sibling's restart came first) is in that restart's hands already.
      if (entry === undefined || entry.node !== node || entry.status !== "running") return Effect.succeed(undefined)
      if (!Supervisor.shouldRestart(entry.child.restart, ExitReason.isAbnormal(reason))) {
        // OTP keeps a transient child that ended cleanly; a temporary one is forgotten.
        if (entry.child.restart === "temporary") this.entries.delete(entry.id)
        else entry.status = "ended"
        return Effect.as(node.terminate(reason), undefined)
      }
      return this.failure(entry, reason)
    })
  }

  /** Starts `entries` in order, each after the previous one's `init`; a child failing to start is a failure. */
  private restart(
    entries: ReadonlyArray<SupervisorRef.Entry>,
    incarnation: number,
    restore: Restore
  ): Effect.Effect<ExitReason.ExitReason | undefined> {
    return Effect.gen({ self: this }, function* () {
      for (const entry of entries) {
        if (entry.node.isTerminated()) entry.node = yield* this.makeChild(entry.child, entry.context)
        const exit = yield* Effect.exit(restore(entry.node.start))
        if (this.live !== incarnation) return undefined
        if (Exit.isSuccess(exit)) {
          entry.status = "running"
          continue
        }
        return yield* this.failure(entry, SupervisorRef.initFailure(exit.cause))
      }
      return undefined
    })
  }

  /** Counts the exit of `entry` against the intensity, then gives up or schedules the restart its strategy says. */
  private failure(
    entry: SupervisorRef.Entry,
    reason: ExitReason.ExitReason
  ): Effect.Effect<ExitReason.ExitReason | undefined> {
    return Effect.gen({ self: this }, function* () {
      const now = Core.now(this.core)
      const path = entry.node.path
      entry.status = "restarting"
      if (this.restarts.record(now)) return yield* this.giveUp(path, now)
      const delay = yield* this.restarts.delay(now)
      const affected = this.affectedBy(entry)
      for (const sibling of affected.slice().reverse()) {
        if (sibling === entry) continue
        if (sibling.child.restart === "temporary") {
          this.entries.delete(sibling.id)
          yield* sibling.node.terminate(ExitReason.shutdown)
        } else if (sibling.status === "running") {
          sibling.status = "restarting"
          yield* sibling.node.halt
        } else {
          sibling.status = "restarting"
        }
      }
      const restarting = affected.filter((e) => this.entries.get(e.id) === e)
      const token = {}
      const delayMillis = Duration.toMillis(delay)
      for (const e of restarting) {
        e.restartToken = token
        Core.emit(this.core, {
          _tag: "ActorRestarted",
          path: e.node.path,
          reason: e === entry ? reason : ExitReason.shutdown,
          trigger: path,
          delayMillis,
          at: now
        })
      }
      const due: Control = { _tag: "RestartDue", entries: restarting, token }
      // Through the control queue even without a delay, so that retries after failed starts do not nest.
      if (delayMillis <= 0) Queue.offerUnsafe(this.control, due)
      else this.schedule(due, delay)
      return undefined
    })
  }

  private giveUp(child: string, now: number): Effect.Effect<ExitReason.ExitReason> {
    const { maxRestarts, withinMillis } = this.restarts
    Core.emit(this.core, {
      _tag: "SupervisorGaveUp",
      path: this.path,
      child,
      restarts: maxRestarts,
      withinMillis,
      at: now
    })
    this.accepting = false
    return Effect.as(
      this.haltChildren,
      ExitReason.shutdownWith(`gave up: ${child} exited after ${maxRestarts} restarts within ${withinMillis}ms`)
    )
  }

  private affectedBy(entry: SupervisorRef.Entry): Array<SupervisorRef.Entry> {
    switch (this.spec.strategy) {
      case "one-for-one":
        return [entry]
      case "one-for-all":
        return [...this.entries.values()]
      case "rest-for-one": {
        const all = [...this.entries.values()]
        return all.slice(all.indexOf(entry))
      }
    }
  }

  private schedule(due: Control, delay: Duration.Duration): void {
    const timer = Effect.runForkWith(this.context)(
      Effect.andThen(
        Effect.sleep(delay),
        Effect.sync(() => {
          Queue.offerUnsafe(this.control, due)
        })
      )
    )
    this.timers.add(timer)
    timer.addObserver(() => this.timers.delete(timer))
  }
}

/** Creates (but does not start) the node for a child spec that passed `Validate.child`. */
export const makeNode = (
  core: Core.Core,
  parent: Core.Parent,
  path: string,
  child: Supervisor.Child<any>,
  context: Context.Context<any>
): Effect.Effect<Core.Node> =>
  child._tag === "ActorChild"
    ? Effect.succeed(Cell.make(core, parent, path, child.behavior as Actor.Behavior<any, any, any, any>, context))
    : make(core, parent, path, child.spec, context, false)

/** Creates (but does not start) a supervisor node; its declared children are made when it starts. */
export const make = (
  core: Core.Core,
  parent: Core.Parent,
  path: string,
  spec: Supervisor.Spec<any>,
  context: Context.Context<any>,
  embedded: boolean
): Effect.Effect<SupervisorNode> =>
  Effect.map(
    Queue.unbounded<Control>(),
    (control) => new SupervisorNode(core, parent, path, spec, context, control, embedded)
  )

/** Makes the supervisor of the children an actor starts from its context (`Core.MakeChildSupervisor`). */
export const makeChildSupervisor: Core.MakeChildSupervisor = (core, actor, flags, context) =>
  make(core, actor, actor.path, { ...flags, children: [] }, context, true)
