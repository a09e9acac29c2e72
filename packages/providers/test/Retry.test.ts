import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Random, Schedule, Stream } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import { TestClock } from "effect/testing"
import * as OpenAiLanguageModel from "../src/OpenAiLanguageModel.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeOpenAi from "../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"

const aiError = (reason: AiError.AiErrorReason) => AiError.make({ module: "Test", method: "call", reason })
const rateLimited = (seconds: number) => aiError(new AiError.RateLimitError({ retryAfter: Duration.seconds(seconds) }))
const serverError = aiError(new AiError.InternalProviderError({ description: "boom" }))

/** An effect that fails with `error` every time and counts its attempts. */
const failing = (error: AiError.AiError) => {
  const attempts = { count: 0 }
  const effect = Effect.suspend(() => {
    attempts.count += 1
    return Effect.fail(error)
  })
  return { attempts, effect }
}

describe("Retry", () => {
  it.effect("backs off exponentially (no jitter) and stops after maxRetries", () =>
    Effect.gen(function* () {
      const { attempts, effect } = failing(serverError)
      const policy = Retry.policy({ maxRetries: 3, base: "100 millis", factor: 2, jitter: false })
      const fiber = yield* Effect.forkChild(Retry.retry(policy)(effect))
      yield* Effect.yieldNow
      assert.strictEqual(attempts.count, 1)
      yield* TestClock.adjust("99 millis")
      assert.strictEqual(attempts.count, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(attempts.count, 2)
      yield* TestClock.adjust("200 millis")
      assert.strictEqual(attempts.count, 3)
      yield* TestClock.adjust("400 millis")
      assert.strictEqual(attempts.count, 4)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error.reason._tag, "InternalProviderError")
      assert.strictEqual(attempts.count, 4)
    })
  )

  it.effect("never retries earlier than Retry-After", () =>
    Effect.gen(function* () {
      const { attempts, effect } = failing(rateLimited(2))
      const policy = Retry.policy({ maxRetries: 1, base: "10 millis", jitter: false })
      const fiber = yield* Effect.forkChild(Retry.retry(policy)(effect))
      yield* Effect.yieldNow
      yield* TestClock.adjust("1999 millis")
      assert.strictEqual(attempts.count, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(attempts.count, 2)
      yield* Effect.flip(Fiber.join(fiber))
    })
  )

  it.effect("feeds every failure, the first one included, to the backoff, and ends on the first success", () =>
    Effect.gen(function* () {
      const errors = [serverError, rateLimited(2)]
      const attempts = { count: 0 }
      const effect = Effect.suspend(() => {
        attempts.count += 1
        const error = errors[attempts.count - 1]
        return error === undefined ? Effect.succeed(`answer ${attempts.count}`) : Effect.fail(error)
      })
      const policy = Retry.policy({ maxRetries: 5, base: "100 millis", factor: 2, jitter: false })
      const fiber = yield* Effect.forkChild(Retry.retry(policy)(effect))
      yield* Effect.yieldNow
      assert.strictEqual(attempts.count, 1)
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(attempts.count, 2)
      // The second failure asks for 2 seconds, more than the 200 ms backoff.
      yield* TestClock.adjust("1999 millis")
      assert.strictEqual(attempts.count, 2)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(attempts.count, 3)
      assert.strictEqual(yield* Fiber.join(fiber), "answer 3")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(attempts.count, 3)
    })
  )

  it.effect("caps the backoff at maxDelay", () =>
    Effect.gen(function* () {
      const { attempts, effect } = failing(serverError)
      const policy = Retry.policy({ maxRetries: 2, base: "10 seconds", maxDelay: "1 second", jitter: false })
      const fiber = yield* Effect.forkChild(Retry.retry(policy)(effect))
      yield* Effect.yieldNow
      yield* TestClock.adjust("1 second")
      assert.strictEqual(attempts.count, 2)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(attempts.count, 3)
      yield* Effect.flip(Fiber.join(fiber))
    })
  )

  it.effect("keeps jittered delays within 20% of the exponential delay", () =>
    Effect.gen(function* () {
      const { attempts, effect } = failing(serverError)
      const policy = Retry.policy({ maxRetries: 1, base: "1 second", jitter: true })
      const fiber = yield* Effect.forkChild(Retry.retry(policy)(effect))
      yield* Effect.yieldNow
      yield* TestClock.adjust("799 millis")
      assert.strictEqual(attempts.count, 1)
      yield* TestClock.adjust("402 millis")
      assert.strictEqual(attempts.count, 2)
      yield* Effect.flip(Fiber.join(fiber))
    })
  )

  it.effect("does not retry non-retryable errors, or a Retry-After beyond maxDelay", () =>
    Effect.gen(function* () {
      const auth = failing(aiError(new AiError.AuthenticationError({ kind: "InvalidKey" })))
      yield* Effect.flip(Retry.retry(Retry.defaultPolicy)(auth.effect))
      assert.strictEqual(auth.attempts.count, 1)
      const long = failing(rateLimited(120))
      const error = yield* Effect.flip(Retry.retry(Retry.policy({ maxDelay: "30 seconds" }))(long.effect))
      assert.strictEqual(long.attempts.count, 1)
      assert.strictEqual(error.reason._tag, "RateLimitError")
    })
  )

  // The delays the policy's schedule gives for `n` consecutive failures with `error`, under a seeded Random.
  const delaysOf = (policy: Retry.Policy, error: AiError.AiError, n: number, seed = 1) =>
    Effect.gen(function* () {
      const step = yield* Schedule.toStep(Retry.schedule(policy))
      const delays: Array<number> = []
      for (let i = 0; i < n; i++) {
        const next = yield* Effect.result(step(0, error))
        if (next._tag === "Failure") break
        delays.push(Duration.toMillis(next.success[1]))
      }
      return delays
    }).pipe(Random.withSeed(seed))

  it.effect("without jitter, delays grow by the factor from the base, and stop after maxRetries", () =>
    Effect.gen(function* () {
      const policy = Retry.policy({ maxRetries: 3, base: "100 millis", factor: 3, jitter: false })
      assert.deepStrictEqual(yield* delaysOf(policy, serverError, 10), [100, 300, 900])
    })
  )

  it.effect("jitter scales each delay into [0.8, 1.2] of its exponential value, differently per seed", () =>
    Effect.gen(function* () {
      const policy = Retry.policy({ maxRetries: 2, base: "1 second", factor: 2, jitter: true })
      const firsts: Array<number> = []
      for (let seed = 1; seed <= 40; seed++) {
        const [first, second] = yield* delaysOf(policy, serverError, 2, seed)
        assert.isAtLeast(first!, 800)
        assert.isAtMost(first!, 1200)
        assert.isAtLeast(second!, 1600)
        assert.isAtMost(second!, 2400)
        firsts.push(first!)
      }
      assert.isTrue(firsts.some((d) => d < 950) && firsts.some((d) => d > 1050), firsts.join(", "))
    })
  )

  it.effect("a Retry-After equal to maxDelay is waited for; the backoff never goes below it", () =>
    Effect.gen(function* () {
      const policy = Retry.policy({ maxRetries: 2, base: "10 millis", maxDelay: "2 seconds", jitter: false })
      assert.isTrue(Retry.shouldRetry(policy, rateLimited(2)))
      assert.isFalse(Retry.shouldRetry(policy, rateLimited(3)))
      assert.deepStrictEqual(yield* delaysOf(policy, rateLimited(2), 5), [2000, 2000])
      assert.deepStrictEqual(yield* delaysOf(policy, serverError, 5), [10, 20])
    })
  )

  it("shouldRetry: only retryable errors, and only when their Retry-After fits", () => {
    const policy = Retry.policy({ maxDelay: "5 seconds" })
    assert.isTrue(Retry.shouldRetry(policy, serverError))
    assert.isFalse(Retry.shouldRetry(policy, aiError(new AiError.AuthenticationError({ kind: "InvalidKey" }))))
    assert.isTrue(Retry.shouldRetry(policy, rateLimited(5)))
    assert.isFalse(Retry.shouldRetry(policy, rateLimited(6)))
  })

  it("policy fills every unset field from the default policy and keeps the set ones", () => {
    assert.deepStrictEqual(Retry.policy(), Retry.defaultPolicy)
    assert.deepStrictEqual(Retry.defaultPolicy, {
      maxRetries: 3,
      base: Duration.millis(250),
      factor: 2,
      maxDelay: Duration.seconds(30),
      jitter: true
    })
    const custom = Retry.policy({ maxRetries: 0, base: "1 second", factor: 1.5, maxDelay: "4 seconds", jitter: false })
    assert.deepStrictEqual(custom, {
      maxRetries: 0,
      base: Duration.seconds(1),
      factor: 1.5,
      maxDelay: Duration.seconds(4),
      jitter: false
    })
    assert.strictEqual(Retry.none.maxRetries, 0)
  })

  it.effect("Retry.none runs the effect once", () =>
    Effect.gen(function* () {
      const { attempts, effect } = failing(serverError)
      yield* Effect.flip(Retry.retry(Retry.none)(effect))
      assert.strictEqual(attempts.count, 1)
    })
  )

  describe("over HTTP", () => {
    const withServer = <A, E, R>(
      options: FakeServer.Options,
      policy: Retry.Policy,
      f: (server: FakeServer.FakeServer) => Effect.Effect<A, E, R>
    ) =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make(options)
        const model = yield* OpenAiLanguageModel.make({ baseUrl: server.url, model: "m", retry: policy })
        return yield* f(server).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
      }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

    const fast = Retry.policy({ maxRetries: 3, base: "1 millis", jitter: false })

    it.live("retries 429 and 503 until the call succeeds", () =>
      withServer(
        {
          faults: [FakeServer.status(429, { retryAfter: "0" }), FakeServer.status(503)],
          turns: [{ text: "third time" }]
        },
        fast,
        (server) =>
          Effect.gen(function* () {
            const response = yield* LanguageModel.generateText({ prompt: "x" })
            assert.strictEqual(response.text, "third time")
            assert.strictEqual(server.requests.length, 3)
          })
      )
    )

    it.live("waits for the server's Retry-After before the next attempt", () =>
      withServer({ faults: [FakeServer.status(429, { retryAfter: "1" })] }, fast, (server) =>
        Effect.gen(function* () {
          yield* LanguageModel.generateText({ prompt: "x" })
          assert.strictEqual(server.requests.length, 2)
          const [first, second] = server.requests.map((r) => r.receivedAt)
          assert.isAtLeast(second! - first!, 950)
        })
      )
    )

    it.live("gives up after maxRetries with the last error, and never retries a 401", () =>
      withServer(
        { faults: (i) => (i < 3 ? FakeServer.status(500) : FakeServer.status(401)) },
        Retry.policy({ maxRetries: 2, base: "1 millis" }),
        (server) =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
            assert.strictEqual(error.reason._tag, "InternalProviderError")
            assert.strictEqual(server.requests.length, 3)
            const auth = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
            assert.strictEqual(auth.reason._tag, "AuthenticationError")
            assert.strictEqual(server.requests.length, 4)
          })
      )
    )

    it.live("retries a stream until its response starts, but never after parts were emitted", () =>
      withServer({ faults: [FakeServer.status(503), FakeServer.truncate] }, fast, (server) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Stream.runCollect(LanguageModel.streamText({ prompt: "x" })))
          assert.strictEqual(error.reason._tag, "NetworkError")
          assert.strictEqual(server.requests.length, 2)
        })
      )
    )

    it.live("seeded random failures are reproducible and absorbed by retries", () =>
      Effect.gen(function* () {
        const statuses = (seed: number) =>
          withServer(
            { failureRate: { p: 0.3, seed } },
            Retry.policy({ maxRetries: 10, base: "1 millis", jitter: false }),
            (server) =>
              Effect.gen(function* () {
                for (let i = 0; i < 10; i++) yield* LanguageModel.generateText({ prompt: "x" })
                return server.requests.length
              })
          )
        const first = yield* statuses(42)
        const second = yield* statuses(42)
        assert.strictEqual(first, second)
        assert.isAbove(first, 10)
      })
    )
  })
})
