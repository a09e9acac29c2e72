import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as OpenAiEmbeddingModel from "../src/OpenAiEmbeddingModel.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeOpenAi from "../src/testing/FakeOpenAi.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"

describe("OpenAiEmbeddingModel", () => {
  it.effect("embeds many inputs in one request, in input order", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAi.make({ embeddingDimensions: 6 })
      const model = yield* OpenAiEmbeddingModel.make({
        baseUrl: server.url,
        apiKey: Redacted.make("sk-embed-key"),
        model: "text-embedding-test",
        dimensions: 6,
        retry: Retry.none
      })
      const response = yield* model.embedMany(["alpha", "beta", "gamma"])
      assert.deepStrictEqual(
        response.embeddings.map((e) => e.vector),
        ["alpha", "beta", "gamma"].map((t) => FakeServer.vectorOf(t, 6))
      )
      assert.strictEqual(response.usage.inputTokens, 9)
      assert.strictEqual(server.requests.length, 1)
      const body = server.requests[0]!.body as any
      assert.strictEqual(server.requests[0]!.path, "/v1/embeddings")
      assert.deepStrictEqual(body.input, ["alpha", "beta", "gamma"])
      assert.strictEqual(body.dimensions, 6)
      assert.strictEqual(server.requests[0]!.headers.authorization, "Bearer sk-embed-key")
      const single = yield* model.embed("alpha")
      assert.deepStrictEqual(single.vector, FakeServer.vectorOf("alpha", 6))
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("batches concurrent embed calls into one request", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAi.make()
      const model = yield* OpenAiEmbeddingModel.make({ baseUrl: server.url, model: "m", retry: Retry.none })
      const vectors = yield* Effect.forEach(["a", "b", "c", "d"], (t) => model.embed(t), { concurrency: "unbounded" })
      assert.deepStrictEqual(
        vectors.map((v) => v.vector),
        ["a", "b", "c", "d"].map((t) => FakeServer.vectorOf(t, 8))
      )
      assert.strictEqual(server.requests.length, 1)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("maps failures onto AiError reasons", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAi.make({ faults: [FakeServer.status(401), FakeServer.invalidBody] })
      const model = yield* OpenAiEmbeddingModel.make({ baseUrl: server.url, model: "m", retry: Retry.none })
      const auth = yield* Effect.flip(model.embedMany(["a"]))
      assert.strictEqual(auth.reason._tag, "AuthenticationError")
      const invalid = yield* Effect.flip(model.embedMany(["a"]))
      assert.strictEqual(invalid.reason._tag, "InvalidResponseError")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("keeps an echoed API key out of the error for a non-JSON 200 body", () =>
    Effect.gen(function* () {
      const key = "sk-embed-secret-42"
      const server = yield* FakeOpenAi.make({ faults: [FakeServer.body(`oops ${key}`)] })
      const model = yield* OpenAiEmbeddingModel.make({
        baseUrl: server.url,
        apiKey: Redacted.make(key),
        model: "m",
        retry: Retry.none
      })
      const error = yield* Effect.flip(model.embedMany(["a"]))
      assert.strictEqual(error.reason._tag, "InvalidResponseError")
      assert.notInclude(error.message, key)
      assert.notInclude(JSON.stringify(error), key)
      assert.include(error.message, "[redacted]")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )
})
