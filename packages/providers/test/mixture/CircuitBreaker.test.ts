import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Persisted from "effect/persistence/CircuitBreaker"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/testing/TestClock"
import * as CircuitBreaker from "../../src/mixture/CircuitBreaker.ts"

const boom = Effect.fail("boom" as const)

// The two ways to make a provider's breaker: through `effect/persistence`'s `CircuitBreaker.execute`, or on the
// store directly (what the pool uses). They must behave alike.
const constructors: ReadonlyArray<
  readonly [
    string,
    (
      options: CircuitBreaker.Options
    ) => Effect.Effect<CircuitBreaker.CircuitBreaker, never, Persisted.CircuitBreakerStore | Scope.Scope>
  ]
> = [
  [
    "through execute",
    (options) =>
      Effect.map(Persisted.make({ ...CircuitBreaker.policy(options), onStoreError: "allow" }), (circuits) =>
        CircuitBreaker.make("p", circuits)
      )
  ],
  [
    "on the store",
    (options) =>
      Effect.map(Effect.service(Persisted.CircuitBreakerStore), (store) =>
        CircuitBreaker.fromStore("p", store, options)
      )
  ]
]

const tagOf = (breaker: CircuitBreaker.CircuitBreaker) => Effect.map(breaker.state, (s) => s._tag)

const storeError = new Persisted.CircuitBreakerError({
  reason: new Persisted.CircuitBreakerStoreError({ message: "store down" })
})

