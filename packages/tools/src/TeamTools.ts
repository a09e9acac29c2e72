/**
 * The tools that reach beyond the agent: `ask_human {question}` (through the `Human` service) and
 * `delegate {agent, task}` (through `Delegation`). `delegate` honours the spec's `agents` list (empty allows any
 * member of the team) before the service is asked.
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Delegation from "./Delegation.ts"
import * as Human from "./Human.ts"
import { AgentNotAllowed, DelegationFailed, HumanUnavailable, InvalidArgument } from "./ToolError.ts"

/** Asks a person and waits for the answer. */
export const AskHuman = Tool.make("ask_human", {
  description:
    "Ask a person a question and wait for the answer. Use it when you need a decision or a fact only a person has.",
  parameters: Schema.Struct({ question: Schema.String }),
  success: Schema.Struct({ answer: Schema.String }),
  failure: Schema.Union([HumanUnavailable, InvalidArgument]),
  failureMode: "return"
})

/** Hands a task to another agent. */
export const Delegate = Tool.make("delegate", {
  description: "Hand a task to another agent of the team and get its result.",
  parameters: Schema.Struct({
    agent: Schema.String.annotate({ description: "The agent's name" }),
    task: Schema.String.annotate({ description: "What it should do, with everything it needs to know" })
  }),
  success: Schema.Struct({ agent: Schema.String, result: Schema.String }),
  failure: Schema.Union([AgentNotAllowed, DelegationFailed, InvalidArgument]),
  failureMode: "return"
})

/** Both tools. */
export const toolkit = Toolkit.make(AskHuman, Delegate)

/** The handler of `ask_human`. */
export const askHuman = (human: Human.Service) => (params: { readonly question: string }) =>
  params.question.trim() === ""
    ? Effect.fail(new InvalidArgument({ argument: "question", reason: "is empty" }))
    : Effect.map(human.ask(params.question), (answer) => ({ answer }))

/** The handler of `delegate`, allowing the agents of `options.agents` (any when empty). */
export const delegate =
  (delegation: Delegation.Service, options: Partial<ToolSpec.ToolOptions["delegate"]> = {}) =>
  (params: { readonly agent: string; readonly task: string }) => {
    const agents = options.agents ?? []
    if (agents.length > 0 && !agents.includes(params.agent)) {
      return Effect.fail(new AgentNotAllowed({ agent: params.agent, allowed: agents }))
    }
    if (params.task.trim() === "") return Effect.fail(new InvalidArgument({ argument: "task", reason: "is empty" }))
    return Effect.map(delegation.delegate(params.agent, params.task), (result) => ({ agent: params.agent, result }))
  }

/** The handlers of both tools, over the `Human` and `Delegation` in context. */
export const layer = (options: Partial<ToolSpec.ToolOptions["delegate"]> = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      const human = yield* Human.Human
      const delegation = yield* Delegation.Delegation
      return toolkit.of({ ask_human: askHuman(human), delegate: delegate(delegation, options) })
    })
  )
