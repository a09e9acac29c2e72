/**
 * The agent's judgement of its own last step, as structured output: what to do next, why, what changed in the plan,
 * and a lesson worth remembering.
 *
 * A reflection decides the run's next state: `continue` acts again, `retry` repeats the failed step with the
 * reasoning as guidance, `replan` revises the plan, `done` ends the run with its answer, `give-up` ends it failed.
 * A reflection that cannot be parsed is asked for again, then fails the run: it is never taken for success.
 */
import * as Schema from "effect/Schema"
import * as Plan from "./Plan.ts"

/** What the agent decided to do next. */
export const Outcome = Schema.Literals(["continue", "retry", "replan", "done", "give-up"]).annotate({
  description:
    "continue: take the next step; retry: repeat the last step differently; replan: the plan is wrong, revise it; done: the task is complete; give-up: it cannot be completed."
})

/** What the agent decided to do next. */
export type Outcome = typeof Outcome.Type

/** A reflection. */
export const Reflection = Schema.Struct({
  outcome: Outcome,
  reasoning: Schema.String.annotate({ description: "Why, in two or three sentences." }),
  progress: Schema.Array(Plan.Progress).annotate({
    description: "Goals and subgoals whose status changed with the last step, by id."
  }),
  lesson: Schema.optionalKey(
    Schema.String.annotate({ description: "A rule worth remembering for future tasks, if the step taught one." })
  ),
  answer: Schema.optionalKey(
    Schema.String.annotate({ description: "With done: the final answer or summary of the result for the user." })
  )
}).annotate({ title: "Reflection", description: "A judgement of the last step and the decision that follows." })

/** A reflection. */
export type Reflection = typeof Reflection.Type
