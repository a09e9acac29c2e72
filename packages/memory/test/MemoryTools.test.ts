import { assert, describe, it } from "@effect/vitest"
import * as Tool from "effect/ai/Tool"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as KnowledgeBase from "../src/KnowledgeBase.ts"
import * as Memory from "../src/Memory.ts"
import * as MemoryTools from "../src/MemoryTools.ts"
import { tempDir } from "./support.ts"

// Runs a tool call through the toolkit (parameter decoding, handler, result encoding) and returns the final result.
const call = <Name extends keyof typeof MemoryTools.toolkit.tools>(name: Name, params: unknown) =>
  Effect.gen(function* () {
    const tools = yield* MemoryTools.toolkit
    const stream = yield* tools.handle(name, params as never)
    const results = yield* Stream.runCollect(stream)
    const last = results[results.length - 1]!
    return { isFailure: last.isFailure, result: last.encodedResult as any }
  })

const withTools = <A, E, R>(agent: string, f: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const services = Layer.mergeAll(Memory.layerTest(dir), KnowledgeBase.layerTest(dir))
    return yield* f.pipe(Effect.provide(MemoryTools.layerWith({ agent }, services)))
  })

describe("MemoryTools", () => {
  it.effect("remembers and recalls through the tools, within the agent's and the team's namespaces", () =>
    withTools(
      "backend",
      Effect.gen(function* () {
        const own = yield* call("memory_remember", { text: "Use port 5433 for the staging database", kind: "fact" })
        assert.isFalse(own.isFailure)
        assert.strictEqual(own.result.namespace, "backend")
        const shared = yield* call("memory_remember", {
          text: "The staging database is reset every night",
          shared: true,
          importance: 0.9
        })
        assert.strictEqual(shared.result.namespace, "team")
        const recalled = yield* call("memory_recall", { query: "staging database", k: 5 })
        assert.isFalse(recalled.isFailure)
        assert.deepStrictEqual(recalled.result.map((r: { namespace: string }) => r.namespace).sort(), [
          "backend",
          "team"
        ])
        assert.isAbove(recalled.result[0].score, 0)
        const lessons = yield* call("memory_recall", { query: "staging database", kinds: ["lesson"] })
        assert.deepStrictEqual(lessons.result, [])
      })
    )
  )

  it.effect("rejects malformed parameters", () =>
    withTools(
      "backend",
      Effect.gen(function* () {
        // Returned to the model as a failed result (failure mode "return") so it can correct the call.
        const bad = yield* call("memory_recall", { query: "x", k: 1.5 })
        assert.isTrue(bad.isFailure)
        assert.strictEqual(bad.result.reason._tag, "ToolParameterValidationError")
        const tooImportant = yield* call("memory_remember", { text: "x", importance: 3 })
        assert.isTrue(tooImportant.isFailure)
        assert.strictEqual(tooImportant.result.reason._tag, "ToolParameterValidationError")
      })
    )
  )

  it.effect("recalls 8 memories when the model gives no k, and at most 50", () =>
    withTools(
      "backend",
      Effect.gen(function* () {
        for (let i = 0; i < 60; i++) yield* call("memory_remember", { text: `deploy note number ${i}` })
        assert.strictEqual((yield* call("memory_recall", { query: "deploy note" })).result.length, 8)
        assert.strictEqual((yield* call("memory_recall", { query: "deploy note", k: 3 })).result.length, 3)
        assert.strictEqual((yield* call("memory_recall", { query: "deploy note", k: 500 })).result.length, 50)
        const description = (Tool.getJsonSchema(MemoryTools.MemoryRecall) as any).properties.k.description
        assert.strictEqual(description, "number of results, default 8, at most 50")
      })
    )
  )

  it.effect("asserts and queries knowledge through the tools", () =>
    withTools(
      "ops",
      Effect.gen(function* () {
        const first = yield* call("knowledge_assert", { subject: "api", predicate: "version", object: "1.0" })
        assert.isTrue(first.result.created)
        const second = yield* call("knowledge_assert", {
          subject: "api",
          predicate: "version",
          object: "2.0",
          confidence: 0.8
        })
        assert.deepStrictEqual(second.result.superseded, [first.result.id])
        const now = yield* call("knowledge_query", { subject: "api" })
        assert.strictEqual(now.result.count, 1)
        assert.include(now.result.facts, "api · version · 2.0 [p=0.8;")
        assert.include(now.result.facts, "src agent:ops")
        const history = yield* call("knowledge_query", { subject: "api", history: true })
        assert.strictEqual(history.result.count, 2)
        const bad = yield* call("knowledge_query", { subject: "api", asOf: "not a date" })
        assert.isTrue(bad.isFailure)
        assert.strictEqual(bad.result.error, "InvalidDate")
      })
    )
  )

  it("declares integer and finite numbers in the JSON Schema sent to models", () => {
    for (const tool of Object.values(MemoryTools.toolkit.tools)) {
      const schema = JSON.stringify(Tool.getJsonSchema(tool))
      assert.notInclude(schema, "NaN")
      assert.notInclude(schema, "Infinity")
    }
    const recall = Tool.getJsonSchema(MemoryTools.MemoryRecall) as any
    assert.strictEqual(recall.properties.k.type, "integer")
    assert.deepStrictEqual(recall.required, ["query"])
  })
})
