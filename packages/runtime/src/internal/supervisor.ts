/**
 * The running side of a supervisor: its children in start order, a control loop that handles their exits one at
 * a time, restart intensity and backoff, and escalation to its own parent.
 */
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Semaphore from "effect/Semaphore"
import type * as Actor from "../Actor.ts"
import * as ActorError from "../ActorError.ts"
import type * as ActorRef from "../ActorRef.ts"
import * as ExitReason from "../ExitReason.ts"
import * as Supervisor from "../Supervisor.ts"
import * as Cell from "./cell.ts"
import * as Core from "./core.ts"

interface Entry {
  readonly id: string
  readonly restart: Supervisor.RestartType
  readonly node: Core.Node
  /** Not running: halted by a sibling's restart, waiting for a backoff, or after an escalation. */
  down: boolean
  /** The restart this entry waits for; a later failure that covers the entry replaces it. */
  restartToken: number
}

type Control =
  | {
      readonly _tag: "Exited"
      readonly node: Core.Node
      readonly incarnation: number
      readonly reason: ExitReason.ExitReason
    }
  | { readonly _tag: "RestartDue"; readonly entries: ReadonlyArray<Entry>; readonly token: number }

type Step = (now: number, input: unknown) => Effect.Effect<[number, Duration.Duration], unknown>

/** A running supervisor: a node to its parent, a parent to its children, and the public `SupervisorRef`. */
export class SupervisorNode extends Core.Incarnated<never> implements Core.Node, Core.Parent, Supervisor.SupervisorRef {
  readonly path: string
  readonly core: Core.Core
  readonly parent: Core.Parent
  readonly spec: Supervisor.Spec<any>
  readonly context: Context.Context<any>
  /** The children by id; a `Map` keeps them in start order. */
  private entries = new Map<string, Entry>()
  private readonly control: Queue.Queue<Control>
  private readonly lock: Semaphore.Semaphore
  private terminated: ExitReason.ExitReason | undefined = undefined
  private restarts: Array<number> = []
  private step: Step | undefined = undefined
  private lastDelay: Duration.Duration = Duration.zero
  private readonly timers = new Set<Fiber.Fiber<void>>()
  private restartTokens = 0

  constructor(
    core: Core.Core,
    parent: Core.Parent,
    path: string,
    spec: Supervisor.Spec<any>,
    context: Context.Context<any>,
    control: Queue.Queue<Control>
  ) {
    super()
    this.core = core
    this.parent = parent
    this.path = path
    this.spec = spec
    this.context = context
    this.control = control
    this.lock = Semaphore.makeUnsafe(1)
  }

  isTerminated(): boolean {
    return this.terminated !== undefined
  }

  // ---- Parent ---------------------------------------------------------------------------------------------

  childExited(node: Core.Node, incarnation: number, reason: ExitReason.ExitReason): void {
    Queue.offerUnsafe(this.control, { _tag: "Exited", node, incarnation, reason })
  }

  // ---- Node -----------------------------------------------------------------------------------------------

  readonly start: Effect.Effect<void> = Effect.sync(() => {
    if (this.terminated === undefined) this.launch(this.context, (incarnation) => this.run(incarnation))
  })

  protected ended(incarnation: number, exit: Exit.Exit<ExitReason.ExitReason>, reported: boolean): void {
    if (reported) {
      this.parent.childExited(this, incarnation, Exit.isSuccess(exit) ? exit.value : ExitReason.fromCause(exit.cause))
    }
  }

  readonly halt: Effect.Effect<void> = Effect.suspend(() =>
    Effect.andThen(this.interruptIncarnation(), this.withLock(this.haltChildren))
  )

