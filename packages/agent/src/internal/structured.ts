/**
 * Structured output for the run's side questions (the plan, a reflection): asked with the history as context,
 * parsed with its Schema, asked once more when the answer does not parse, and `OutputUnparsable` after that —
 * an unparsable answer is never taken for any particular value.
 */

import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import * as AgentError from "../AgentError.ts"
import * as ModelCall from "./modelCall.ts"
import { partialOf, promptOf, type RunContext, type RunState, withUserMessage } from "./runContext.ts"

/** Attempts at one structured answer before the run fails. */
export const attempts = 2

// The failures that mean "the answer did not parse", as opposed to the provider failing.
const unparsable = new Set(["StructuredOutputError", "InvalidOutputError", "UnsupportedSchemaError"])

/** Asks for a value of `schema`; the history itself is left as it was. */
export const ask = <A>(
  context: RunContext,
  state: RunState,
  purpose: "plan" | "reflect",
  schema: Schema.Codec<A, any>,
  request: string
): Effect.Effect<
  { readonly value: A; readonly state: RunState },
  AgentError.ModelFailed | AgentError.OutputUnparsable
> =>
  Effect.gen(function* () {
    let note: string | undefined
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const question = note === undefined ? request : `${request}\n\nYour previous answer could not be used: ${note}`
      const outcome = yield* Effect.result(
        ModelCall.run(
          context,
          state,
          purpose,
          ModelCall.loose(context.model).generateObject({
            prompt: promptOf(context, withUserMessage(state, question)),
            schema,
            objectName: purpose === "plan" ? "plan" : "reflection"
          })
        )
      )
      if (outcome._tag === "Success") return { value: outcome.success.response.value, state: outcome.success.state }
      const failure = outcome.failure
      if (!unparsable.has(failure.reason)) return yield* failure
      note = failure.description
    }
    return yield* new AgentError.OutputUnparsable({
      purpose,
      attempts,
      description: note ?? "no answer",
      partial: partialOf(context.runId, state)
    })
  })
