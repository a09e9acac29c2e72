/**
 * Recall: before planning, the memories most relevant to the task, from the agent's namespace and the team's, go
 * into the context, marked as recalled. A memory failure does not fail the run: the run goes on without them.
 */
import { AgentSpec } from "@troupe/agent-spec"
import { MemoryRecord } from "@troupe/memory"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Prompting from "../Prompting.ts"
import { type RunContext, type RunState, withUserMessage } from "./runContext.ts"

/** Adds the recalled memories to the history (nothing when memory is off or finds nothing). */
export const recall = (context: RunContext, state: RunState): Effect.Effect<RunState> => {
  const memory = context.memory
  const settings = context.spec.memory
  if (memory === undefined || !settings.enabled || settings.recall === 0) return Effect.succeed(state)
  return memory
    .recall(context.goal, {
      k: settings.recall,
      namespace: [AgentSpec.memoryNamespace(context.spec), MemoryRecord.teamNamespace]
    })
    .pipe(
      Effect.map((found) =>
        found.filter((r) => settings.minScore === undefined || r.scores.total >= settings.minScore)
      ),
      Effect.tap((found) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          context.emit({
            _tag: "AgentMemoryRecalled",
            runId: context.runId,
            agent: context.spec.name,
            at,
            ids: found.map((r) => r.record.id)
          })
        )
      ),
      Effect.map((found) => {
        const text = Prompting.recalled(found.map((r) => r.record))
        return text === undefined ? state : withUserMessage(state, text)
      }),
      Effect.catch((error) => Effect.as(Effect.logWarning(`memory recall failed: ${error.message}`), state))
    )
}
