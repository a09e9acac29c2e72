/**
 * A scripted `Human` for tests: answers from a list, in order, and records the questions.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Human from "../Human.ts"
import { HumanUnavailable } from "../ToolError.ts"

/** A scripted person: the questions asked so far, and the service. */
export interface TestHuman {
  readonly questions: ReadonlyArray<string>
  readonly service: Human.Service
}

/**
 * A person who answers `answers` in order (a function answers every question), and is unavailable once the list
 * is used up.
 */
export const make = (answers: ReadonlyArray<string> | ((question: string) => string)): TestHuman => {
  const questions: Array<string> = []
  const service = Human.Human.of({
    ask: (question) =>
      Effect.suspend(() => {
        questions.push(question)
        if (typeof answers === "function") return Effect.succeed(answers(question))
        const answer = answers[questions.length - 1]
        return answer === undefined
          ? Effect.fail(new HumanUnavailable({ reason: "no scripted answer left" }))
          : Effect.succeed(answer)
      })
  })
  return { questions, service }
}

/** A `Human` that answers `answers` in order (see {@link make}). */
export const layer = (answers: ReadonlyArray<string> | ((question: string) => string)): Layer.Layer<Human.Human> =>
  Layer.succeed(Human.Human, make(answers).service)

/** A `Human` nobody answers for. */
export const unavailable: Layer.Layer<Human.Human> = Layer.succeed(
  Human.Human,
  Human.Human.of({ ask: () => Effect.fail(new HumanUnavailable({ reason: "nobody is there" })) })
)
