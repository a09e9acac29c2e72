/**
 * Questions an agent asks a person (`ask_human`): the run waits until an `Answer { questionId, text }` arrives.
 * The inbox is the agent's `Human` service for the tools; like approvals, answers come only from outside the run.
 */
import * as Human from "@troupe/tools/Human"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type * as AgentEvent from "./AgentEvent.ts"

/** A question waiting for its answer. */
export interface Pending {
  readonly questionId: string
  readonly question: string
}

/** The questions of one agent. */
export interface Inbox {
  /** The `ask_human` service: publishes the question and waits for its answer. */
  readonly human: Human.Service
  /** Answers a waiting question; `false` when no such question waits. */
  readonly answer: (questionId: string, text: string) => Effect.Effect<boolean>
  /** The questions waiting. */
  readonly pending: Effect.Effect<ReadonlyArray<Pending>>
}

/**
 * An inbox whose questions are published through `emit`, for the run `current()` names (questions are only asked
 * while a run is in progress).
 */
export const make = (options: {
  readonly agent: string
  readonly current: () => string | undefined
  readonly emit: (event: AgentEvent.AgentEvent) => Effect.Effect<void>
}): Inbox => {
  const waiting = new Map<string, { readonly pending: Pending; readonly answer: Deferred.Deferred<string> }>()
  return {
    human: {
      ask: (question) =>
        Effect.gen(function* () {
          const runId = options.current() ?? "none"
          const questionId = `q-${(yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)}`
          const answer = Deferred.makeUnsafe<string>()
          waiting.set(questionId, { pending: { questionId, question }, answer })
          const base = { runId, agent: options.agent }
          yield* options.emit({
            _tag: "AgentQuestionAsked",
            ...base,
            at: yield* Clock.currentTimeMillis,
            questionId,
            question
          })
          const text = yield* Deferred.await(answer).pipe(
            Effect.ensuring(Effect.sync(() => waiting.delete(questionId)))
          )
          yield* options.emit({
            _tag: "AgentQuestionAnswered",
            ...base,
            at: yield* Clock.currentTimeMillis,
            questionId,
            text
          })
          return text
        })
    },
    answer: (questionId, text) =>
      Effect.suspend(() => {
        const entry = waiting.get(questionId)
        return entry === undefined ? Effect.succeed(false) : Deferred.succeed(entry.answer, text)
      }),
    pending: Effect.sync(() => [...waiting.values()].map((w) => w.pending))
  }
}

/** The inbox as the tools' `Human` layer. */
export const layer = (inbox: Inbox) => Human.layer(inbox.human.ask)
