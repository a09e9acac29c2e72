/**
 * A randomized test of supervision: trees of supervisors and workers with random strategies, restart types
 * and intensities, hit by random crashes, defects, normal stops and requests, many rounds over. After each
 * round: every request was answered, every message sent was handled or reported dropped (exactly once), the
 * lifecycle events replay correctly against the restart intensities, a supervisor that gave up was restarted
 * only by a permanent parent, and the fiber count is back at its baseline.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { Actor, type ActorRef, ActorSystem, type LifecycleEvent, Supervisor } from "../src/index.ts"
import { type CounterMessage, counter, makeFiberCounter, settle } from "./support.ts"

/** A small seeded PRNG (mulberry32) so that a failing round can be replayed. */
const prng = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)]!
  }
}
type Rng = ReturnType<typeof prng>

interface Tree {
  readonly spec: Supervisor.Spec
  readonly workers: Array<{ readonly path: string; readonly child: Supervisor.ActorChild<CounterMessage> }>
  readonly intensity: Map<string, { readonly maxRestarts: number; readonly withinMillis: number }>
  readonly restart: Map<string, Supervisor.RestartType>
}

/** Counts, per actor path, the messages a worker's handler was given (all but requests). */
const handled = new Map<string, number>()

/** The counter of the test support, counting what it handles. */
const worker = () => {
  const base = counter()
  return Actor.make({
    protocol: base.protocol,
    init: base.init,
    receive: (state: number, message: CounterMessage, context: Actor.ActorContext<CounterMessage>) => {
      if (message._tag !== "Get") handled.set(context.path, (handled.get(context.path) ?? 0) + 1)
      return base.receive(state, message, context)
    }
  })
}

const strategies: ReadonlyArray<Supervisor.Strategy> = ["one-for-one", "one-for-all", "rest-for-one"]
const restartTypes: ReadonlyArray<Supervisor.RestartType> = ["permanent", "transient", "temporary"]

const makeTree = (
  rng: Rng,
  path: string,
  depth: number,
  tree: Tree["workers"],
  intensity: Tree["intensity"],
  restarts: Tree["restart"]
): Supervisor.Spec => {
  const maxRestarts = 1 + rng.int(3)
  const withinMillis = 20 + rng.int(80)
  intensity.set(path, { maxRestarts, withinMillis })
  const children: Array<Supervisor.Child> = []
  const count = 1 + rng.int(3)
  for (let i = 0; i < count; i++) {
    const restart = rng.pick(restartTypes)
    if (depth < 2 && rng.next() < 0.35) {
      const id = `s${i}`
      restarts.set(`${path}/${id}`, restart)
      children.push(
        Supervisor.supervisor(id, makeTree(rng, `${path}/${id}`, depth + 1, tree, intensity, restarts), { restart })
      )
    } else {
      const id = `w${i}`
      const child = Supervisor.actor(id, worker(), { restart })
      tree.push({ path: `${path}/${id}`, child })
      children.push(child)
    }
  }
  return Supervisor.make({
    strategy: rng.pick(strategies),
    intensity: { maxRestarts, within: withinMillis },
    children
  })
}

/**
 * Replays one supervisor's restart decisions: each handled failure of a direct child is an `ActorRestarted` event
 * triggered by the child itself (siblings restarted with it name it as their trigger), and a failure over the
 * intensity is a `SupervisorGaveUp` event instead. The count starts over with each incarnation of the supervisor.
 */
const checkIntensity = (
  events: ReadonlyArray<LifecycleEvent.LifecycleEvent>,
  path: string,
  limits: { readonly maxRestarts: number; readonly withinMillis: number }
) => {
  const isChild = (p: string) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes("/")
  let window: Array<number> = []
  let escalations = 0
  for (const event of events) {
    // A restarted supervisor starts from its spec with no restarts counted, as a new OTP process would.
    if (event._tag === "ActorStarted" && event.path === path) window = []
    const failure =
      (event._tag === "ActorRestarted" && isChild(event.path) && event.trigger === event.path) ||
      (event._tag === "SupervisorGaveUp" && event.path === path)
    if (!failure) continue
    window = window.filter((t) => event.at - t <= limits.withinMillis)
    window.push(event.at)
    if (event._tag === "SupervisorGaveUp") {
      assert.strictEqual(window.length, limits.maxRestarts + 1, `${path} escalated exactly when over its intensity`)
      window = []
      escalations++
    } else {
      assert.isAtMost(window.length, limits.maxRestarts, `${path} restarted within its intensity`)
    }
  }
  return escalations
}

