/**
 * What the Troupe runners share: the task's tool, the agents' spec, and how they run the task (an agent pursues one
 * goal at a time, so concurrent runs use as many agents; an idle one is reused, else one more is made).
 */
import type { Agent } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import { lookup, MODEL, prompt, type Runner, TOOL } from "./task.ts"

/** The task's `lookup` tool. */
export const Lookup = Tool.make(TOOL.name, {
  description: TOOL.description,
  parameters: Schema.Struct({ item: Schema.Int }),
  success: Schema.String
})

/** A toolkit of `tool` (`Lookup`, annotated or not) with the task's handler. */
export const toolkitOf = (tool: typeof Lookup) => {
  const kit = Toolkit.make(tool)
  return kit.pipe(Effect.provide(kit.toLayer({ lookup: ({ item }) => Effect.succeed(lookup(item)) })))
}

/** Spec fields on top of the default spec (`troupeLean.ts` leaves out the plan and the reflections). */
export type SpecFields = Omit<AgentSpec.AgentSpecInput, "name" | "model">

/** The default spec with the task's model, and `fields` on top. */
export const specOf = (name: string, fields: SpecFields = {}): AgentSpec.AgentSpec =>
  Schema.decodeUnknownSync(
    AgentSpec.AgentSpec,
    AgentSpec.parseOptions
  )({ ...fields, name, model: { provider: "openai", model: MODEL } })

/** The runner over agents made by `make(name)` in `runtime`. */
export const runner = <R, ER>(
  runtime: ManagedRuntime.ManagedRuntime<R, ER>,
  make: (name: string) => Effect.Effect<Agent.Agent, never, R>
): Runner => {
  const idle: Array<Agent.Agent> = []
  let agents = 0
  const agent = () => (idle.length > 0 ? Effect.succeed(idle.pop()!) : make(`bench-${++agents}`))
  return {
    run: (tag) =>
      runtime.runPromise(
        Effect.flatMap(agent(), (worker) =>
          Effect.map(worker.run(prompt(tag)), (result) => {
            idle.push(worker)
            return result.answer
          })
        )
      )
  }
}
