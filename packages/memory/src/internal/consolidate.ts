/**
 * Consolidation: old episodes of a namespace are summarised, batch by batch, into lessons by the `LanguageModel`;
 * each lesson's provenance names the episodes it was drawn from.
 */
import type * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { ConsolidateOptions, Service } from "../Memory.ts"
import { type DimensionMismatch, MemoryError } from "../MemoryError.ts"
import type { MemoryRecord } from "../MemoryRecord.ts"

/** The prompt asking for one lesson from a batch of episodes, oldest first with their timestamps. */
export const lessonPrompt = (batch: ReadonlyArray<MemoryRecord>): string =>
  [
    "Summarise these past episodes of an agent into one short, reusable lesson: what to do or avoid next time.",
    "Reply with the lesson only.",
    "",
    ...batch.map((e) => `- [${new Date(e.createdAt).toISOString()}] ${e.text}`)
  ].join("\n")

/**
 * Summarises the episodes older than `options.olderThan` into lessons through the memory's own operations, and
 * returns the lessons.
 *
 * Gotcha: an empty summary fails the run, leaving earlier batches consolidated and later ones untouched.
 */
export const consolidate = (
  memory: Pick<Service, "list" | "remember" | "forget">,
  options: ConsolidateOptions
): Effect.Effect<Array<MemoryRecord>, MemoryError | DimensionMismatch | AiError.AiError, LanguageModel.LanguageModel> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const cutoff = now - Duration.toMillis(options.olderThan)
    const episodes = yield* memory.list({ namespace: options.namespace, kinds: ["episode"], createdBefore: cutoff })
    const batchSize = Math.max(1, options.batchSize ?? 20)
    const lessons: Array<MemoryRecord> = []
    for (let start = 0; start < episodes.length; start += batchSize) {
      const batch = episodes.slice(start, start + batchSize)
      const response = yield* LanguageModel.generateText({ prompt: lessonPrompt(batch) })
      const summary = response.text.trim()
      if (summary.length === 0) {
        return yield* new MemoryError({ operation: "consolidate", message: "the model returned an empty summary" })
      }
      // The lesson is committed before the episodes are deleted: a crash in between leaves both, never neither.
      const lesson = yield* memory.remember({
        agent: options.agent ?? batch[0]!.agent,
        namespace: options.namespace,
        kind: "lesson",
        text: summary,
        importance: Math.max(...batch.map((e) => e.importance)),
        metadata: { consolidatedFrom: batch.length },
        provenance: batch.map((e) => e.id)
      })
      if (options.keepOriginals !== true) yield* memory.forget({ ids: batch.map((e) => e.id) })
      lessons.push(lesson)
    }
    return lessons
  })
