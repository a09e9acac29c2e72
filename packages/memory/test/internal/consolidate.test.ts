import { assert, describe, it } from "@effect/vitest"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/testing/TestClock"
import * as Consolidation from "../../src/internal/consolidate.ts"
import type * as Memory from "../../src/Memory.ts"
import { MemoryError } from "../../src/MemoryError.ts"
import type { MemoryRecord } from "../../src/MemoryRecord.ts"
import { runFixture, scriptedModel, tempDir, useMemory, withMemory } from "../support.ts"

const episodes = (memory: Memory.Service, texts: ReadonlyArray<string>) =>
  Effect.forEach(texts, (text) => memory.remember({ agent: "ops", kind: "episode", text, importance: 0.4 }))

// Each episode id must be in the provenance of exactly one lesson.
const assertEachSummarisedOnce = (lessons: ReadonlyArray<MemoryRecord>, episodeIds: ReadonlyArray<string>) => {
  const named = lessons.flatMap((l) => l.provenance)
  assert.deepStrictEqual([...named].sort(), [...episodeIds].sort())
}

describe("consolidation", () => {
  it.effect("consolidates old episodes into a lesson that keeps their ids as provenance", () =>
    Effect.gen(function* () {
      const prompts = yield* Ref.make<ReadonlyArray<string>>([])
      const model = yield* scriptedModel("Warm the cache before load tests.", prompts)
      yield* withMemory((memory) =>
        Effect.gen(function* () {
          const old = yield* episodes(memory, ["cache was cold", "load test failed", "warmed cache, passed"])
          yield* memory.remember({ agent: "ops", kind: "fact", text: "facts are not consolidated" })
          yield* TestClock.adjust("2 days")
          const fresh = yield* memory.remember({ agent: "ops", kind: "episode", text: "today's episode" })
          const lessons = yield* memory
            .consolidate({ namespace: "ops", olderThan: "1 day" })
            .pipe(Effect.provideService(LanguageModel.LanguageModel, model))
          assert.strictEqual(lessons.length, 1)
          const lesson = lessons[0]!
          assert.strictEqual(lesson.kind, "lesson")
          assert.strictEqual(lesson.text, "Warm the cache before load tests.")
          assert.strictEqual(lesson.importance, 0.4)
          assert.deepStrictEqual(lesson.metadata, { consolidatedFrom: 3 })
          assert.deepStrictEqual([...lesson.provenance].sort(), old.map((r) => r.id).sort())
          const sent = yield* Ref.get(prompts)
          assert.strictEqual(sent.length, 1)
          for (const text of ["cache was cold", "load test failed", "warmed cache, passed"])
            assert.include(sent[0]!, text)
          const remaining = yield* memory.list({ namespace: "ops" })
          assert.deepStrictEqual(
            remaining.map((r) => r.id).sort(),
            [lesson.id, fresh.id, remaining.find((r) => r.kind === "fact")!.id].sort()
          )
          const [stored] = yield* memory.list({ ids: [lesson.id] })
          assert.deepStrictEqual(stored!.provenance, lesson.provenance)
        })
      )
    })
  )

  it.effect("consolidates in batches and can keep the originals, without summarising them twice", () =>
    Effect.gen(function* () {
      const prompts = yield* Ref.make<ReadonlyArray<string>>([])
      const model = yield* scriptedModel("Batch lesson.", prompts)
      yield* withMemory((memory) =>
        Effect.gen(function* () {
          const written = yield* memory.rememberMany(
            Array.from({ length: 5 }, (_, i) => ({ agent: "ops", kind: "episode" as const, text: `episode ${i}` }))
          )
          yield* memory.remember({ agent: "ops", namespace: "other", kind: "episode", text: "elsewhere" })
          yield* TestClock.adjust("2 hours")
          const run = memory
            .consolidate({ namespace: "ops", olderThan: "1 hour", batchSize: 2, keepOriginals: true, agent: "curator" })
            .pipe(Effect.provideService(LanguageModel.LanguageModel, model))
          const lessons = yield* run
          assert.deepStrictEqual(
            lessons.map((l) => l.provenance),
            [[written[0]!.id, written[1]!.id], [written[2]!.id, written[3]!.id], [written[4]!.id]]
          )
          assert.deepStrictEqual(
            lessons.map((l) => l.agent),
            ["curator", "curator", "curator"]
          )
          assert.strictEqual((yield* Ref.get(prompts)).length, 3)
          assert.strictEqual(yield* memory.count({ kinds: ["episode"] }), 6)
          assert.strictEqual(yield* memory.count({ namespace: "ops", kinds: ["lesson"] }), 3)
          // The kept episodes are already summarised: a second run writes nothing and asks the model nothing.
          assert.deepStrictEqual(yield* run, [])
          assert.strictEqual((yield* Ref.get(prompts)).length, 3)
          assert.strictEqual(yield* memory.count({ namespace: "ops", kinds: ["lesson"] }), 3)
        })
      )
    })
  )

  it("derives a lesson's id from its episodes' ids, in any order", () => {
    const id = Consolidation.lessonId(["mem_b", "mem_a"])
    assert.match(id, /^lesson_[0-9a-f]{32}$/)
    assert.strictEqual(Consolidation.lessonId(["mem_a", "mem_b"]), id)
    assert.notStrictEqual(Consolidation.lessonId(["mem_a"]), id)
    assert.notStrictEqual(Consolidation.lessonId(["mem_a", "mem_c"]), id)
  })

  it.effect("finishes a run that stopped after its last lesson, even when new episodes came in since", () =>
    Effect.gen(function* () {
      const prompts = yield* Ref.make<ReadonlyArray<string>>([])
      const model = yield* scriptedModel("A lesson.", prompts)
      yield* withMemory((memory) =>
        Effect.gen(function* () {
          const first = yield* episodes(memory, ["e0", "e1", "e2", "e3", "e4"])
          yield* TestClock.adjust("2 hours")
          // The third deletion fails: the lesson of e4 is written, e4 itself is still there.
          const deletions = yield* Ref.make(0)
          const failing = {
            ...memory,
            forget: (filter: Parameters<Memory.Service["forget"]>[0]) =>
              Ref.updateAndGet(deletions, (n) => n + 1).pipe(
                Effect.flatMap((n) =>
                  n === 3
                    ? Effect.fail(new MemoryError({ operation: "delete", message: "crash" }))
                    : memory.forget(filter)
                )
              )
          }
          const options: Memory.ConsolidateOptions = { namespace: "ops", olderThan: "1 hour", batchSize: 2 }
          const stopped = yield* Consolidation.consolidate(failing, options).pipe(
            Effect.provideService(LanguageModel.LanguageModel, model),
            Effect.flip
          )
          assert.strictEqual(stopped._tag, "MemoryError")
          assert.deepStrictEqual(
            (yield* memory.list({ kinds: ["episode"] })).map((e) => e.text),
            ["e4"]
          )
          // A new episode old enough to consolidate: grouped afresh, e4 would land in a second lesson.
          const late = yield* episodes(memory, ["e5"])
          yield* TestClock.adjust("2 hours")
          const lessons = yield* memory
            .consolidate(options)
            .pipe(Effect.provideService(LanguageModel.LanguageModel, model))
          assert.deepStrictEqual(
            lessons.map((l) => l.provenance),
            [[late[0]!.id]]
          )
          assert.strictEqual(yield* memory.count({ kinds: ["episode"] }), 0)
          assertEachSummarisedOnce(
            yield* memory.list({ kinds: ["lesson"] }),
            [...first, ...late].map((e) => e.id)
          )
          assert.strictEqual((yield* Ref.get(prompts)).length, 4)
        })
      )
    })
  )

  for (const crashAt of [1, 2]) {
    it.live(
      `a process killed between a lesson and its deletion (deletion ${crashAt}) leaves no duplicate after a rerun`,
      () =>
        Effect.gen(function* () {
          const dir = yield* tempDir
          const seeded = yield* useMemory(dir, (memory) => episodes(memory, ["e0", "e1", "e2", "e3", "e4"]))
          const ids = seeded.map((e) => e.id)
          const crashed = yield* runFixture("consolidator", [dir], {
            env: { TROUPE_TEST_CRASH_AT_FORGET: String(crashAt) }
          })
          assert.strictEqual(crashed.signal, "SIGKILL", crashed.stderr)
          assert.notInclude(crashed.lines, "done")
          const prompts = yield* Ref.make<ReadonlyArray<string>>([])
          const model = yield* scriptedModel("Rerun lesson.", prompts)
          yield* useMemory(dir, (memory) =>
            Effect.gen(function* () {
              // Killed after the lesson of batch `crashAt`, before its episodes were deleted.
              const lessonsBefore = yield* memory.list({ kinds: ["lesson"] })
              assert.strictEqual(lessonsBefore.length, crashAt)
              assert.strictEqual(yield* memory.count({ kinds: ["episode"] }), 5 - 2 * (crashAt - 1))
              const written = yield* memory
                .consolidate({ namespace: "ops", olderThan: 0, batchSize: 2 })
                .pipe(Effect.provideService(LanguageModel.LanguageModel, model))
              // Only the batches after the crash are summarised again.
              assert.strictEqual(written.length, 3 - crashAt)
              assert.strictEqual((yield* Ref.get(prompts)).length, 3 - crashAt)
              const lessons = yield* memory.list({ kinds: ["lesson"] })
              assert.strictEqual(lessons.length, 3)
              assert.deepStrictEqual(
                lessons.map((l) => [...l.provenance].sort()).sort(),
                [[ids[0]!, ids[1]!].sort(), [ids[2]!, ids[3]!].sort(), [ids[4]!]].sort()
              )
              assert.strictEqual(yield* memory.count({ kinds: ["episode"] }), 0)
            })
          )
        }),
      60_000
    )
  }
})
