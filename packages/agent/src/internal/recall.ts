/**
 * Recall: before planning, the memories most relevant to the task, from the agent's namespace and the team's, go
 * into the context, marked as recalled. A memory failure does not fail the run: the run goes on without them.
 */
import * as AgentSpec from "@troupe/agent-spec/AgentSpec"
// The records module alone: the barrel would load LanceDB and Arrow for agents without memory.
import * as MemoryRecord from "@troupe/memory/MemoryRecord"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Prompting from "../Prompting.ts"
import { type RunContext, type RunState, withUserMessage } from "./runContext.ts"

/** Whether the run recalls anything: memory is there, enabled, and asked for at least one record. */
export const enabled = (context: RunContext): boolean =>
  context.memory !== undefined && context.spec.memory.enabled && context.spec.memory.recall !== 0

/** Adds the recalled memories to the history (nothing when memory is off or finds nothing). */
export const recall = (context: RunContext, state: RunState): Effect.Effect<RunState> => {
  const memory = context.memory
  const settings = context.spec.memory
  if (memory === undefined || !enabled(context)) return Effect.succeed(state)
  // What was recalled, as plain values: a durable run journals it, so a resumed run sees the same memories.
  const recalled = memory
    .recall(context.goal, {
      k: settings.recall,
      namespace: [AgentSpec.memoryNamespace(context.spec), MemoryRecord.teamNamespace]
    })
    .pipe(
      Effect.map((found) => {
        const kept = found.filter((r) => settings.minScore === undefined || r.scores.total >= settings.minScore)
        return { ids: kept.map((r) => r.record.id), text: Prompting.recalled(kept.map((r) => r.record)) }
      }),
      Effect.catch((error) => Effect.as(Effect.logWarning(`memory recall failed: ${error.message}`), undefined))
    )
  return Effect.gen(function* () {
    const found = yield* context.durable === undefined ? recalled : context.durable.step("recall", recalled)
    if (found === undefined || found === null) return state
    yield* context.emit({
      _tag: "AgentMemoryRecalled",
      runId: context.runId,
      agent: context.spec.name,
      at: yield* Clock.currentTimeMillis,
      ids: found.ids
    })
    return found.text === undefined || found.text === null ? state : withUserMessage(state, found.text)
  })
}
