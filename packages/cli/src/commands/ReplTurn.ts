/**
 * One turn of an interactive session: a run of the agent towards the person's line, shown as it happens.
 *
 * At a terminal the model's text is printed as it is generated (`StepText` over the agents' `TextDeltas`), and not
 * again when the step ends; elsewhere (a pipe, a file) each step's text is printed as one line when the step returns,
 * which keeps transcripts and scripts line-based (and nobody listening, each step asks for its whole turn at once).
 * Tool calls and approval requests are printed as they are made, and the plan when it is made. Questions (allow this call? go ahead with this plan? the agent's own `ask_human`) are asked one at a time
 * from a queue, so that the events keep flowing while a person thinks. Ctrl-C during the turn cancels the run: the
 * step in progress is interrupted and the run ends as cancelled; the session goes on.
 */
import { type Agent, type AgentEvent, AgentEvents, type Spend, TextDeltas } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as StepText from "../StepText.ts"
import * as ReplCost from "./ReplCost.ts"
import type * as ReplInput from "./ReplInput.ts"
import * as ReplPlanGate from "./ReplPlanGate.ts"
import * as ReplView from "./ReplView.ts"

/** How a turn ended. */
export interface Outcome {
  readonly status: AgentEvent.RunStatus | "crashed"
  readonly runId: string | undefined
  readonly answer: string | undefined
  /** What the run spent, when it got as far as starting. */
  readonly spend: Spend.Spend | undefined
}

/** What a turn runs with. */
export interface Context {
  readonly agent: Agent.Agent
  readonly input: ReplInput.Input
  readonly gate: ReplPlanGate.PlanGate
  /** Who decides approvals, as the audit trail records it. */
  readonly person: string
  /** Prints one line for a person (sanitised). */
  readonly say: (text: string) => Effect.Effect<void>
  /** Writes raw text (already made safe): present at a terminal, where the model's text streams. */
  readonly write?: ((text: string) => void) | undefined
}

type Question =
  | { readonly _tag: "Approval"; readonly event: AgentEvent.AgentEvent & { readonly _tag: "AgentApprovalRequested" } }
  | { readonly _tag: "Plan" }
  | { readonly _tag: "Ask"; readonly questionId: string; readonly question: string }

// A question and its answer; without a terminal the question is printed with the line read as its answer, so that
// a transcript shows both.
const ask = (context: Context, question: string) =>
  Effect.gen(function* () {
    const answer = yield* context.input.line(question)
    if (!context.input.terminal) yield* context.say(`${question}${answer ?? "(no answer: the input ended)"}`)
    return answer
  })

const answerOne = (context: Context, question: Question): Effect.Effect<void> => {
  const { agent, person } = context
  switch (question._tag) {
    case "Approval":
      return Effect.flatMap(ask(context, ReplView.approvalQuestion(question.event)), (answer) =>
        ReplView.isYes(answer)
          ? agent.approve(question.event.approvalId, person)
          : agent.deny(
              question.event.approvalId,
              person,
              answer === undefined ? "no answer: the input ended" : "denied at the prompt"
            )
      )
    case "Plan":
      return Effect.flatMap(ask(context, ReplView.planQuestion), (answer) => {
        const approved = ReplView.isNotNo(answer)
        return Effect.andThen(
          ReplPlanGate.decide(context.gate, approved),
          approved ? Effect.void : Effect.andThen(context.say("plan declined: cancelling the run"), agent.cancel)
        )
      })
    case "Ask":
      return Effect.flatMap(ask(context, `${question.question}\n> `), (answer) =>
        agent.answer(question.questionId, answer ?? "")
      )
  }
}

