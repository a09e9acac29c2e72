/**
 * Reflecting: after a step (every step, or every few, and always after a failure and, unless the spec says not,
 * an answer), the model judges it as structured output. The plan's progress is applied, a lesson is remembered,
 * and the outcome is returned for the run to act on.
 */
import * as AgentSpec from "@troupe/agent-spec/AgentSpec"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as AgentError from "../AgentError.ts"
import * as Plan from "../Plan.ts"
import * as Prompting from "../Prompting.ts"
import * as Reflection from "../Reflection.ts"
import type { Turn } from "./acting.ts"
import type { RunContext, RunState } from "./runContext.ts"
import * as Structured from "./structured.ts"

/** Whether the step just taken calls for a reflection: a failure, an answer (unless the spec says not), or the cadence. */
export const due = (context: RunContext, state: RunState, turn: Turn): boolean => {
  const { everySteps, beforeAnswer } = context.spec.reflection
  return turn.failures > 0 || (turn.answered && beforeAnswer) || (everySteps > 0 && state.step % everySteps === 0)
}

/** Reflects on the last step; returns the reflection and the state with the plan's progress applied. */
export const reflect = (
  context: RunContext,
  state: RunState,
  turn: Turn
): Effect.Effect<
  { readonly reflection: Reflection.Reflection; readonly state: RunState },
  AgentError.ModelFailed | AgentError.OutputUnparsable
> =>
  Effect.gen(function* () {
    const asked = yield* Structured.ask(
      context,
      state,
      "reflect",
      Reflection.Reflection,
      Prompting.reflectionRequest(state.step, turn.failures, turn.answered)
    )
    const reflection = asked.value
    yield* context.emit({
      _tag: "AgentReflected",
      runId: context.runId,
      agent: context.spec.name,
      at: yield* Clock.currentTimeMillis,
      step: state.step,
      outcome: reflection.outcome,
      reasoning: reflection.reasoning,
      ...(reflection.lesson === undefined ? {} : { lesson: reflection.lesson })
    })
    if (reflection.lesson !== undefined && context.memory !== undefined && context.spec.memory.enabled) {
      const remembered = context.memory
        .remember({
          agent: context.spec.name,
          namespace: AgentSpec.memoryNamespace(context.spec),
          kind: "lesson",
          text: reflection.lesson,
          importance: 0.7,
          metadata: { runId: context.runId, step: state.step }
        })
        .pipe(
          Effect.asVoid,
          Effect.catch((error) => Effect.logWarning(`memory: the lesson was not stored: ${error.message}`))
        )
      yield* context.durable === undefined ? remembered : context.durable.step(`lesson/${state.step}`, remembered)
    }
    const plan = state.plan === undefined ? undefined : Plan.withProgress(state.plan, reflection.progress)
    const progress = plan === undefined ? state.progress : Plan.finishedCount(plan)
    return {
      reflection,
      state: {
        ...asked.state,
        plan,
        ...(progress > state.progress ? { progress, progressStep: state.step } : {})
      }
    }
  })
