import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { LanguageModel } from "effect/ai"
import { HttpClient } from "effect/http"
import * as OpenAiLanguageModel from "../../src/OpenAiLanguageModel.ts"
import * as Retry from "../../src/Retry.ts"
import * as FakeOpenAi from "../../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../../src/testing/FakeServer.ts"

const withModel = <A, E, R>(
  options: FakeServer.Options,
  f: (server: FakeServer.FakeServer) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAi.make(options)
    const model = yield* OpenAiLanguageModel.make({ baseUrl: server.url, model: "m", retry: Retry.none })
    return yield* f(server).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

const outcomes = (count: number) =>
  Effect.gen(function* () {
    const results: Array<boolean> = []
    for (let i = 0; i < count; i++) {
      results.push(Exit.isSuccess(yield* Effect.exit(LanguageModel.generateText({ prompt: "x" }))))
    }
    return results
  })

describe("FakeServer", () => {
  it.effect("records each request and marks it completed", () =>
    withModel({}, (server) =>
      Effect.gen(function* () {
        yield* LanguageModel.generateText({ prompt: "x" })
        yield* server.waitFor((requests) => requests[0]?.state === "completed")
        const request = server.requests[0]!
        assert.strictEqual(request.index, 0)
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.headers["content-type"], "application/json")
        assert.strictEqual((request.body as any).model, "m")
        assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/)
      })
    )
  )

  it.effect("answers unknown paths with a provider-shaped 404", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAi.make()
      const response = yield* HttpClient.post(`${server.url}/nope`)
      assert.strictEqual(response.status, 404)
      const body = (yield* response.json) as any
      assert.match(body.error.message, /no route/)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("computes turns from the request when given a function", () =>
    withModel(
      { turns: (request, index) => ({ text: `${index}:${(request.body as any).messages.at(-1).content}` }) },
      () =>
        Effect.gen(function* () {
          assert.strictEqual((yield* LanguageModel.generateText({ prompt: "a" })).text, "0:a")
          assert.strictEqual((yield* LanguageModel.generateText({ prompt: "b" })).text, "1:b")
        })
    )
  )

  it.effect("repeats the last scripted turn", () =>
    withModel({ turns: [{ text: "one" }, { text: "two" }] }, () =>
      Effect.gen(function* () {
        const texts: Array<string> = []
        for (let i = 0; i < 3; i++) texts.push((yield* LanguageModel.generateText({ prompt: "x" })).text)
        assert.deepStrictEqual(texts, ["one", "two", "two"])
      })
    )
  )

  it.live("adds the configured latency", () =>
    withModel({ latency: { fixedMs: 120, jitterMs: 30 } }, () =>
      Effect.gen(function* () {
        const start = performance.now()
        yield* LanguageModel.generateText({ prompt: "x" })
        assert.isAtLeast(performance.now() - start, 115)
      })
    )
  )

  it.effect("fails with probability p from a seed: p=0 never, p=1 always, same seed same sequence", () =>
    Effect.gen(function* () {
      const never = yield* withModel({ failureRate: { p: 0, seed: 3 } }, () => outcomes(10))
      assert.isTrue(never.every((ok) => ok))
      const always = yield* withModel({ failureRate: { p: 1, seed: 3 } }, () => outcomes(5))
      assert.isTrue(always.every((ok) => !ok))
      const first = yield* withModel({ failureRate: { p: 0.5, seed: 11 } }, () => outcomes(30))
      const second = yield* withModel({ failureRate: { p: 0.5, seed: 11 } }, () => outcomes(30))
      assert.deepStrictEqual(first, second)
      assert.isTrue(first.some((ok) => ok) && first.some((ok) => !ok))
    })
  )

  it.effect("uses the fault's status for random failures", () =>
    withModel({ failureRate: { p: 1, fault: FakeServer.status(429, { retryAfter: "3" }) } }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(LanguageModel.generateText({ prompt: "x" }))
        assert.strictEqual(error.reason._tag, "RateLimitError")
      })
    )
  )

  it("derives deterministic pseudo-embeddings", () => {
    assert.deepStrictEqual(FakeServer.vectorOf("same", 5), FakeServer.vectorOf("same", 5))
    assert.notDeepEqual(FakeServer.vectorOf("same", 5), FakeServer.vectorOf("other", 5))
    assert.strictEqual(FakeServer.vectorOf("x", 12).length, 12)
  })
})
