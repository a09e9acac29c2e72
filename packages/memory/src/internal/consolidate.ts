/**
 * Consolidation: old episodes of a namespace are summarised, batch by batch, into lessons by the `LanguageModel`;
 * each lesson's provenance names the episodes it was drawn from.
 *
 * A batch is two commits, the lesson and then the deletion of its episodes, and a crash can fall between them. A run
 * therefore starts by finishing what an earlier one left: episodes named in the provenance of a consolidated lesson
 * of the namespace are not summarised again, only deleted. The lesson's id is derived from its episodes' ids, so
 * that a lesson written twice (a retried or concurrent run over the same batch) is stored once.
 */
import { createHash } from "node:crypto"
import type * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { ConsolidateOptions, Service } from "../Memory.ts"
import { type DimensionMismatch, type InvalidMemory, MemoryError } from "../MemoryError.ts"
import type { MemoryRecord } from "../MemoryRecord.ts"

/** The prompt asking for one lesson from a batch of episodes, oldest first with their timestamps. */
export const lessonPrompt = (batch: ReadonlyArray<MemoryRecord>): string =>
  [
    "Summarise these past episodes of an agent into one short, reusable lesson: what to do or avoid next time.",
    "Reply with the lesson only.",
    "",
    ...batch.map((e) => `- [${new Date(e.createdAt).toISOString()}] ${e.text}`)
  ].join("\n")

/** The id of the lesson consolidated from episodes: the same for the same episodes, in any order. */
export const lessonId = (episodeIds: ReadonlyArray<string>): string =>
  `lesson_${createHash("sha256")
    .update([...episodeIds].sort().join("\n"))
    .digest("hex")
    .slice(0, 32)}`

/** The metadata key marking a lesson written by consolidation; its value is the number of episodes. */
export const consolidatedFrom = "consolidatedFrom"

/**
 * Summarises the episodes older than `options.olderThan` into lessons through the memory's own operations, and
 * returns the lessons it wrote.
 *
 * Gotcha: an empty summary fails the run, leaving earlier batches consolidated and later ones untouched.
 */
export const consolidate = (
  memory: Pick<Service, "list" | "remember" | "forget">,
  options: ConsolidateOptions
): Effect.Effect<
  Array<MemoryRecord>,
  MemoryError | DimensionMismatch | InvalidMemory | AiError.AiError,
  LanguageModel.LanguageModel
> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const cutoff = now - Duration.toMillis(options.olderThan)
    const keep = options.keepOriginals === true
    const episodes = yield* memory.list({ namespace: options.namespace, kinds: ["episode"], createdBefore: cutoff })
    const lessons = yield* memory.list({ namespace: options.namespace, kinds: ["lesson"] })
    const summarised = new Set(lessons.filter((l) => consolidatedFrom in l.metadata).flatMap((l) => l.provenance))
    const finished = episodes.filter((e) => summarised.has(e.id)).map((e) => e.id)
    if (!keep && finished.length > 0) yield* memory.forget({ ids: finished })
    const pending = episodes.filter((e) => !summarised.has(e.id))

    const batchSize = Math.max(1, options.batchSize ?? 20)
    const written: Array<MemoryRecord> = []
    for (let start = 0; start < pending.length; start += batchSize) {
      const batch = pending.slice(start, start + batchSize)
      const ids = batch.map((e) => e.id)
      const response = yield* LanguageModel.generateText({ prompt: lessonPrompt(batch) })
      const summary = response.text.trim()
      if (summary.length === 0) {
        return yield* new MemoryError({ operation: "consolidate", message: "the model returned an empty summary" })
      }
      // The lesson is committed before the episodes are deleted: a crash in between leaves both, never neither.
      const lesson = yield* memory.remember({
        id: lessonId(ids),
        agent: options.agent ?? batch[0]!.agent,
        namespace: options.namespace,
        kind: "lesson",
        text: summary,
        importance: Math.max(...batch.map((e) => e.importance)),
        metadata: { [consolidatedFrom]: batch.length },
        provenance: ids
      })
      if (!keep) yield* memory.forget({ ids })
      written.push(lesson)
    }
    return written
  })
