/**
 * The person an agent can ask: the `ask_human` tool's service. The agent package implements it (a terminal
 * prompt, the approvals inbox, an HTTP endpoint); a test uses `TestHuman` from `@troupe/tools/testing`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Human } from "@troupe/tools"
 *
 * const alwaysYes = Human.layer(() => Effect.succeed("yes"))
 * ```
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { HumanUnavailable } from "./ToolError.ts"

/** Asks a person a question and waits for the answer. */
export interface Service {
  /** The person's answer, or `HumanUnavailable` when nobody can answer (no console, closed channel, timeout). */
  readonly ask: (question: string) => Effect.Effect<string, HumanUnavailable>
}

/** The person an agent can ask. */
export class Human extends Context.Service<Human, Service>()("@troupe/tools/Human") {}

/** A {@link Human} that answers with `ask`. */
export const layer = (ask: Service["ask"]): Layer.Layer<Human> => Layer.succeed(Human, Human.of({ ask }))
