/**
 * What one run works with (`RunContext`: the spec, the model, the tools, memory, the approval gate, where events
 * go) and what it has built so far (`RunState`: history, plan, spending, progress). Each state of the run is a
 * function from a context and a state to the next state.
 */
import type { AgentSpec } from "@troupe/agent-spec"
import type { Memory } from "@troupe/memory"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import type * as Toolkit from "effect/ai/Toolkit"
import type * as Effect from "effect/Effect"
import type * as AgentError from "../AgentError.ts"
import type * as AgentEvent from "../AgentEvent.ts"
import type * as Approvals from "../Approvals.ts"
import type * as Plan from "../Plan.ts"
import * as Spend from "../Spend.ts"
import type * as TextDeltas from "../TextDeltas.ts"
import type { Durable } from "./durable.ts"

/** Everything a run needs besides its own state. */
export interface RunContext {
  readonly spec: AgentSpec.AgentSpec
  readonly runId: string
  readonly goal: string
  /** The system prompt. */
  readonly system: string
  readonly model: LanguageModel.LanguageModel
  /** The agent's tools with their approval policy applied; `undefined` when it has none. */
  readonly toolkit: Toolkit.WithHandler<any> | undefined
  readonly memory: Memory.Service | undefined
  readonly gate: Approvals.Gate
  /** The approval policy of a call, by tool and (for tools whose effect depends on them) parameters. */
  readonly policy: (tool: string, params: unknown) => AgentSpec.Policy
  readonly emit: (event: AgentEvent.AgentEvent) => Effect.Effect<void>
  /**
   * Returns once every event emitted so far is durable (the audit trail's barrier): awaited before a tool runs and
   * before the run answers, so that a crash loses no entry the run has acted on.
   */
  readonly barrier: Effect.Effect<void>
  /** Whether a call only reads: the run does not wait for its barrier before it (see `ReadOnly`). */
  readonly readOnly?: ((tool: string, params: unknown) => boolean) | undefined
  /**
   * Present in a durable run: the model, tools and gate above are already its activities; memory reads and writes
   * go through `step` too.
   */
  readonly durable?: Durable | undefined
  /** Where the act step's text goes as it is generated, while somebody listens (never into the trail). */
  readonly textDeltas?: TextDeltas.Service | undefined
}

/** What a run has built so far. */
export interface RunState {
  /** The conversation after the system prompt: task, recalled context, plan, turns, tool results. */
  readonly history: Prompt.Prompt
  readonly plan: Plan.Plan | undefined
  readonly planRevision: number
  readonly spend: Spend.Spend
  readonly step: number
  /** The model's last text: the answer so far. */
  readonly answer: string | undefined
  /** The step at which the plan last made progress, and how far it had got. */
  readonly progressStep: number
  readonly progress: number
  /** How often each tool call (by tool and arguments) was made. */
  readonly calls: ReadonlyMap<string, number>
  /** Budget warnings already given, so each is given once. */
  readonly warned: ReadonlySet<AgentError.Limit>
}

/** The state a run starts from. */
export const initial: RunState = {
  history: Prompt.empty,
  plan: undefined,
  planRevision: 0,
  spend: Spend.zero,
  step: 0,
  answer: undefined,
  progressStep: 0,
  progress: 0,
  calls: new Map(),
  warned: new Set()
}

/** What a run had when it ended early, for its error. */
export const partialOf = (runId: string, state: RunState): AgentError.Partial => ({
  runId,
  spend: state.spend,
  ...(state.answer === undefined ? {} : { answer: state.answer }),
  ...(state.plan === undefined ? {} : { plan: state.plan })
})

/** The full request of a model call: the system prompt and the history. */
export const promptOf = (context: RunContext, state: RunState): Prompt.Prompt =>
  Prompt.setSystem(state.history, context.system)

/** The history with a user message appended. */
export const withUserMessage = (state: RunState, text: string): RunState => ({
  ...state,
  // Built directly: `Prompt.make` would decode the message through its Schema on every call.
  history: Prompt.fromMessages([
    ...state.history.content,
    Prompt.makeMessage("user", { content: [Prompt.makePart("text", { text })] })
  ])
})
