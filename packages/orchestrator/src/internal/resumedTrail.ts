/**
 * The trail of a resumed orchestration: the replay emits again the events of every step answered from the journal,
 * and those already in the trail are not written again. Subtasks run at once, so a replay does not emit them in the
 * order they were written: an event is matched by what it is about (its type, subtask, attempt, run and limit), not
 * by its place.
 */
import type { AuditEntry, AuditLog } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as OrchestratorEvent from "../OrchestratorEvent.ts"

const keyOf = (type: string, data: unknown): string => {
  const fields = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>
  return [type, fields.subtaskId, fields.attempt, fields.runId, fields.limit]
    .map((value) => (value === undefined ? "" : String(value)))
    .join("\u0000")
}

/** The orchestrator's entries of the trail `orchestrationId` (none when it has no trail yet). */
export const recorded = (
  audit: AuditLog.Service,
  orchestrationId: string
): Effect.Effect<ReadonlyArray<AuditEntry.AuditEntry>> =>
  audit.read(orchestrationId).pipe(
    Stream.filter((entry) => entry.type.startsWith("Orchestration")),
    Stream.runCollect,
    Effect.orElseSucceed((): ReadonlyArray<AuditEntry.AuditEntry> => [])
  )

/** Whether the trail records the orchestration's end. */
export const ended = (entries: ReadonlyArray<AuditEntry.AuditEntry>): boolean =>
  entries.some((entry) => entry.type === "OrchestrationEnded")

/**
 * `write` for a resumed orchestration: an event already in `existing` is neither written nor published again (each
 * entry matches once); every other event goes to `write`.
 */
export const skipRecorded = (
  existing: ReadonlyArray<AuditEntry.AuditEntry>,
  write: (event: OrchestratorEvent.OrchestratorEvent) => Effect.Effect<void>
): ((event: OrchestratorEvent.OrchestratorEvent) => Effect.Effect<void>) => {
  const left = new Map<string, number>()
  for (const entry of existing) {
    const key = keyOf(entry.type, entry.data)
    left.set(key, (left.get(key) ?? 0) + 1)
  }
  return (event) =>
    Effect.suspend(() => {
      const key = keyOf(event._tag, event)
      const count = left.get(key) ?? 0
      if (count === 0) return write(event)
      left.set(key, count - 1)
      return Effect.void
    })
}