  terminate(reason: ExitReason.ExitReason): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.terminated !== undefined) return Effect.void
      return Effect.andThen(
        this.halt,
        this.withLock(
          Effect.suspend(() => {
            if (this.terminated !== undefined) return Effect.void
            this.terminated = reason
            const entries = [...this.entries.values()].reverse()
            this.entries = new Map()
            return Effect.andThen(
              Effect.forEach(entries, (entry) => entry.node.terminate(ExitReason.stopped), { discard: true }),
              Effect.sync(() => {
                if (this.core.registry.get(this.path) === this) this.core.registry.delete(this.path)
                Queue.shutdownUnsafe(this.control)
                Core.emit(this.core, { _tag: "Stopped", path: this.path, reason, at: Core.now(this.core) })
              })
            )
          })
        )
      )
    })
  }

  // ---- SupervisorRef ----------------------------------------------------------------------------------------

  ref<M>(child: Supervisor.ActorChild<M, any>): Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNotFound> {
    return Effect.suspend(() => {
      const entry = this.entries.get(child.id)
      return entry !== undefined && Cell.isCell(entry.node) && entry.node.behavior === child.behavior
        ? Effect.succeed(entry.node as ActorRef.ActorRef<M>)
        : Effect.fail(new ActorError.ActorNotFound({ path: Core.childPath(this.path, child.id) }))
    })
  }

  supervisor(id: string): Effect.Effect<Supervisor.SupervisorRef, ActorError.ActorNotFound> {
    return Effect.suspend(() => {
      const entry = this.entries.get(id)
      return entry !== undefined && entry.node instanceof SupervisorNode
        ? Effect.succeed(entry.node)
        : Effect.fail(new ActorError.ActorNotFound({ path: Core.childPath(this.path, id) }))
    })
  }

  startChild<M, R>(
    child: Supervisor.ActorChild<M, R>
  ): Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNameTaken | ActorError.ActorStopped, R> {
    return Effect.flatMap(Effect.context<R>(), (context) =>
      this.add(child, context).pipe(Effect.map((node) => node as unknown as ActorRef.ActorRef<M>))
    )
  }

  startSupervisor<R>(
    child: Supervisor.SupervisorChild<R>
  ): Effect.Effect<Supervisor.SupervisorRef, ActorError.ActorNameTaken | ActorError.ActorStopped, R> {
    return Effect.flatMap(Effect.context<R>(), (context) =>
      this.add(child, context).pipe(Effect.map((node) => node as SupervisorNode))
    )
  }

  spawn<A, M, R>(
    template: Supervisor.Template<A, M, R>,
    id: string,
    args: A
  ): Effect.Effect<ActorRef.ActorRef<M>, ActorError.ActorNameTaken | ActorError.ActorStopped, R> {
    return Effect.suspend(() =>
      this.startChild(Supervisor.actor(id, template.build(args), { restart: template.restart }))
    )
  }

  stopChild(id: string): Effect.Effect<void, ActorError.ActorNotFound> {
    return this.withLock(
      Effect.suspend(() => {
        const entry = this.entries.get(id)
        if (entry === undefined)
          return Effect.fail(new ActorError.ActorNotFound({ path: Core.childPath(this.path, id) }))
        this.entries.delete(id)
        return entry.node.terminate(ExitReason.stopped)
      })
    )
  }

  get children(): Effect.Effect<ReadonlyArray<Supervisor.ChildInfo>> {
    return Effect.sync(() =>
      [...this.entries.values()].map((e) => ({
        id: e.id,
        path: e.node.path,
        kind: e.node instanceof SupervisorNode ? "supervisor" : "actor",
        restart: e.restart,
        running: !e.down
      }))
    )
  }

  // ---- internals --------------------------------------------------------------------------------------------

  /**
   * Runs `effect` holding this supervisor's lock, in a fiber of its own: an actor that stops itself (or its own
   * supervisor) would otherwise interrupt the very fiber doing the stopping.
   */
  private withLock<A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.flatMap(Effect.forkDetach(Effect.uninterruptible(this.lock.withPermits(1)(effect))), Fiber.join)
  }

  /** Creates a child from its declaration, and starts it when this supervisor is running. */
  add(
    child: Supervisor.Child<any>,
    context: Context.Context<any>
  ): Effect.Effect<Core.Node, ActorError.ActorNameTaken | ActorError.ActorStopped> {
    // Starting never stops anything, so unlike `withLock` it needs no fiber of its own.
    return this.lock.withPermits(1)(
      Effect.gen({ self: this }, function* () {
        if (this.terminated !== undefined) return yield* new ActorError.ActorStopped({ path: this.path })
        if (!Core.isValidName(child.id)) {
          return yield* new ActorError.ActorNameTaken({ path: Core.childPath(this.path, child.id) })
        }
        const path = Core.childPath(this.path, child.id)
        if (this.core.registry.has(path)) return yield* new ActorError.ActorNameTaken({ path })
        const node = yield* makeNode(this.core, this, path, child, context)
        this.core.registry.set(path, node)
        const running = this.running
        this.entries.set(child.id, {
          id: child.id,
          restart: child.restart,
          node,
          down: !running,
          restartToken: 0
        })
        if (running) yield* node.start
        return node
      })
    )
  }

  private run(incarnation: number): Effect.Effect<ExitReason.ExitReason> {
    return Effect.gen({ self: this }, function* () {
      yield* this.lock.withPermits(1)(this.startDown([...this.entries.values()]))
      Core.emit(this.core, { _tag: "Started", path: this.path, incarnation, at: Core.now(this.core) })
      while (true) {
        const message = yield* Queue.take(this.control)
        const outcome = yield* this.lock.withPermits(1)(Effect.uninterruptible(this.handle(message)))
        if (outcome !== undefined) return outcome
      }
    })
  }

  private startDown(entries: ReadonlyArray<Entry>): Effect.Effect<void> {
    return Effect.forEach(
      entries,
      (entry) =>
        Effect.suspend(() => {
          if (!entry.down || this.entries.get(entry.id) !== entry) return Effect.void
          entry.down = false
          return entry.node.start
        }),
      { discard: true }
    )
  }

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
          entry.down = true
          return entry.node.halt
        }),
      { discard: true }
    )
  })

  private handle(message: Control): Effect.Effect<ExitReason.ExitReason | undefined> {
    if (message._tag === "RestartDue") {
      // Only the entries still waiting for this very restart: a later failure may have rescheduled them (with a
      // longer backoff, and together with the children they depend on, which must start first).
      const due = message.entries.filter((e) => e.restartToken === message.token)
      return Effect.as(this.startDown(due), undefined)
    }
    return Effect.gen({ self: this }, function* () {
      const { node, incarnation, reason } = message
      const id = Core.nameOf(node.path)
      const entry = this.entries.get(id)
      if (entry === undefined || entry.node !== node || entry.down || node.incarnation !== incarnation) return undefined
      entry.down = true
      if (!Supervisor.shouldRestart(entry.restart, ExitReason.isAbnormal(reason))) {
        this.entries.delete(id)
        yield* node.terminate(reason)
        return undefined
      }
      const now = Core.now(this.core)
      const within = Duration.toMillis(this.spec.intensity.within)
      this.restarts = this.restarts.filter((t) => now - t < within)
      if (this.restarts.length === 0) this.step = undefined
      this.restarts.push(now)
      if (this.restarts.length > this.spec.intensity.maxRestarts) {
        Core.emit(this.core, {
          _tag: "Escalated",
          path: this.path,
          child: node.path,
          restarts: this.restarts.length - 1,
          withinMillis: within,
          at: now
        })
        this.restarts = []
        this.step = undefined
        yield* this.haltChildren
        return ExitReason.Escalated.make({
          child: node.path,
          restarts: this.spec.intensity.maxRestarts,
          withinMillis: within
        })
      }
      const delay = yield* this.nextDelay(now)
      const affected = this.affectedBy(entry)
      for (const sibling of affected.slice().reverse()) {
        if (sibling === entry) continue
        if (sibling.restart === "temporary") {
          this.entries.delete(sibling.id)
          yield* sibling.node.terminate(ExitReason.stopped)
        } else if (!sibling.down) {
          sibling.down = true
          yield* sibling.node.halt
        }
      }
      const restarting = affected.filter((e) => this.entries.get(e.id) === e)
      const token = ++this.restartTokens
      for (const e of restarting) e.restartToken = token
      const delayMillis = Duration.toMillis(delay)
      for (const e of restarting) {
        Core.emit(this.core, {
          _tag: "Restarted",
          path: e.node.path,
          reason: e === entry ? reason : ExitReason.stopped,
          delayMillis,
          at: now
        })
      }
      if (delayMillis <= 0) {
        yield* this.startDown(restarting)
      } else {
        this.scheduleRestart(restarting, token, delay)
      }
      return undefined
    })
  }

  private affectedBy(entry: Entry): Array<Entry> {
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

  private nextDelay(now: number): Effect.Effect<Duration.Duration> {
    const backoff = this.spec.backoff
    if (backoff === undefined) return Effect.succeed(Duration.zero)
    return Effect.gen({ self: this }, function* () {
      if (this.step === undefined) this.step = (yield* Schedule.toStep(backoff)) as unknown as Step
      const result = yield* Effect.result(this.step(now, this.restarts.length))
      // A finished schedule keeps its last delay rather than restarting without one.
      if (result._tag === "Success") this.lastDelay = result.success[1]
      return this.lastDelay
    })
  }

  private scheduleRestart(entries: ReadonlyArray<Entry>, token: number, delay: Duration.Duration): void {
    const timer = Effect.runForkWith(this.context)(
      Effect.andThen(
        Effect.sleep(delay),
        Effect.sync(() => {
          Queue.offerUnsafe(this.control, { _tag: "RestartDue", entries, token })
        })
      )
    )
    this.timers.add(timer)
    timer.addObserver(() => this.timers.delete(timer))
  }
}

/** Creates (but does not start) the node for a child declaration. */
export const makeNode = (
  core: Core.Core,
  parent: Core.Parent,
  path: string,
  child: Supervisor.Child<any>,
  context: Context.Context<any>
): Effect.Effect<Core.Node, ActorError.ActorNameTaken | ActorError.ActorStopped> =>
  child._tag === "ActorChild"
    ? Cell.make(core, parent, path, child.behavior as Actor.Behavior<any, any, any, any>, context)
    : make(core, parent, path, child.spec, context)

/** Creates (but does not start) a supervisor node and the nodes of its declared children. */
export const make = (
  core: Core.Core,
  parent: Core.Parent,
  path: string,
  spec: Supervisor.Spec<any>,
  context: Context.Context<any>
): Effect.Effect<SupervisorNode, ActorError.ActorNameTaken | ActorError.ActorStopped> =>
  Effect.gen(function* () {
    const control = yield* Queue.unbounded<Control>()
    const node = new SupervisorNode(core, parent, path, spec, context, control)
    for (const child of spec.children) yield* node.add(child, context)
    return node
  })
