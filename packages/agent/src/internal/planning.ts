/**
 * Planning: the plan as structured output, made before the first step (unless `planning.enabled` is false) and
 * revised, or made, whenever a reflection asks for it. Each plan is published (`AgentPlanMade`) and shown to the
 * model in the history.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as AgentError from "../AgentError.ts"
import * as Plan from "../Plan.ts"
import * as Prompting from "../Prompting.ts"
import { type RunContext, type RunState, withUserMessage } from "./runContext.ts"
import * as Structured from "./structured.ts"

/** Makes the plan, or with `reason` revises it (makes the first one when the spec left planning out). */
export const plan = (
  context: RunContext,
  state: RunState,
  reason?: string
): Effect.Effect<RunState, AgentError.ModelFailed | AgentError.OutputUnparsable> =>
  Effect.gen(function* () {
    const asked = yield* Structured.ask(
      context,
      state,
      "plan",
      Plan.Plan,
      Prompting.planRequest(reason, state.plan !== undefined)
    )
    const made = asked.value.goals.length === 0 ? Plan.single(context.goal) : asked.value
    const revision = state.planRevision + 1
    yield* context.emit({
      _tag: "AgentPlanMade",
      runId: context.runId,
      agent: context.spec.name,
      at: yield* Clock.currentTimeMillis,
      revision,
      plan: made,
      ...(reason === undefined ? {} : { reason })
    })
    return withUserMessage(
      {
        ...asked.state,
        plan: made,
        planRevision: revision,
        progress: Plan.finishedCount(made),
        progressStep: state.step
      },
      Prompting.plan(made)
    )
  })
