/**
 * The applicable cases of Erlang/OTP's `lib/stdlib/test/supervisor_SUITE.erl`, ported: each test is named after
 * the case it ports, and checks what OTP does. OTP's `supervisor_1:start_child(error)` (a child whose restarts
 * fail) is a counter whose `init` fails after its first start; exits are `Halt` (normal), `Crash` (abnormal),
 * `Die` (kill) and `Quit` with `Shutdown`.
 *
 * Not ported, because the runtime deliberately lacks the feature: `ignore` start results (sup_start_ignore_*),
 * shutdown timeouts and `brutal_kill` (sup_stop_*), `simple_one_for_one` (every simple_* case; templates and
 * `startChild` cover dynamic children), `{ok, Pid, Info}` returns (extra_return), separate terminate/delete
 * (child_adm's `delete_child`: `stopChild` does both), links (child_unlink), global names
 * (simple_global_supervisor), hot code upgrade (code_change*), callback modules (get_callback_module), and
 * significant children with auto_shutdown.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, type PubSub, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import {
  Actor,
  type ActorError,
  type ActorRef,
  ActorSystem,
  ExitReason,
  type LifecycleEvent,
  Next,
  Supervisor
} from "../src/index.ts"
import { type CounterMessage, counter, get, is, untilEvent, withSystem } from "./support.ts"

type Ref = ActorRef.ActorRef<CounterMessage>

/** OTP's `supervisor_1:start_child(error)`: starts once, then every restart fails. */
const failingRestarts = () => {
  let starts = 0
  return counter({ failInit: () => starts++ > 0 })
}

const child = (id: string, restart: Supervisor.RestartType = "permanent", behavior = counter()) =>
  Supervisor.actor(id, behavior, { restart })

/** A supervisor under the root, temporary so that its exit is final (OTP's `start_link` from the test). */
const startLink = (options: Supervisor.FlagsOptions, children: ReadonlyArray<Supervisor.Child> = []) =>
  Effect.gen(function* () {
    const system = yield* ActorSystem.ActorSystem
    const events = yield* system.subscribe
    const sup = yield* system.startChild(
      Supervisor.supervisor("sup_test", Supervisor.make({ ...options, children }), { restart: "temporary" })
    )
    return { system, sup, events }
  })

const flags = (
  strategy: Supervisor.Strategy,
  maxRestarts: number,
  within: Duration.Input = "1 hour"
): Supervisor.FlagsOptions => ({
  strategy,
  intensity: { maxRestarts, within }
})

/** OTP's `get_child_counts`: specs, active, supervisors, workers. */
const counts = (sup: Supervisor.SupervisorRef) =>
  Effect.map(sup.children, (children) => [
    children.length,
    children.filter((c) => c.running).length,
    children.filter((c) => c.kind === "supervisor").length,
    children.filter((c) => c.kind === "actor").length
  ])

/** OTP's `terminate(Sup, Pid, Id, How)`: ends a child one way and waits for its incarnation's end. */
const terminate = (
  events: PubSub.Subscription<LifecycleEvent.LifecycleEvent>,
  ref: Ref,
  how: "normal" | "abnormal" | "shutdown" | "kill"
) =>
  Effect.gen(function* () {
    const message: CounterMessage =
      how === "normal"
        ? { _tag: "Halt" }
        : how === "abnormal"
          ? { _tag: "Crash", message: "abnormal" }
          : how === "kill"
            ? { _tag: "Die" }
            : { _tag: "Quit", reason: ExitReason.shutdown }
    yield* ref.tell(message)
    return yield* untilEvent(
      events,
      (e): e is LifecycleEvent.LifecycleEvent =>
        e.path === ref.path && (e._tag === "ActorRestarted" || e._tag === "ActorTerminated")
    )
  })

/** The parked actor at `/sup_test/id`. */
const lookupParked = (id: string) =>
  Effect.gen(function* () {
    const system = yield* ActorSystem.ActorSystem
    return (yield* Effect.orDie(system.lookupUnknown(`/sup_test/${id}`))) as ActorRef.ActorRef<"park">
  })

