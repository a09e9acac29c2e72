/**
 * `troupe schema`: prints the JSON Schema of agent specs and team files, the same text as `agents/agent.schema.json`
 * (`pnpm codegen` writes that file from the same function), for editors and other tools.
 */
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"

/** The `schema` command. */
export const command = Command.make("schema", {}, () =>
  Effect.flatMap(
    Effect.promise(() => import("@troupe/agent-spec")),
    ({ JsonSchema }) => Effect.sync(() => void process.stdout.write(JsonSchema.agentSchemaText()))
  )
).pipe(Command.withDescription("Print the JSON Schema of agent specs and team files (agents/agent.schema.json)"))