const round = (seed: number) => {
  const fibers = makeFiberCounter()
  return fibers.provide(
    Effect.gen(function* () {
      const rng = prng(seed)
      const baseline = fibers.live()
      const workers: Tree["workers"] = []
      const intensity: Tree["intensity"] = new Map()
      const restart: Tree["restart"] = new Map([["/tree", "permanent"]])
      const spec = makeTree(rng, "/tree", 0, workers, intensity, restart)
      const events: Array<LifecycleEvent.LifecycleEvent> = []
      let asks = 0
      let answered = 0
      let timeouts = 0
      const sent = new Map<string, number>()
      handled.clear()
      yield* Effect.scoped(
        Effect.gen(function* () {
          // A root that never gives up, so that every escalation inside the tree is visible in the events.
          const system = yield* ActorSystem.make({ intensity: { maxRestarts: 1_000_000, within: "1 second" } })
          const subscription = yield* system.subscribe
          yield* system.startChild(Supervisor.supervisor("tree", spec, { restart: "permanent" }))
          const refs: Array<ActorRef.ActorRef<CounterMessage>> = []
          for (const worker of workers) {
            const ref = yield* Effect.option(system.lookup(worker.path, worker.child.behavior.protocol))
            if (ref._tag === "Some") refs.push(ref.value)
          }
          for (let step = 0; step < 60; step++) {
            const ref = rng.pick(refs)
            const roll = rng.next()
            if (roll < 0.6) sent.set(ref.path, (sent.get(ref.path) ?? 0) + 1)
            if (roll < 0.25) yield* ref.tell({ _tag: "Crash", message: `step ${step}` })
            else if (roll < 0.3) yield* ref.tell({ _tag: "Die" })
            else if (roll < 0.35) yield* ref.tell({ _tag: "Halt" })
            else if (roll < 0.6) yield* ref.tell({ _tag: "Add", n: 1 })
            else {
              asks++
              const outcome = yield* Effect.result(
                ref.ask<number>((replyTo) => ({ _tag: "Get", replyTo }), { timeout: "2 seconds" })
              )
              if (outcome._tag === "Success") answered++
              else if (outcome.failure._tag === "AskTimeout") timeouts++
              else answered++
            }
            if (rng.next() < 0.2) yield* settle
          }
          yield* settle
          yield* system.shutdown
          events.push(...(yield* PubSub.takeUpTo(subscription, Number.MAX_SAFE_INTEGER)))
        })
      )
      yield* settle
      assert.strictEqual(timeouts, 0, "every request was answered, with a reply or a typed failure")
      assert.strictEqual(answered, asks)
      // No message is lost silently: each one sent was handled, or reported dropped (a dead letter, or abandoned
      // when the runtime stopped or restarted the actor while it was handling it).
      for (const [path, count] of sent) {
        const dropped = events.filter((e) => e._tag === "MessageDropped" && e.path === path).length
        const got = handled.get(path) ?? 0
        // Tells run synchronous handlers, which are never cut short: each message is one or the other, once.
        assert.strictEqual(got + dropped, count, `${path}: every message handled or reported dropped, once`)
      }
      let escalations = 0
      for (const [path, limits] of intensity) escalations += checkIntensity(events, path, limits)
      // A supervisor that gave up exits with Shutdown: only a permanent one is restarted for it (by its parent,
      // with itself as the trigger), and never more often than it gave up.
      let restartedAfterGivingUp = 0
      for (const [path, type] of restart) {
        const gaveUp = events.filter((e) => e._tag === "SupervisorGaveUp" && e.path === path).length
        const selfRestarts = events.filter(
          (e) => e._tag === "ActorRestarted" && e.path === path && e.trigger === path
        ).length
        if (type === "permanent") assert.isAtMost(selfRestarts, gaveUp, `${path} restarted only after giving up`)
        else assert.strictEqual(selfRestarts, 0, `${type} ${path} was not restarted after giving up`)
        restartedAfterGivingUp += selfRestarts
      }
      assert.strictEqual(fibers.live(), baseline, "no fiber outlives the system")
      return {
        escalations,
        restartedAfterGivingUp,
        restarts: events.filter((e) => e._tag === "ActorRestarted").length
      }
    })
  )
}

describe("Supervision under random failures", () => {
  it.live(
    "keeps its invariants over many random trees",
    () =>
      Effect.gen(function* () {
        let escalations = 0
        let restarts = 0
        let restartedAfterGivingUp = 0
        for (let seed = 1; seed <= 40; seed++) {
          const result = yield* round(seed)
          escalations += result.escalations
          restarts += result.restarts
          restartedAfterGivingUp += result.restartedAfterGivingUp
        }
        // The rounds must actually exercise restarts and escalations, or they prove nothing.
        assert.isAbove(restarts, 50)
        assert.isAbove(escalations, 5)
        assert.isAbove(restartedAfterGivingUp, 0)
      }),
    60_000
  )
})
