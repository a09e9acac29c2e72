import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { KnowledgeBase, Memory, MemoryRecord } from "@troupe/memory"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/testing/TestClock"
import * as Agent from "../src/Agent.ts"
import * as AgentEvents from "../src/AgentEvents.ts"
import * as Run from "../src/Run.ts"
import { callTurn, harness, planTurn, reflectTurn, spec } from "./support.ts"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-agent-memory-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const withMemory = <A, E>(body: (memory: Memory.Service) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const directory = yield* tempDir
      return yield* Effect.flatMap(Memory.Memory, body).pipe(Effect.provide(Memory.layerTest(directory)))
    })
  )

describe("memory in a run", () => {
  it.live(
    "recalled memories go in as marked context; each step is remembered as an episode, and a lesson as a lesson",
    () =>
      withMemory((memory) =>
        Effect.gen(function* () {
          yield* memory.remember({
            agent: "tester",
            namespace: "tester",
            kind: "lesson",
            text: "Database migrations must run before the API tests"
          })
          yield* memory.remember({
            agent: "other",
            namespace: MemoryRecord.teamNamespace,
            kind: "fact",
            text: "The API tests live in test/api"
          })
          yield* memory.remember({ agent: "stranger", namespace: "stranger", kind: "fact", text: "API secret notes" })
          const h = yield* harness(
            [
              planTurn("tests"),
              Scripted.text("Ran migrations, then the API tests: green."),
              reflectTurn("done", { answer: "green", lesson: "Always migrate first" })
            ],
            { spec: spec({ memory: { recall: 5 } }), goal: "make the API tests pass", tools: false }
          )
          yield* Run.execute({ ...h.context, memory }, h.control)
          const prompts = yield* h.model.prompts
          const context = JSON.stringify(prompts[0]!.content)
          assert.include(context, "Recalled from long-term memory")
          assert.include(context, "Database migrations must run before the API tests")
          assert.include(context, "The API tests live in test/api")
          // Another agent's private namespace is not read.
          assert.notInclude(context, "API secret notes")
          const recalled = h.events.find((e) => e._tag === "AgentMemoryRecalled")
          assert.strictEqual(recalled?._tag === "AgentMemoryRecalled" && recalled.ids.length, 2)
          const episodes = yield* memory.list({ agent: "tester", kinds: ["episode"] })
          assert.strictEqual(episodes.length, 1)
          assert.include(episodes[0]!.text, "Ran migrations, then the API tests: green.")
          assert.strictEqual(episodes[0]!.metadata.runId, "run-1")
          const lessons = yield* memory.list({ agent: "tester", kinds: ["lesson"] })
          assert.sameMembers(
            lessons.map((l) => l.text),
            ["Database migrations must run before the API tests", "Always migrate first"]
          )
        })
      ),
    60_000
  )

  it.live(
    "memory.enabled: false means no memory at all",
    () =>
      withMemory((memory) =>
        Effect.gen(function* () {
          yield* memory.remember({ agent: "tester", namespace: "tester", kind: "fact", text: "something to recall" })
          const h = yield* harness(
            [planTurn("a"), Scripted.text("done"), reflectTurn("done", { lesson: "never stored" })],
            {
              spec: spec({ memory: { enabled: false } }),
              tools: false
            }
          )
          yield* Run.execute({ ...h.context, memory }, h.control)
          const prompts = yield* h.model.prompts
          assert.notInclude(JSON.stringify(prompts[0]!.content), "something to recall")
          assert.strictEqual(yield* memory.count({ agent: "tester" }), 1)
        })
      ),
    60_000
  )

  it.effect(
    "when a run ends, week-old episodes are consolidated into a lesson with the agent's model",
    () =>
      withMemory((memory) =>
        Effect.gen(function* () {
          yield* memory.remember({
            agent: "tester",
            namespace: "tester",
            kind: "episode",
            text: "Tried npm test: it failed"
          })
          yield* memory.remember({
            agent: "tester",
            namespace: "tester",
            kind: "episode",
            text: "Ran migrations, then it passed"
          })
          yield* TestClock.adjust("8 days")
          const h = yield* harness(
            [
              planTurn("a"),
              Scripted.text("done"),
              reflectTurn("done", { answer: "done" }),
              Scripted.text("Run the migrations before npm test.")
            ],
            { spec: spec({ memory: { recall: 0 } }), tools: false }
          )
          yield* Run.execute({ ...h.context, memory }, h.control)
          const lessons = yield* memory.list({ agent: "tester", kinds: ["lesson"] })
          assert.deepStrictEqual(
            lessons.map((l) => l.text),
            ["Run the migrations before npm test."]
          )
          assert.strictEqual(lessons[0]!.provenance.length, 2)
          // This run's own episode is new: it stays an episode.
          assert.strictEqual((yield* memory.list({ agent: "tester", kinds: ["episode"] })).length, 1)
        })
      ),
    60_000
  )

  it.live(
    "an agent whose spec lists memory tools remembers and recalls through them, in its own namespace",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const directory = yield* tempDir
          // Built in the test's scope: the stores stay open for the agent's whole run.
          const stores = yield* Layer.build(
            Layer.mergeAll(Memory.layerTest(directory), KnowledgeBase.layerTest(directory))
          )
          const memory = Context.get(stores, Memory.Memory)
          const knowledgeBase = Context.get(stores, KnowledgeBase.KnowledgeBase)
          const model = yield* Scripted.make([
            planTurn("remember"),
            callTurn({
              name: "memory_remember",
              params: { text: "The staging database listens on 5433", kind: "fact" }
            }),
            callTurn({ name: "memory_recall", params: { query: "staging database port" } }),
            Scripted.text("Noted: 5433"),
            reflectTurn("done", { answer: "5433" })
          ])
          const agent = yield* Agent.make(spec({ name: "keeper", tools: ["memory_remember", "memory_recall"] }), {
            model: model.languageModel,
            memory,
            knowledgeBase
          })
          const result = yield* agent.run("remember the staging database's port")
          assert.strictEqual(result.answer, "5433")
          const facts = yield* memory.list({ agent: "keeper", kinds: ["fact"] })
          assert.deepStrictEqual(
            facts.map((f) => [f.namespace, f.text]),
            [["keeper", "The staging database listens on 5433"]]
          )
          // The recall's result went back to the model.
          const prompts = yield* model.prompts
          assert.include(JSON.stringify(prompts[3]!.content.at(-1)), "The staging database listens on 5433")
        }).pipe(
          Effect.provide(
            Layer.mergeAll(ActorSystem.layer(), AgentEvents.layer, ProviderPool.layer(), NodeHttpClient.layerUndici)
          )
        )
      ),
    60_000
  )
})
