/**
 * An agent's plan: goals, each with subgoals, a status, dependencies and an acceptance note, produced by the model
 * as structured output and revised at any reflection.
 *
 * Two levels (goals and their subgoals) rather than a recursive tree: providers' structured-output modes handle a
 * fixed-depth schema everywhere, and a recursive one only on some.
 *
 * @example
 * ```ts
 * import { Plan } from "@troupe/agent"
 *
 * const plan = Plan.withProgress(current, [{ id: "tests", status: "done" }])
 * Plan.isComplete(plan) // true when every goal is done or skipped
 * ```
 */
import * as Schema from "effect/Schema"

/** Where a goal stands. */
export const Status = Schema.Literals(["pending", "in-progress", "done", "failed", "skipped"]).annotate({
  description: "pending: not started; in-progress: being worked on; done; failed; skipped: no longer needed."
})

/** Where a goal stands. */
export type Status = typeof Status.Type

const goalFields = {
  id: Schema.String.annotate({ description: "A short unique id, e.g. write-tests." }),
  title: Schema.String.annotate({ description: "What is to be achieved, in one line." }),
  status: Status,
  dependsOn: Schema.Array(Schema.String).annotate({ description: "Ids of goals that must be done first." }),
  acceptance: Schema.String.annotate({ description: "How to tell that it is achieved." })
}

/** A subgoal: a step towards its goal. */
export const Subgoal = Schema.Struct(goalFields)

/** A subgoal. */
export type Subgoal = typeof Subgoal.Type

/** A goal with its subgoals. */
export const Goal = Schema.Struct({ ...goalFields, subgoals: Schema.Array(Subgoal) })

/** A goal with its subgoals. */
export type Goal = typeof Goal.Type

/** A plan: the goals in the order they are meant to be pursued. */
export const Plan = Schema.Struct({ goals: Schema.Array(Goal) }).annotate({
  title: "Plan",
  description: "The goals and subgoals that achieve the task, in order."
})

/** A plan. */
export type Plan = typeof Plan.Type

/** A change of status the model reports for a goal or subgoal (by id). */
export const Progress = Schema.Struct({ id: Schema.String, status: Status })

/** A change of status for a goal or subgoal. */
export type Progress = typeof Progress.Type

/** A plan of one goal: the task itself, for runs that cannot or need not plan. */
export const single = (task: string): Plan => ({
  goals: [{ id: "task", title: task, status: "pending", dependsOn: [], acceptance: "The task is done.", subgoals: [] }]
})

/**
 * The plan with `progress` applied; unknown ids are ignored. A goal whose subgoals are all done or skipped is done.
 */
export const withProgress = (plan: Plan, progress: ReadonlyArray<Progress>): Plan => {
  if (progress.length === 0) return plan
  const statusOf = new Map(progress.map((p) => [p.id, p.status]))
  return {
    goals: plan.goals.map((goal) => {
      const subgoals = goal.subgoals.map((s) => {
        const status = statusOf.get(s.id)
        return status === undefined ? s : { ...s, status }
      })
      const finished = subgoals.length > 0 && subgoals.every((s) => s.status === "done" || s.status === "skipped")
      const status = statusOf.get(goal.id) ?? (finished ? "done" : goal.status)
      return { ...goal, status, subgoals }
    })
  }
}

/** Every goal and subgoal, flattened, goals before their subgoals. */
export const entries = (plan: Plan): ReadonlyArray<Subgoal> =>
  plan.goals.flatMap((goal) => [goal as Subgoal, ...goal.subgoals])

/** How many goals and subgoals are done or skipped: the measure of progress loop detection watches. */
export const finishedCount = (plan: Plan): number =>
  entries(plan).filter((e) => e.status === "done" || e.status === "skipped").length

/** `true` when every goal is done or skipped. */
export const isComplete = (plan: Plan): boolean =>
  plan.goals.length > 0 && plan.goals.every((g) => g.status === "done" || g.status === "skipped")

/** The plan as lines for a prompt or a terminal: `[status] id: title`, subgoals indented. */
export const render = (plan: Plan): string =>
  plan.goals
    .flatMap((goal) => [
      `[${goal.status}] ${goal.id}: ${goal.title}${goal.dependsOn.length > 0 ? ` (after ${goal.dependsOn.join(", ")})` : ""}`,
      ...goal.subgoals.map((s) => `  [${s.status}] ${s.id}: ${s.title}`)
    ])
    .join("\n")
