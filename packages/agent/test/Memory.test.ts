import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Memory, MemoryRecord } from "@troupe/memory"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import * as Run from "../src/Run.ts"
import { harness, planTurn, reflectTurn, spec } from "./support.ts"

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
})
