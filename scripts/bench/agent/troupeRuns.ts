/**
 * How the Troupe runners run the task: an agent pursues one goal at a time, so concurrent runs use as many agents; an
 * idle one is reused, else one more is made.
 */
import type { Agent } from "@troupe/agent"
import * as Effect from "effect/Effect"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import { prompt, type Runner } from "./task.ts"

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
