import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Upkeep from "../../src/internal/upkeep.ts"
import { MemoryError } from "../../src/MemoryError.ts"
import { type Captured, captureLogs } from "../support.ts"

// A pass that reports when it starts and finishes only when the test releases it.
const gatedPass = Effect.gen(function* () {
  const started = yield* Ref.make(0)
  const gate = yield* Ref.make(yield* Deferred.make<void>())
  const running = yield* Deferred.make<void>()
  const pass = Effect.gen(function* () {
    yield* Ref.update(started, (n) => n + 1)
    yield* Deferred.succeed(running, undefined)
    yield* Deferred.await(yield* Ref.get(gate))
  })
  return { started, gate, running, pass }
})

const idle = (upkeep: Upkeep.Upkeep, runs: number) =>
  upkeep.state.pipe(
    Effect.flatMap((s) => (s.runs >= runs && !s.running ? Effect.void : Effect.fail("busy"))),
    Effect.retry({ while: (e) => e === "busy" }),
    Effect.andThen(Effect.yieldNow)
  )

describe("upkeep", () => {
  it.effect("wakes once optimizeEvery rows are written, without making the writer wait", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { started, gate, running, pass } = yield* gatedPass
        const upkeep = yield* Upkeep.start({ optimizeEvery: 10, pass })
        yield* upkeep.notify(9)
        yield* Effect.yieldNow
        assert.strictEqual(yield* Ref.get(started), 0)
        assert.strictEqual((yield* upkeep.state).pendingRows, 9)
        // The write that crosses the threshold returns while the pass it woke is still running.
        yield* upkeep.notify(1)
        yield* Deferred.await(running)
        assert.isTrue((yield* upkeep.state).running)
        yield* upkeep.notify(3)
        assert.deepStrictEqual(yield* upkeep.state, {
          pendingRows: 13,
          running: true,
          runs: 0,
          failures: 0,
          lastError: undefined
        })
        yield* Deferred.succeed(yield* Ref.get(gate), undefined)
        yield* idle(upkeep, 1)
        // The 3 rows written during the pass stay pending for the next one.
        assert.deepStrictEqual(yield* upkeep.state, {
          pendingRows: 3,
          running: false,
          runs: 1,
          failures: 0,
          lastError: undefined
        })
        assert.strictEqual(yield* Ref.get(started), 1)
      })
    )
  )

  it.effect("logs and counts a failed pass, and tries again after the next write", () =>
    Effect.gen(function* () {
      const logs: Array<Captured> = []
      const attempts = yield* Ref.make(0)
      const pass = Ref.updateAndGet(attempts, (n) => n + 1).pipe(
        Effect.flatMap((n) =>
          n === 1 ? Effect.fail(new MemoryError({ operation: "optimize", message: "disk full" })) : Effect.void
        )
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const upkeep = yield* Upkeep.start({ optimizeEvery: 5, pass })
          yield* upkeep.notify(5)
          yield* upkeep.state.pipe(
            Effect.flatMap((s) => (s.failures === 1 && !s.running ? Effect.void : Effect.fail("busy"))),
            Effect.retry({ while: (e) => e === "busy" })
          )
          assert.deepStrictEqual(yield* upkeep.state, {
            pendingRows: 5,
            running: false,
            runs: 0,
            failures: 1,
            lastError: "optimize: disk full"
          })
          yield* upkeep.notify(1)
          yield* idle(upkeep, 1)
          assert.deepStrictEqual(yield* upkeep.state, {
            pendingRows: 0,
            running: false,
            runs: 1,
            failures: 1,
            lastError: undefined
          })
        })
      ).pipe(captureLogs(logs))
      assert.strictEqual(yield* Ref.get(attempts), 2)
      const warnings = logs.filter((l) => l.level === "Warn")
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!.message, "memory upkeep failed")
    })
  )

  it.effect("runs a pass on demand after the running one, and keeps deletes out of passes", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { started, gate, running, pass } = yield* gatedPass
        const upkeep = yield* Upkeep.start({ optimizeEvery: 1, pass })
        yield* upkeep.notify(1)
        yield* Deferred.await(running)
        const order = yield* Ref.make<ReadonlyArray<string>>([])
        const exclusive = yield* upkeep
          .exclusive(Ref.update(order, (o) => [...o, "delete"]))
          .pipe(Effect.forkChild({ startImmediately: true }))
        const onDemand = yield* upkeep.runNow.pipe(Effect.forkChild({ startImmediately: true }))
        yield* Effect.yieldNow
        assert.deepStrictEqual(yield* Ref.get(order), [])
        assert.strictEqual(yield* Ref.get(started), 1)
        const first = yield* Ref.get(gate)
        yield* Ref.set(gate, yield* Deferred.make<void>())
        yield* Deferred.succeed(yield* Ref.get(gate), undefined)
        yield* Deferred.succeed(first, undefined)
        yield* Fiber.join(exclusive)
        yield* Fiber.join(onDemand)
        assert.deepStrictEqual(yield* Ref.get(order), ["delete"])
        assert.strictEqual(yield* Ref.get(started), 2)
        assert.strictEqual((yield* upkeep.state).runs, 2)
      })
    )
  )

  it.effect("is interrupted with its scope, and a pass interrupted at close is not counted as a failure", () =>
    Effect.gen(function* () {
      const logs: Array<Captured> = []
      const { running, pass } = yield* gatedPass
      const scope = yield* Scope.make()
      const upkeep = yield* Upkeep.start({ optimizeEvery: 1, pass }).pipe(Scope.provide(scope))
      yield* upkeep.notify(1)
      yield* Deferred.await(running)
      yield* Scope.close(scope, Exit.void).pipe(captureLogs(logs))
      const state = yield* upkeep.state
      assert.strictEqual(state.running, false)
      assert.strictEqual(state.failures, 0)
      assert.deepStrictEqual(
        logs.map((l) => l.level),
        []
      )
    })
  )
})