/** Runs one turn towards `goal`. */
export const run = (outer: Context, goal: string): Effect.Effect<Outcome, never, AgentEvents.AgentEvents> =>
  Effect.scoped(
    Effect.gen(function* () {
      const hub = yield* AgentEvents.AgentEvents
      // Subscribed before the run is asked for, so that no event of it is missed.
      const subscription = yield* hub.subscribe
      const deltas = yield* Effect.serviceOption(TextDeltas.TextDeltas)
      const write = outer.write
      const printer =
        write === undefined || Option.isNone(deltas)
          ? undefined
          : yield* StepText.make({ agent: outer.agent.name, write }).pipe(
              Effect.provideService(TextDeltas.TextDeltas, deltas.value)
            )
      // Every line of the turn starts on a line of its own, after any streamed text.
      const context: Context =
        printer === undefined ? outer : { ...outer, say: (text) => Effect.andThen(printer.closeLine, outer.say(text)) }
      const { agent, say } = context
      const questions = yield* Queue.unbounded<Question>()
      let lastText = ""
      let ended: (AgentEvent.AgentEvent & { readonly _tag: "AgentRunEnded" }) | undefined

      const asker = yield* Effect.forkChild(
        Effect.gen(function* () {
          while (true) yield* answerOne(context, yield* Queue.take(questions))
        })
      )
      const canceller = yield* Effect.forkChild(
        Effect.gen(function* () {
          while (true) {
            yield* context.input.interrupt
            yield* say("cancelling the step in progress…")
            yield* agent.cancel
          }
        })
      )
      const show = (event: AgentEvent.AgentEvent): Effect.Effect<void> => {
        switch (event._tag) {
          case "AgentModelCalled": {
            if (event.purpose !== "act") return Effect.void
            const whole = (): Effect.Effect<void> => {
              const text = event.text.trim()
              if (text === "") return Effect.void
              lastText = text
              return say(text)
            }
            if (printer === undefined) return whole()
            // Streamed already: not printed again. A step replayed or not streamed is printed whole.
            return Effect.flatMap(printer.ended(event.step), (streamed) => {
              const text = streamed?.trim() ?? ""
              if (text === "") return whole()
              lastText = text
              return Effect.void
            })
          }
          case "AgentPlanMade":
            return Effect.andThen(
              ReplView.showsPlan(event)
                ? Effect.forEach(ReplView.planLines(event.plan, event.revision), say, { discard: true })
                : Effect.void,
              context.gate.asks && ReplPlanGate.holds(event) ? Queue.offer(questions, { _tag: "Plan" }) : Effect.void
            )
          case "AgentApprovalRequested":
            return Effect.andThen(
              say(ReplView.lineOf(event) ?? ""),
              Queue.offer(questions, { _tag: "Approval", event })
            )
          case "AgentQuestionAsked":
            return Queue.offer(questions, { _tag: "Ask", questionId: event.questionId, question: event.question })
          case "AgentRunEnded": {
            ended = event
            const answer = event.answer?.trim() ?? ""
            const closing =
              event.status === "done"
                ? answer !== "" && answer !== lastText
                  ? [answer]
                  : []
                : [`${event.status}${event.error === undefined ? "" : `: ${event.error.message}`}`]
            return Effect.forEach([...closing, `(${ReplCost.summary(event.spend)})`], say, { discard: true })
          }
          default: {
            const line = ReplView.lineOf(event)
            return line === undefined ? Effect.void : say(line)
          }
        }
      }
      const watcher = yield* Effect.forkChild(
        Effect.gen(function* () {
          while (ended === undefined) {
            const event = yield* PubSub.take(subscription)
            if (event.agent === agent.name) yield* show(event)
          }
        })
      )

      const result = yield* Effect.result(agent.run(goal))
      // The run's last events were published before it answered; a run that died publishes no end, hence the bound.
      yield* Fiber.join(watcher).pipe(Effect.timeout("5 seconds"), Effect.ignore)
      yield* Effect.forEach([watcher, asker, canceller], Fiber.interrupt, { discard: true })
      yield* ReplPlanGate.decide(context.gate, false)
      if (result._tag === "Success") {
        return {
          status: "done",
          runId: result.success.runId,
          answer: result.success.answer,
          spend: result.success.spend
        }
      }
      const error = result.failure
      if (ended === undefined) yield* say(`failed: ${error.message}`)
      return {
        status: ended?.status ?? "crashed",
        runId: ended?.runId,
        answer: undefined,
        spend: ended?.spend
      } satisfies Outcome
    })
  )
