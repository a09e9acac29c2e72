/**
 * A goal decomposed: subtasks with the capabilities each needs and the subtasks it waits for, as the manager
 * produces them (structured output), checked before anything runs.
 *
 * A decomposition is accepted only whole: ids unique, dependencies naming subtasks of the same decomposition, no
 * cycle, at most {@link maxSubtasks}, and every subtask with a member able to do it. A model's answer is hostile
 * input like any other: the check bounds it and names what is wrong without echoing more than an id.
 *
 * @example
 * ```ts
 * import { Subtask } from "@troupe/orchestrator"
 *
 * const order = Subtask.order(decomposition) // ids, every subtask after the ones it depends on
 * ```
 */
import * as Schema from "effect/Schema"

/** One piece of the goal, for one member of the team. */
export const Subtask = Schema.Struct({
  id: Schema.String.annotate({ description: "A short unique id of lowercase letters, digits and dashes, e.g. api." }),
  title: Schema.String.annotate({ description: "What is to be achieved, in one line." }),
  task: Schema.String.annotate({ description: "The task as the agent receives it, with the context it needs." }),
  dependsOn: Schema.Array(Schema.String).annotate({ description: "Ids of subtasks that must be done first." }),
  capabilities: Schema.Array(Schema.String).annotate({
    description: "What the agent doing it must be able to do: tool names from the roster (fs_write, git_commit, ...)."
  }),
  agent: Schema.optionalKey(
    Schema.String.annotate({ description: "The member best suited, by name, when one clearly is." })
  )
}).annotate({ title: "Subtask" })

/** One piece of the goal. */
export type Subtask = typeof Subtask.Type

/** The goal as subtasks. */
export const Decomposition = Schema.Struct({
  subtasks: Schema.Array(Subtask).annotate({ description: "The subtasks, in a sensible order." })
}).annotate({
  title: "Decomposition",
  description: "A goal broken into subtasks, each for one agent of the team; independent subtasks run at once."
})

/** The goal as subtasks. */
export type Decomposition = typeof Decomposition.Type

/** The most subtasks one goal may become. */
export const maxSubtasks = 50

/** The longest task text a subtask may carry, in characters (about 5,000 words: a task, not a document). */
export const maxTaskLength = 32_000

const maxTitleLength = 500
const maxNames = 32

const idPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/

const quoted = (id: string): string => JSON.stringify(id.length <= 64 ? id : `${id.slice(0, 64)}…`)

/**
 * The problems of a decomposition, each one line; none when it can run. `capable(subtask)` says whether some member
 * can take the subtask.
 */
export const problems = (
  decomposition: Decomposition,
  capable: (subtask: Subtask) => boolean
): ReadonlyArray<string> => {
  const subtasks = decomposition.subtasks
  if (subtasks.length === 0) return ["no subtasks: the goal needs at least one"]
  if (subtasks.length > maxSubtasks) return [`${subtasks.length} subtasks: at most ${maxSubtasks}`]
  const out: Array<string> = []
  const ids = new Set<string>()
  for (const subtask of subtasks) {
    if (!idPattern.test(subtask.id))
      out.push(`subtask id ${quoted(subtask.id)} is not lowercase letters, digits, dashes`)
    if (ids.has(subtask.id)) out.push(`subtask id ${quoted(subtask.id)} is used twice`)
    ids.add(subtask.id)
    if (subtask.task.trim() === "") out.push(`subtask ${quoted(subtask.id)} has no task`)
    if (subtask.task.length > maxTaskLength || subtask.title.length > maxTitleLength) {
      out.push(
        `subtask ${quoted(subtask.id)} is too long (task at most ${maxTaskLength} characters, title ${maxTitleLength})`
      )
    }
    if (subtask.dependsOn.length > maxSubtasks || subtask.capabilities.length > maxNames) {
      out.push(`subtask ${quoted(subtask.id)} lists too many dependencies or capabilities`)
    }
  }
  for (const subtask of subtasks) {
    for (const dependency of subtask.dependsOn) {
      if (!ids.has(dependency)) {
        out.push(`subtask ${quoted(subtask.id)} depends on ${quoted(dependency)}, which is not a subtask`)
      }
    }
    if (!capable(subtask)) {
      out.push(
        `no member of the team can do subtask ${quoted(subtask.id)} (it needs ${subtask.capabilities.map(quoted).join(", ")})`
      )
    }
  }
  if (out.length === 0 && order(decomposition) === undefined) out.push("the subtasks' dependencies form a cycle")
  return out
}

/** The subtask ids with every subtask after those it depends on; `undefined` when the dependencies form a cycle. */
export const order = (decomposition: Decomposition): ReadonlyArray<string> | undefined => {
  const waiting = new Map(decomposition.subtasks.map((s) => [s.id, new Set(s.dependsOn)]))
  const out: Array<string> = []
  while (waiting.size > 0) {
    const ready = [...waiting].filter(([, deps]) => [...deps].every((d) => !waiting.has(d))).map(([id]) => id)
    if (ready.length === 0) return undefined
    for (const id of ready) {
      waiting.delete(id)
      out.push(id)
    }
  }
  return out
}
