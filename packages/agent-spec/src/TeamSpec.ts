/**
 * A team file: the agents of an orchestrated team, by spec path or inline, and an optional manager.
 *
 * ```yaml
 * # yaml-language-server: $schema=./agent.schema.json
 * name: web-team
 * manager: manager.yaml
 * agents: [architect.yaml, backend.yaml, { name: reviewer, persona: Code reviewer }]
 * supervision: { strategy: one-for-one, maxRestarts: 5, within: 1m }
 * ```
 *
 * Paths are relative to the team file. The loader (`SpecLoader.loadTeam`) resolves them into {@link Team}.
 */
import * as Schema from "effect/Schema"
import * as AgentSpec from "./AgentSpec.ts"
import * as Fields from "./internal/fields.ts"
import * as SpecDuration from "./SpecDuration.ts"

/** A member: the path of an agent spec file, or an inline agent spec. */
export const Member = Schema.Union([
  Fields.Text.annotate({ description: "Path of an agent spec file, relative to the team file." }),
  AgentSpec.AgentSpec
])

/** How the team's supervisor reacts when a member fails for good. */
export const TeamSupervision = Schema.Struct({
  strategy: Fields.withDefault(
    Schema.Literals(["one-for-one", "one-for-all", "rest-for-one"]).annotate({
      description:
        "one-for-one: restart the failed agent; one-for-all: restart every agent; rest-for-one: restart the failed agent and those listed after it."
    }),
    "Which agents restart when one fails.",
    "one-for-one"
  ),
  maxRestarts: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    "Restarts allowed within the period before the team fails.",
    5
  ),
  within: SpecDuration.withDefault("The period maxRestarts counts over.", "1m")
}).annotate({ description: "The team supervisor." })

/** The team file schema. */
export const TeamSpec = Schema.Struct({
  name: Fields.required(AgentSpec.AgentName, "The team's name."),
  description: Fields.withDefault(Schema.String, "What the team is for.", ""),
  manager: Fields.optional(Member, "The agent that decomposes goals and delegates to the others."),
  agents: Fields.required(Schema.Array(Member).check(Schema.isMinLength(1)), "The team's agents."),
  supervision: Fields.withDefault(TeamSupervision, "The team supervisor.", {})
}).annotate({ title: "Troupe team", description: "An orchestrated team of agents." })

/** A decoded team file (members not yet resolved). */
export type TeamSpec = typeof TeamSpec.Type

/** A team with every member resolved to its spec. */
export interface Team {
  readonly name: string
  readonly description: string
  readonly manager: AgentSpec.AgentSpec | undefined
  readonly agents: ReadonlyArray<AgentSpec.AgentSpec>
  readonly supervision: typeof TeamSupervision.Type
}

/** Whether a document's root keys are a team file's (only a team has `agents`). */
export const isTeam = (rootKeys: ReadonlyArray<string>): boolean => rootKeys.includes("agents")
