import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as GeminiEmbeddingModel from "../src/GeminiEmbeddingModel.ts"
import * as Retry from "../src/Retry.ts"
import * as FakeGemini from "../src/testing/FakeGemini.ts"
import * as FakeServer from "../src/testing/FakeServer.ts"

describe("GeminiEmbeddingModel", () => {
  it.effect("uses embedContent for one input and batchEmbedContents for several", () =>
    Effect.gen(function* () {
      const server = yield* FakeGemini.make({ embeddingDimensions: 4 })
      const model = yield* GeminiEmbeddingModel.make({
        baseUrl: server.url,
        apiKey: Redacted.make("g-key"),
        model: "gemini-embedding-test",
        dimensions: 4,
        taskType: "RETRIEVAL_DOCUMENT",
        retry: Retry.none
      })
      const one = yield* model.embed("hello")
      assert.deepStrictEqual(one.vector, FakeServer.vectorOf("hello", 4))
      assert.strictEqual(server.requests[0]!.path, "/v1beta/models/gemini-embedding-test:embedContent")
      assert.deepStrictEqual(server.requests[0]!.body, {
        model: "models/gemini-embedding-test",
        content: { parts: [{ text: "hello" }] },
        outputDimensionality: 4,
        taskType: "RETRIEVAL_DOCUMENT"
      })
      assert.strictEqual(server.requests[0]!.headers["x-goog-api-key"], "g-key")
      const many = yield* model.embedMany(["x", "y", "z"])
      assert.deepStrictEqual(
        many.embeddings.map((e) => e.vector),
        ["x", "y", "z"].map((t) => FakeServer.vectorOf(t, 4))
      )
      assert.strictEqual(server.requests[1]!.path, "/v1beta/models/gemini-embedding-test:batchEmbedContents")
      assert.strictEqual((server.requests[1]!.body as any).requests.length, 3)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("maps a 503 onto a retryable InternalProviderError", () =>
    Effect.gen(function* () {
      const server = yield* FakeGemini.make({ faults: [FakeServer.status(503)] })
      const model = yield* GeminiEmbeddingModel.make({ baseUrl: server.url, model: "m", retry: Retry.none })
      const error = yield* Effect.flip(model.embedMany(["a", "b"]))
      assert.strictEqual(error.reason._tag, "InternalProviderError")
      assert.isTrue(error.isRetryable)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  )

  it.effect("keeps an echoed API key out of the error for a non-JSON 200 body", () =>
    Effect.gen(function* () {
      const key = "gemini-embed-secret"
      const server = yield* FakeGemini.make({ faults: [FakeServer.body(`oops ${key}`)] })
      const model = yield* GeminiEmbeddingModel.make({
        baseUrl: server.url,
        apiKey: Redacted.make(key),
        model: "embedding-test",
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