/** The counter at `path`, found through the system. */
const lookup = (path: string) =>
  Effect.gen(function* () {
    const system = yield* ActorSystem.ActorSystem
    return (yield* Effect.orDie(system.lookupUnknown(path))) as Ref
  })

/** Waits for the incarnation `incarnation` of the actor at `path` to have started. */
const started = (events: PubSub.Subscription<LifecycleEvent.LifecycleEvent>, path: string, incarnation: number) =>
  untilEvent(
    events,
    (e): e is LifecycleEvent.LifecycleEvent =>
      e._tag === "ActorStarted" && e.path === path && e.incarnation === incarnation
  )

const exited = (events: PubSub.Subscription<LifecycleEvent.LifecycleEvent>, path = "/sup_test") =>
  untilEvent(events, is("ActorTerminated", path))

describe("OTP supervisor_SUITE", () => {
  it.effect("sup_start_normal", () =>
    withSystem(
      Effect.gen(function* () {
        const { system, events, sup } = yield* startLink(flags("one-for-one", 2), [child("child1")])
        yield* system.stop("/sup_test")
        assert.deepStrictEqual((yield* exited(events, "/sup_test/child1")).reason, ExitReason.shutdown)
        assert.deepStrictEqual((yield* exited(events)).reason, ExitReason.shutdown)
        assert.deepStrictEqual(yield* sup.children, [])
        assert.strictEqual((yield* Effect.flip(sup.startChild(child("child2"))))._tag, "ActorStopped")
      })
    )
  )

  it.effect("sup_start_fail", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const spec = Supervisor.make({
          children: [child("child1"), child("child2", "permanent", counter({ failInit: () => true }))]
        })
        const error = yield* Effect.flip(system.startChild(Supervisor.supervisor("sup_test", spec)))
        assert.deepInclude(error, { _tag: "ChildInitFailed", path: "/sup_test" })
        const inner = (error as ActorError.ChildInitFailed).reason
        assert.deepInclude((inner as { error: object }).error, { _tag: "ChildInitFailed", path: "/sup_test/child2" })
        assert.deepStrictEqual(yield* system.paths, ["/"])
      })
    )
  )

  it.effect("sup_start_child_returns_error", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup } = yield* startLink(flags("one-for-one", 2))
        const error = yield* Effect.flip(
          sup.startChild(child("child1", "permanent", counter({ failInit: () => true })))
        )
        assert.strictEqual(error._tag, "ChildInitFailed")
        assert.deepStrictEqual(yield* sup.children, [])
      })
    )
  )

  it.effect("sup_start_restart_child_returns_error", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink(flags("one-for-one", 2))
        const ref = yield* sup.startChild(child("child1", "transient", failingRestarts()))
        yield* terminate(events, ref, "normal")
        const error = yield* Effect.flip(sup.restartChild("child1"))
        assert.strictEqual(error._tag, "ChildInitFailed")
        assert.deepStrictEqual(
          (yield* sup.children).map((c) => [c.id, c.running]),
          [["child1", false]]
        )
      })
    )
  )

  it.effect("child_specs", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, system } = yield* startLink(flags("one-for-one", 2))
        const refusals = [
          Supervisor.actor("child", counter(), { restart: "prmanent" as Supervisor.RestartType }),
          Supervisor.actor("child", counter({ capacity: -10 })),
          Supervisor.actor("", counter()),
          Supervisor.supervisor("child", Supervisor.make({ children: [child("c1"), child("c1")] }))
        ]
        const tags: Array<string> = []
        for (const refused of refusals)
          tags.push((yield* Effect.flip(sup.startChild(refused as Supervisor.ActorChild<any>)))._tag)
        assert.deepStrictEqual(tags, [
          "InvalidSupervisorSpec",
          "InvalidCapacity",
          "InvalidActorName",
          "InvalidSupervisorSpec"
        ])
        assert.deepStrictEqual(yield* system.paths, ["/", "/sup_test"])
      })
    )
  )

  it.effect("sup_flags", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const refused: ReadonlyArray<Supervisor.FlagsOptions> = [
          { strategy: "none_for_one" as Supervisor.Strategy },
          { intensity: { maxRestarts: Number.POSITIVE_INFINITY, within: "1 hour" } },
          { intensity: { maxRestarts: -1, within: "1 hour" } },
          { intensity: { maxRestarts: 1.5, within: "1 hour" } },
          { intensity: { maxRestarts: 2, within: 0 } },
          { intensity: { maxRestarts: 2, within: -1000 } },
          { intensity: { maxRestarts: 2, within: Number.POSITIVE_INFINITY } }
        ]
        for (const options of refused) {
          const error = yield* Effect.flip(
            system.startChild(Supervisor.supervisor("sup_test", Supervisor.make(options)))
          )
          assert.strictEqual(error._tag, "InvalidSupervisorSpec", JSON.stringify(options))
        }
        assert.deepStrictEqual(yield* system.paths, ["/"])
        const wrongRoot = yield* Effect.flip(
          Effect.scoped(ActorSystem.make({ intensity: { maxRestarts: 1, within: 0 } }))
        )
        assert.deepInclude(wrongRoot, { _tag: "InvalidSupervisorSpec", path: "/" })
      })
    )
  )

  it.effect("child_adm", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, system } = yield* startLink(flags("one-for-one", 2), [child("child1")])
        assert.deepStrictEqual(yield* counts(sup), [1, 1, 0, 1])
        assert.strictEqual((yield* Effect.flip(sup.startChild(child("child1"))))._tag, "ActorNameTaken")
        assert.strictEqual((yield* Effect.flip(sup.stopChild("hej")))._tag, "ActorNotFound")
        assert.strictEqual((yield* Effect.flip(system.stop("/foo/child1")))._tag, "ActorNotFound")
        yield* sup.stopChild("child1")
        assert.deepStrictEqual(yield* counts(sup), [0, 0, 0, 0])
        assert.strictEqual((yield* Effect.flip(sup.restartChild("child1")))._tag, "ActorNotFound")
        const again = yield* sup.startChild(child("child1"))
        assert.deepStrictEqual(yield* counts(sup), [1, 1, 0, 1])
        assert.strictEqual(yield* get(again), 0)
      })
    )
  )

  describe("normal, shutdown and abnormal termination", () => {
    const cases: ReadonlyArray<
      [Supervisor.RestartType, "normal" | "shutdown" | "abnormal", "restarted" | "kept" | "gone"]
    > = [
      ["permanent", "normal", "restarted"],
      ["transient", "normal", "kept"],
      ["temporary", "normal", "gone"],
      ["permanent", "shutdown", "restarted"],
      ["transient", "shutdown", "kept"],
      ["temporary", "shutdown", "gone"],
      ["permanent", "abnormal", "restarted"],
      ["transient", "abnormal", "restarted"],
      ["temporary", "abnormal", "gone"]
    ]
    for (const [restart, how, expected] of cases) {
      it.effect(`${restart}_${how}`, () =>
        withSystem(
          Effect.gen(function* () {
            const { sup, events } = yield* startLink(flags("one-for-one", 2))
            const ref = yield* sup.startChild(child("child1", restart))
            const event = yield* terminate(events, ref, how)
            assert.strictEqual(event._tag, expected === "restarted" ? "ActorRestarted" : "ActorTerminated")
            const expectedCounts = { restarted: [1, 1, 0, 1], kept: [1, 0, 0, 1], gone: [0, 0, 0, 0] }[expected]
            if (expected === "restarted") yield* started(events, ref.path, 2)
            assert.deepStrictEqual(yield* counts(sup), expectedCounts)
          })
        )
      )
    }
  })

  it.effect("temporary_bystander", () =>
    withSystem(
      Effect.gen(function* () {
        const system = yield* ActorSystem.ActorSystem
        const events = yield* system.subscribe
        for (const strategy of ["one-for-all", "rest-for-one"] as const) {
          const sup = yield* system.startChild(
            Supervisor.supervisor(strategy, Supervisor.make(flags(strategy, 2, "300 millis")), { restart: "temporary" })
          )
          const child1 = yield* sup.startChild(child("child1", "permanent"))
          yield* sup.startChild(child("child2", "temporary"))
          yield* terminate(events, child1, "normal")
          yield* started(events, child1.path, 2)
          assert.deepStrictEqual(
            (yield* sup.children).map((c) => c.id),
            ["child1"],
            strategy
          )
        }
      })
    )
  )

  it.effect("multiple_restarts", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink(flags("one-for-one", 1, "1 second"))
        const ref = yield* sup.startChild(child("child1"))
        for (let i = 0; i < 4; i++) {
          assert.strictEqual((yield* terminate(events, ref, "abnormal"))._tag, "ActorRestarted")
          yield* TestClock.adjust("2100 millis")
        }
        yield* sup.stopChild("child1")
        assert.deepStrictEqual(yield* sup.children, [])
      })
    )
  )

  it.effect("one_for_one", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink(flags("one-for-one", 2))
        const c1 = yield* sup.startChild(child("child1"))
        const c2 = yield* sup.startChild(child("child2"))
        yield* c2.tell({ _tag: "Add", n: 1 })
        yield* terminate(events, c1, "abnormal")
        assert.strictEqual(yield* get(c2), 1, "child2 was not restarted")
        assert.deepStrictEqual(yield* counts(sup), [2, 2, 0, 2])
        yield* terminate(events, c2, "abnormal")
        yield* terminate(events, c1, "abnormal")
        yield* exited(events)
      })
    )
  )

  for (const strategy of ["one-for-one", "one-for-all", "rest-for-one"] as const) {
    it.effect(`${strategy.replaceAll("-", "_")}_escalation`, () =>
      withSystem(
        Effect.gen(function* () {
          // OTP's case: the child whose restarts fail is the one that dies (one_for_one), or the one restarted
          // with it (one_for_all, rest_for_one).
          const failsFirst = strategy === "one-for-one"
          const { sup, events } = yield* startLink(flags(strategy, 4), [
            child("child1", "permanent", failsFirst ? failingRestarts() : counter()),
            child("child2", "permanent", failsFirst ? counter() : failingRestarts())
          ])
          void sup
          yield* (yield* lookup("/sup_test/child1")).tell({ _tag: "Crash", message: "abnormal" })
          const gaveUp = yield* untilEvent(events, is("SupervisorGaveUp", "/sup_test"))
          assert.strictEqual(gaveUp.restarts, 4)
          const order = [(yield* exited(events, "/sup_test/child2")).path, (yield* exited(events)).path]
          assert.deepStrictEqual(order, ["/sup_test/child2", "/sup_test"])
        })
      )
    )
  }

  it.effect("one_for_all", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink(flags("one-for-all", 2))
        const c1 = yield* sup.startChild(child("child1"))
        const c2 = yield* sup.startChild(child("child2"))
        yield* c2.tell({ _tag: "Add", n: 1 })
        yield* terminate(events, c1, "abnormal")
        const restarted = yield* untilEvent(events, is("ActorRestarted", c2.path))
        assert.deepStrictEqual([restarted.trigger, restarted.reason], [c1.path, ExitReason.shutdown])
        assert.strictEqual(yield* get(c2), 0, "child2 was restarted with fresh state")
        assert.deepStrictEqual(yield* counts(sup), [2, 2, 0, 2])
        yield* terminate(events, c1, "abnormal")
        yield* c2.tell({ _tag: "Crash", message: "third" })
        yield* exited(events)
      })
    )
  )

  for (const strategy of ["one-for-all", "rest-for-one"] as const) {
    it.effect(`${strategy.replaceAll("-", "_")}_other_child_fails_restart`, () =>
      withSystem(
        Effect.gen(function* () {
          // child2's init fails once, on its first restart; the next attempt succeeds.
          let child2Starts = 0
          const log: Array<string> = []
          const { sup, events } = yield* startLink(flags(strategy, 3), [
            child("child1", "permanent", counter({ log })),
            child("child2", "permanent", counter({ log, failInit: () => ++child2Starts === 2 }))
          ])
          log.length = 0
          const child1 = yield* lookup("/sup_test/child1")
          yield* child1.tell({ _tag: "Die" })
          yield* started(events, "/sup_test/child2", 3)
          const expected =
            strategy === "one-for-all"
              ? // child1 was restarted, then stopped again when child2 failed to start, and both started anew.
                [
                  "init /sup_test/child1 #2",
                  "init /sup_test/child2 #2",
                  "init /sup_test/child1 #3",
                  "init /sup_test/child2 #3"
                ]
              : // child1 was restarted once; only child2 (and what follows it) is retried.
                ["init /sup_test/child1 #2", "init /sup_test/child2 #2", "init /sup_test/child2 #3"]
          assert.deepStrictEqual(log, expected)
          assert.deepStrictEqual(yield* counts(sup), [2, 2, 0, 2])
        })
      )
    )
  }

  it.effect("rest_for_one", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink(flags("rest-for-one", 2))
        const [c1, c2, c3] = [
          yield* sup.startChild(child("child1")),
          yield* sup.startChild(child("child2")),
          yield* sup.startChild(child("child3"))
        ]
        for (const ref of [c1, c2, c3]) yield* ref.tell({ _tag: "Add", n: 1 })
        assert.deepStrictEqual(yield* counts(sup), [3, 3, 0, 3])
        yield* terminate(events, c2, "abnormal")
        yield* started(events, c3.path, 2)
        assert.deepStrictEqual([yield* get(c1), yield* get(c2), yield* get(c3)], [1, 0, 0])
        assert.deepStrictEqual(yield* counts(sup), [3, 3, 0, 3])
        yield* terminate(events, c3, "abnormal")
        yield* c2.tell({ _tag: "Crash", message: "third" })
        yield* exited(events)
      })
    )
  )

  it.effect("tree", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink(flags("one-for-all", 4), [
          Supervisor.supervisor(
            "supchild1",
            Supervisor.make({ ...flags("one-for-one", 4), children: [child("child1"), child("child2")] })
          ),
          Supervisor.supervisor("supchild2", Supervisor.make(flags("one-for-one", 4)))
        ])
        assert.deepStrictEqual(yield* counts(sup), [2, 2, 2, 0])
        const sup1 = yield* sup.supervisor("supchild1")
        const sup2 = yield* sup.supervisor("supchild2")
        assert.deepStrictEqual(
          [yield* counts(sup1), yield* counts(sup2)],
          [
            [2, 2, 0, 2],
            [0, 0, 0, 0]
          ]
        )
        const c3 = yield* sup2.startChild(child("child3", "permanent", failingRestarts()))
        const c4 = yield* sup2.startChild(child("child4"))
        assert.deepStrictEqual(yield* counts(sup2), [2, 2, 0, 2])
        yield* terminate(events, c4, "abnormal")
        yield* started(events, c4.path, 2)
        assert.deepStrictEqual(
          [yield* counts(sup1), yield* counts(sup2)],
          [
            [2, 2, 0, 2],
            [2, 2, 0, 2]
          ]
        )
        // child3 cannot be restarted: supchild2 gives up, and the one-for-all top restarts both from their specs.
        yield* c3.tell({ _tag: "Crash", message: "abnormal" })
        yield* untilEvent(events, is("SupervisorGaveUp", "/sup_test/supchild2"))
        yield* started(events, "/sup_test/supchild2", 2)
        assert.deepStrictEqual(yield* counts(sup), [2, 2, 2, 0])
        assert.deepStrictEqual(
          [yield* counts(sup1), yield* counts(sup2)],
          [
            [2, 2, 0, 2],
            [0, 0, 0, 0]
          ]
        )
      })
    )
  )

  it.effect("count_children", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink(flags("one-for-one", 2))
        const refs: Array<Ref> = []
        for (let i = 0; i < 100; i++) refs.push(yield* sup.startChild(child(`child${i}`, "temporary")))
        assert.deepStrictEqual(yield* counts(sup), [100, 100, 0, 100])
        assert.strictEqual((yield* sup.children).length, 100)
        for (const ref of refs) yield* terminate(events, ref, "kill")
        assert.deepStrictEqual(yield* counts(sup), [0, 0, 0, 0])
      })
    )
  )

  it.effect("count_children_supervisor", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup } = yield* startLink(flags("one-for-one", 2))
        yield* sup.startChild(Supervisor.supervisor("child", Supervisor.make({}), { restart: "temporary" }))
        assert.deepStrictEqual(yield* counts(sup), [1, 1, 1, 0])
        yield* sup.stopChild("child")
        assert.deepStrictEqual(yield* counts(sup), [0, 0, 0, 0])
      })
    )
  )

  it.effect("which_children", () =>
    withSystem(
      Effect.gen(function* () {
        // OTP lists the newest child first; `children` lists them in start order.
        const { sup } = yield* startLink(flags("one-for-one", 2))
        const info = Effect.map(sup.children, (children) => children.map((c) => [c.id, c.path, c.kind, c.running]))
        assert.deepStrictEqual(yield* info, [])
        yield* sup.startChild(child("child1"))
        assert.deepStrictEqual(yield* info, [["child1", "/sup_test/child1", "actor", true]])
        yield* sup.startChild(child("child2"))
        assert.deepStrictEqual(yield* info, [
          ["child1", "/sup_test/child1", "actor", true],
          ["child2", "/sup_test/child2", "actor", true]
        ])
        yield* sup.stopChild("child1")
        assert.deepStrictEqual(yield* info, [["child2", "/sup_test/child2", "actor", true]])
      })
    )
  )

  it.effect("scale_start_stop_many_children", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, system } = yield* startLink(flags("one-for-one", 2))
        for (let i = 0; i < 1000; i++) yield* sup.startChild(child(`child${i}`))
        assert.deepStrictEqual(yield* counts(sup), [1000, 1000, 0, 1000])
        for (let i = 0; i < 1000; i++) yield* sup.stopChild(`child${i}`)
        assert.deepStrictEqual(yield* counts(sup), [0, 0, 0, 0])
        assert.deepStrictEqual(yield* system.paths, ["/", "/sup_test"])
      })
    )
  )

  it.effect("count_restarting_children", () =>
    withSystem(
      Effect.gen(function* () {
        const { sup, events } = yield* startLink({
          ...flags("one-for-one", 8, "10 seconds"),
          backoff: Schedule.spaced("1 second")
        })
        const ref = yield* sup.startChild(child("child1", "permanent", failingRestarts()))
        yield* terminate(events, ref, "abnormal")
        assert.deepStrictEqual(yield* counts(sup), [1, 0, 0, 1])
        yield* TestClock.adjust("1 second")
        yield* untilEvent(events, is("ActorRestarted", ref.path)) // the restart failed and was scheduled again
        assert.deepStrictEqual(yield* counts(sup), [1, 0, 0, 1])
      })
    )
  )

  for (const [name, strategy] of [
    ["hanging_restart_loop", "one-for-one"],
    ["hanging_restart_loop_rest_for_one", "rest-for-one"]
  ] as const) {
    it.effect(name, () =>
      withSystem(
        Effect.gen(function* () {
          const { sup, events, system } = yield* startLink({
            ...flags(strategy, 8, "10 seconds"),
            backoff: Schedule.spaced("1 second")
          })
          const ref = yield* sup.startChild(child("child1", "permanent", failingRestarts()))
          yield* terminate(events, ref, "abnormal")
          yield* TestClock.adjust("1 second")
          yield* untilEvent(events, is("ActorRestarted", ref.path))
          assert.strictEqual((yield* Effect.flip(sup.startChild(child("child1"))))._tag, "ActorNameTaken")
          yield* sup.stopChild("child1")
          assert.deepStrictEqual(yield* sup.children, [])
          const again = yield* sup.startChild(child("child1", "permanent", failingRestarts()))
          yield* terminate(events, again, "abnormal")
          yield* system.stop("/sup_test")
          assert.deepStrictEqual((yield* exited(events)).reason, ExitReason.shutdown)
          assert.deepStrictEqual(yield* system.paths, ["/"])
        })
      )
    )
  }

  it.effect("do_not_save_child_specs_for_temporary_children", () =>
    withSystem(
      Effect.gen(function* () {
        for (const strategy of ["one-for-all", "one-for-one", "rest-for-one"] as const) {
          for (const how of ["kill", "normal", "abnormal", "supervisor"] as const) {
            const { sup, events, system } = yield* startLink(flags(strategy, 2))
            const end = (id: string, ref: Ref) =>
              how === "supervisor" ? sup.stopChild(id) : Effect.asVoid(terminate(events, ref, how))
            // permanent: restarted (already started), unless stopped through the supervisor
            const permanent = yield* sup.startChild(child("child1", "permanent"))
            yield* end("child1", permanent)
            const p = yield* Effect.flip(sup.startChild(child("child1", "permanent"))).pipe(Effect.option)
            assert.strictEqual(
              p._tag === "Some" ? p.value._tag : "started",
              how === "supervisor" ? "started" : "ActorNameTaken"
            )
            // transient: kept after a clean exit (already present) and restartable, restarted after a crash
            const transient = yield* sup.startChild(child("child2", "transient"))
            yield* end("child2", transient)
            if (how === "normal") yield* sup.restartChild("child2")
            else if (how !== "supervisor")
              assert.strictEqual(
                (yield* Effect.flip(sup.startChild(child("child2", "transient"))))._tag,
                "ActorNameTaken"
              )
            // temporary: forgotten, so the same spec starts again
            const temporary = yield* sup.startChild(child("child3", "temporary"))
            yield* end("child3", temporary)
            yield* sup.startChild(child("child3", "temporary"))
            yield* system.stop("/sup_test")
          }
        }
      })
    )
  )

  it.effect("order_of_children", () =>
    withSystem(
      Effect.gen(function* () {
        const log: Array<string> = []
        // Children parked in a handler log when they are halted: halting goes last started first, starting in order.
        const parked = (id: string) =>
          Actor.make({
            protocol: Schema.Literal("park"),
            init: () => Effect.sync(() => void log.push(`init ${id}`)),
            receive: (state) =>
              Effect.as(
                Effect.onInterrupt(Effect.never, () => Effect.sync(() => log.push(`halt ${id}`))),
                Next.continueWith(state)
              )
          })
        const { sup, events } = yield* startLink(flags("one-for-all", 3), [
          ...["a", "b", "c"].map((id) => Supervisor.actor(id, parked(id))),
          child("d")
        ])
        for (const id of ["a", "b", "c"]) yield* (yield* lookupParked(id)).tell("park")
        yield* Effect.sleep(0)
        log.length = 0
        yield* (yield* lookup("/sup_test/d")).tell({ _tag: "Crash", message: "x" })
        yield* started(events, "/sup_test/d", 2)
        assert.deepStrictEqual(log, ["halt c", "halt b", "halt a", "init a", "init b", "init c"])
        assert.deepStrictEqual(
          (yield* sup.children).map((c) => c.id),
          ["a", "b", "c", "d"]
        )
      })
    )
  )
})