for (const [kind, build] of constructors) {
  // A breaker for provider "p" on a fresh memory store, or on `store` when given.
  const withBreaker = <A, E>(
    options: CircuitBreaker.Options,
    f: (breaker: CircuitBreaker.CircuitBreaker) => Effect.Effect<A, E>,
    store: Layer.Layer<Persisted.CircuitBreakerStore> = Persisted.layerStoreMemory()
  ) =>
    Effect.gen(function* () {
      return yield* f(yield* build(options))
    }).pipe(Effect.scoped, Effect.provide(store))

  describe(`CircuitBreaker (${kind})`, () => {
    it.effect("opens after N consecutive failures and fails fast while open", () =>
      withBreaker({ failureThreshold: 3, cooldown: "10 seconds" }, (breaker) =>
        Effect.gen(function* () {
          let calls = 0
          const call = Effect.suspend(() => {
            calls++
            return boom
          })
          for (let i = 0; i < 2; i++) yield* Effect.flip(breaker.protect(call))
          assert.strictEqual(yield* tagOf(breaker), "Closed")
          yield* Effect.flip(breaker.protect(call))
          const state = yield* breaker.state
          assert.strictEqual(state._tag === "Open" && Duration.toMillis(state.retryAfter), 10_000)
          const error = yield* Effect.flip(breaker.protect(call))
          assert.deepStrictEqual(error, new CircuitBreaker.CircuitOpen({ provider: "p", retryInMillis: 10_000 }))
          assert.strictEqual(calls, 3)
        })
      )
    )

    it.effect("a success resets the count of consecutive failures", () =>
      withBreaker({ failureThreshold: 2 }, (breaker) =>
        Effect.gen(function* () {
          yield* Effect.flip(breaker.protect(boom))
          yield* breaker.protect(Effect.succeed(1))
          yield* Effect.flip(breaker.protect(boom))
          assert.strictEqual(yield* tagOf(breaker), "Closed")
          yield* Effect.flip(breaker.protect(boom))
          assert.strictEqual(yield* tagOf(breaker), "Open")
        })
      )
    )

    it.effect("half-opens after the cool-down: one probe at a time, and its success closes it", () =>
      withBreaker({ failureThreshold: 1, cooldown: "5 seconds" }, (breaker) =>
        Effect.gen(function* () {
          yield* Effect.flip(breaker.protect(boom))
          yield* TestClock.adjust("4999 millis")
          assert.strictEqual((yield* Effect.flip(breaker.protect(Effect.succeed("early"))))._tag, "CircuitOpen")
          yield* TestClock.adjust("1 millis")
          const probe = yield* Effect.forkChild(breaker.protect(Effect.sleep("1 second").pipe(Effect.as("ok"))))
          yield* Effect.yieldNow
          const state = yield* breaker.state
          assert.isTrue(state._tag === "HalfOpen" && state.probing)
          const refused = yield* Effect.flip(breaker.protect(Effect.succeed("other")))
          assert.deepStrictEqual(refused, new CircuitBreaker.CircuitOpen({ provider: "p", retryInMillis: 0 }))
          yield* TestClock.adjust("1 second")
          assert.strictEqual(yield* Fiber.join(probe), "ok")
          assert.strictEqual(yield* tagOf(breaker), "Closed")
        })
      )
    )

    it.effect("a failed probe opens it again for another cool-down", () =>
      withBreaker({ failureThreshold: 1, cooldown: "5 seconds" }, (breaker) =>
        Effect.gen(function* () {
          yield* Effect.flip(breaker.protect(boom))
          yield* TestClock.adjust("5 seconds")
          yield* Effect.flip(breaker.protect(boom))
          const state = yield* breaker.state
          assert.strictEqual(state._tag === "Open" && Duration.toMillis(state.retryAfter), 5000)
        })
      )
    )

    it.effect("interruptions and ignored failures do not count; an interrupted probe frees the slot", () =>
      withBreaker({ failureThreshold: 1, cooldown: "1 second" }, (breaker) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkChild(breaker.protect(Effect.never))
          yield* Effect.yieldNow
          yield* Fiber.interrupt(fiber)
          yield* Effect.flip(breaker.protect(boom, () => "ignored"))
          assert.strictEqual(yield* tagOf(breaker), "Closed")
          yield* Effect.flip(breaker.protect(boom))
          yield* TestClock.adjust("1 second")
          const probe = yield* Effect.forkChild(breaker.protect(Effect.never))
          yield* Effect.yieldNow
          yield* Fiber.interrupt(probe)
          const state = yield* breaker.state
          assert.isTrue(state._tag === "HalfOpen" && !state.probing)
          assert.strictEqual(yield* breaker.protect(Effect.succeed("next probe")), "next probe")
        })
      )
    )

    it.effect("a failure classified as a success closes a half-open circuit and resets the count", () =>
      withBreaker({ failureThreshold: 2, cooldown: "1 second" }, (breaker) =>
        Effect.gen(function* () {
          yield* Effect.flip(breaker.protect(boom))
          yield* Effect.flip(breaker.protect(boom, () => "success"))
          yield* Effect.flip(breaker.protect(boom))
          assert.strictEqual(yield* tagOf(breaker), "Closed")
        })
      )
    )

    it.effect("a defect counts against the provider", () =>
      withBreaker({ failureThreshold: 1 }, (breaker) =>
        Effect.gen(function* () {
          yield* Effect.exit(breaker.protect(Effect.die("adapter bug"), () => "ignored"))
          assert.strictEqual(yield* tagOf(breaker), "Open")
        })
      )
    )

    it.effect("a store that cannot admit lets the call through; one that cannot record still returns its result", () =>
      Effect.gen(function* () {
        const memory = yield* Effect.service(Persisted.CircuitBreakerStore).pipe(
          Effect.provide(Persisted.layerStoreMemory())
        )
        let calls = 0
        const call = Effect.sync(() => ++calls)
        const unreachable = Layer.succeed(Persisted.CircuitBreakerStore, {
          ...memory,
          admit: () => Effect.fail(storeError)
        })
        assert.strictEqual(yield* withBreaker({}, (breaker) => breaker.protect(call), unreachable), 1)
        const forgetful = Layer.succeed(Persisted.CircuitBreakerStore, {
          ...memory,
          record: () => Effect.fail(storeError)
        })
        assert.strictEqual(
          yield* withBreaker({ failureThreshold: 1 }, (breaker) => breaker.protect(call), forgetful),
          2
        )
        const failed = yield* withBreaker(
          { failureThreshold: 1 },
          (breaker) => Effect.flip(breaker.protect(boom)),
          forgetful
        )
        assert.strictEqual(failed, "boom")
      })
    )

    it.effect("what the store holds for an admitted call lasts until its outcome is recorded", () =>
      Effect.gen(function* () {
        const memory = yield* Effect.service(Persisted.CircuitBreakerStore).pipe(
          Effect.provide(Persisted.layerStoreMemory())
        )
        const log: Array<string> = []
        // A store that holds something for the call in the admission's scope, as the Redis store holds a probe's lease.
        const holding = Layer.succeed(Persisted.CircuitBreakerStore, {
          ...memory,
          admit: (key) =>
            Effect.tap(memory.admit(key), () =>
              Effect.flatMap(Effect.scope, (scope) =>
                Scope.addFinalizer(
                  scope,
                  Effect.sync(() => log.push("released"))
                )
              )
            ),
          record: (options) => Effect.tap(memory.record(options), () => Effect.sync(() => log.push(options.outcome)))
        })
        yield* withBreaker(
          {},
          (breaker) =>
            Effect.gen(function* () {
              yield* breaker.protect(Effect.sync(() => log.push("call")))
              const fiber = yield* Effect.forkChild(breaker.protect(Effect.never))
              yield* Effect.yieldNow
              log.push("interrupting")
              yield* Fiber.interrupt(fiber)
            }),
          holding
        )
        assert.deepStrictEqual(log, ["call", "Success", "released", "interrupting", "Ignored", "released"])
      })
    )

    it("policy clamps the threshold to a whole number of at least one", () => {
      for (const [input, expected] of [
        [0, 1],
        [2.7, 2],
        [Number.NaN, 1],
        [undefined, 5]
      ] as const) {
        const policy = CircuitBreaker.policy(input === undefined ? {} : { failureThreshold: input })
        assert.deepStrictEqual(policy.tripPolicy, { _tag: "Consecutive", failures: expected })
      }
    })
  })
}
