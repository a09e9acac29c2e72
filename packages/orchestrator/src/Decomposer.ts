/**
 * Turns a goal into subtasks: the team's manager, asked for a `Decomposition` as structured output with its own
 * system prompt (persona, instructions, constraints), the team's roster and what the team's memory holds about the
 * goal. A team without a manager is planned by its first member's model with a planner's prompt.
 *
 * The answer is checked whole (`Subtask.problems`); an answer that does not parse or does not check is asked for
 * once more with what was wrong, and after that the decomposition fails: a plan that cannot run is never run.
 */
import { Prompting, type Spend } from "@troupe/agent"
import type { AgentSpec } from "@troupe/agent-spec"
import { Mixture } from "@troupe/providers"
import type * as AiError from "effect/ai/AiError"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Capabilities from "./Capabilities.ts"
import * as Subtask from "./Subtask.ts"

/** The decomposition could not be had: the model failed, or its answers did not parse or check. */
export class Undecomposable extends Schema.TaggedError<Undecomposable>()("Undecomposable", {
  reason: Schema.String
}) {}

/** What `decompose` needs. */
export interface Input {
  readonly goal: string
  readonly team: string
  readonly members: ReadonlyArray<AgentSpec.AgentSpec>
  /** The manager's spec, for its system prompt; the planner's prompt when absent. */
  readonly manager: AgentSpec.AgentSpec | undefined
  readonly model: LanguageModel.LanguageModel
  /** Memories recalled for the goal, already rendered as context (`Prompting.recalled`). */
  readonly recalled?: string | undefined
}

/** A checked decomposition and every charge the calls for it billed. */
export interface Outcome {
  readonly decomposition: Subtask.Decomposition
  readonly charges: ReadonlyArray<Spend.Charge>
}

/** Attempts at one usable decomposition. */
export const attempts = 2

// The failures that mean "the answer did not parse", as opposed to the provider failing.
const unparsable = new Set(["StructuredOutputError", "InvalidOutputError", "UnsupportedSchemaError"])

const plannerSystem = (team: string) =>
  `You are the planner of team ${team}. You turn a goal into the fewest subtasks that each produce something checkable, for the members of the team to do.`

/** The request the manager receives. */
export const request = (goal: string, members: ReadonlyArray<AgentSpec.AgentSpec>): string =>
  [
    `Goal: ${goal}`,
    "",
    "The team (each member can do what its capabilities say):",
    Capabilities.roster(members),
    "",
    "Break the goal into subtasks for these members. For each: a short unique id (lowercase, digits, dashes), a title, the task as the member will receive it with the context it needs, the capabilities it needs (from the roster), the ids of the subtasks it must wait for in dependsOn, and the member best suited in agent. Subtasks that do not depend on each other run at the same time; a subtask receives the results of those it depends on."
  ].join("\n")

const chargesOf = (response: LanguageModel.GenerateTextResponse<any, any>): ReadonlyArray<Spend.Charge> => {
  const decision = Mixture.decisionOf(response)
  if (decision?.charges !== undefined) {
    return decision.charges.map((c) => ({
      provider: c.provider,
      inputTokens: c.inputTokens,
      outputTokens: c.outputTokens,
      costUsd: c.costUsd,
      estimated: c.estimated
    }))
  }
  return [
    {
      provider: "unknown",
      inputTokens: response.usage.inputTokens.total ?? 0,
      outputTokens: response.usage.outputTokens.total ?? 0,
      costUsd: undefined
    }
  ]
}

// The decomposition's schema is fixed, but `LanguageModel`'s inferred option types are not worth their weight here.
interface ObjectModel {
  readonly generateObject: (options: {
    readonly prompt: Prompt.Prompt
    readonly schema: typeof Subtask.Decomposition
    readonly objectName: string
  }) => Effect.Effect<LanguageModel.GenerateObjectResponse<any, Subtask.Decomposition>, AiError.AiError>
}

/** Asks for a decomposition of the goal and checks it. */
export const decompose = (input: Input): Effect.Effect<Outcome, Undecomposable> =>
  Effect.gen(function* () {
    const model = input.model as unknown as ObjectModel
    const system = input.manager === undefined ? plannerSystem(input.team) : Prompting.system(input.manager)
    const capable = (subtask: Subtask.Subtask) =>
      Capabilities.candidates(input.members, subtask.capabilities, subtask.agent).length > 0
    const charges: Array<Spend.Charge> = []
    let note: string | undefined
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const asked =
        input.recalled === undefined
          ? request(input.goal, input.members)
          : `${request(input.goal, input.members)}\n\n${input.recalled}`
      const text = note === undefined ? asked : `${asked}\n\nYour previous answer could not be used: ${note}`
      const outcome = yield* Effect.result(
        model.generateObject({
          prompt: Prompt.setSystem(Prompt.make([{ role: "user", content: text }]), system),
          schema: Subtask.Decomposition,
          objectName: "decomposition"
        })
      )
      if (outcome._tag === "Failure") {
        const reason = outcome.failure.reason
        if (!unparsable.has(reason._tag)) {
          return yield* new Undecomposable({ reason: `the model failed: ${reason.message}` })
        }
        note = reason.message
        continue
      }
      charges.push(...chargesOf(outcome.success))
      const decomposition = outcome.success.value
      const problems = Subtask.problems(decomposition, capable)
      if (problems.length === 0) return { decomposition, charges }
      note = problems.slice(0, 10).join("; ")
    }
    return yield* new Undecomposable({ reason: `no usable decomposition after ${attempts} attempts: ${note ?? ""}` })
  })
