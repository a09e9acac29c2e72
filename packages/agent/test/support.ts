/**
 * Test support for the agent package: a run context over a scripted model (optionally through a `ProviderPool`,
 * so that costs are real list prices), a small toolkit, and the events a run published.
 */
import { AgentSpec } from "@troupe/agent-spec"
import { Pooled, ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel } from "@troupe/providers/testing"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as AgentEvent from "../src/AgentEvent.ts"
import * as Approvals from "../src/Approvals.ts"
import type * as Plan from "../src/Plan.ts"
import * as Prompting from "../src/Prompting.ts"
import type * as Reflection from "../src/Reflection.ts"
import type * as Run from "../src/Run.ts"

/** Decodes a spec from its YAML form, with defaults. */
export const spec = (input: Partial<AgentSpec.AgentSpecInput> = {}): AgentSpec.AgentSpec =>
  Schema.decodeUnknownSync(AgentSpec.AgentSpec, AgentSpec.parseOptions)({ name: "tester", ...input })

/** The tools of the tests: `echo` returns its text, `fail` always fails, `note` records a note (a side effect). */
export const Echo = Tool.make("echo", {
  description: "Echo the text back.",
  parameters: Schema.Struct({ text: Schema.String }),
  success: Schema.String,
  failureMode: "return"
})

export const Fail = Tool.make("fail", {
  description: "Always fails.",
  parameters: Schema.Struct({}),
  success: Schema.String,
  failure: Schema.String,
  failureMode: "return"
})

export const Note = Tool.make("note", {
  description: "Record a note.",
  parameters: Schema.Struct({ text: Schema.String }),
  success: Schema.String,
  failureMode: "return"
})

export const TestTools = Toolkit.make(Echo, Fail, Note)

/** The toolkit with handlers; `notes` receives what `note` recorded. */
export const toolkit = (notes: Array<string> = []) =>
  TestTools.pipe(
    Effect.provide(
      TestTools.toLayer({
        echo: ({ text }) => Effect.succeed(text),
        fail: () => Effect.fail("the tool failed on purpose"),
        note: ({ text }) =>
          Effect.sync(() => {
            notes.push(text)
            return "noted"
          })
      })
    )
  )

/** A plan of the given goal ids, all pending. */
export const plan = (...ids: ReadonlyArray<string>): Plan.Plan => ({
  goals: ids.map((id) => ({
    id,
    title: `do ${id}`,
    status: "pending",
    dependsOn: [],
    acceptance: `${id} done`,
    subgoals: []
  }))
})

/** A scripted answer with the plan as JSON (what `generateObject` parses). */
export const planTurn = (...ids: ReadonlyArray<string>) => ScriptedLanguageModel.text(JSON.stringify(plan(...ids)))

/** A scripted reflection. */
export const reflectTurn = (
  outcome: Reflection.Outcome,
  options: Partial<Omit<Reflection.Reflection, "outcome">> = {}
) => ScriptedLanguageModel.text(JSON.stringify({ outcome, reasoning: `because ${outcome}`, progress: [], ...options }))

/** A scripted turn calling tools. */
export const callTurn = (...calls: ReadonlyArray<{ readonly name: string; readonly params: unknown }>) =>
  ScriptedLanguageModel.toolCalls(calls)

/** Everything a test run needs. */
export interface Harness {
  readonly context: Run.RunContext
  readonly control: Run.Control
  readonly events: Array<AgentEvent.AgentEvent>
  readonly gate: Approvals.Gate
  readonly model: ScriptedLanguageModel.Handle
  readonly notes: Array<string>
}

/**
 * A run context over a scripted model. With `pooled`, the model is called through a fresh `ProviderPool` as
 * `openai/gpt-5-mini` ($0.25 and $2 per million tokens in and out).
 */
export const harness = (
  turns: ReadonlyArray<ScriptedLanguageModel.Turn>,
  options: {
    readonly spec?: AgentSpec.AgentSpec
    readonly tools?: boolean
    readonly pooled?: boolean
    readonly approveAsk?: boolean
    readonly goal?: string
    readonly policy?: (tool: string) => AgentSpec.Policy
  } = {}
): Effect.Effect<Harness> =>
  Effect.gen(function* () {
    const the = options.spec ?? spec()
    const scripted = yield* ScriptedLanguageModel.make(turns)
    const model =
      options.pooled === true
        ? yield* Pooled.make({ provider: "openai", model: "gpt-5-mini", languageModel: scripted.languageModel }).pipe(
            Effect.provide(ProviderPool.layer())
          )
        : scripted.languageModel
    const notes: Array<string> = []
    const tools = options.tools === false ? undefined : yield* toolkit(notes)
    const events: Array<AgentEvent.AgentEvent> = []
    const gate = Approvals.makeGate({ approveAsk: options.approveAsk ?? false })
    const policy = options.policy ?? ((tool: string) => Approvals.policyOf(the, tool))
    const context: Run.RunContext = {
      spec: the,
      runId: "run-1",
      goal: options.goal ?? "test the agent",
      system: Prompting.system(the),
      model,
      toolkit: tools === undefined ? undefined : Approvals.withPolicy(tools, policy),
      policy,
      memory: undefined,
      gate,
      emit: (event) => Effect.sync(() => void events.push(event)),
      barrier: Effect.void
    }
    const control: Run.Control = { cancel: Deferred.makeUnsafe<void>(), onState: () => {} }
    return { context, control, events, gate, model: scripted, notes }
  })

/** The tags of the events, in order. */
export const tags = (events: ReadonlyArray<AgentEvent.AgentEvent>): ReadonlyArray<string> => events.map((e) => e._tag)
