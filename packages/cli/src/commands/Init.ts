/**
 * The `troupe init [DIR]` command's flags; the scaffolding (`InitScaffold.ts`) is loaded only when the command runs.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"

/** The `init` command. */
export const command = Command.make(
  "init",
  {
    directory: Argument.String("dir").pipe(
      Argument.withDescription("Where to write the files (default: the current directory)"),
      Argument.withDefault(".")
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print one JSON object as the last line"),
      Flag.withDefault(false)
    )
  },
  (input) =>
    Effect.flatMap(
      Effect.promise(() => import("./InitScaffold.ts")),
      (implementation) => implementation.run(input)
    )
).pipe(
  Command.withDescription(
    "Scaffold an agent spec, its JSON Schema, .env.example and .gitignore in DIR; existing files are kept"
  )
)
