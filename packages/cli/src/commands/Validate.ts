/**
 * `troupe validate FILE...`: checks agent specs and team files without running anything.
 *
 * Prints `FILE: ok` per valid file (with any notice, such as the legacy format, on the same line). When a file is
 * invalid, prints every problem of every file on stderr as `FILE:LINE:COL: message` and fails with
 * `CliExit(badInput)`, which the entry point turns into exit code 2.
 */
import { SpecError, SpecLoader } from "@troupe/agent-spec"
import * as Console from "effect/Console"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import { CliExit, ExitCode } from "../ExitCode.ts"

const summary = (loaded: SpecLoader.LoadedAgent | SpecLoader.LoadedTeam): string => {
  const what =
    loaded._tag === "Team"
      ? `team ${loaded.team.name}, ${loaded.team.agents.length} agents${loaded.team.manager === undefined ? "" : " and a manager"}`
      : undefined
  const notes = loaded.notices.map((n) => `${SpecError.format(n)}`)
  const extra = [...(what === undefined ? [] : [what]), ...notes]
  return extra.length === 0 ? `${loaded.file}: ok` : `${loaded.file}: ok (${extra.join("; ")})`
}

/** The `validate` command: variadic file arguments, one `ok` line per valid file, positioned errors otherwise. */
export const command = Command.make(
  "validate",
  {
    files: Argument.String("files").pipe(
      Argument.withDescription("Agent spec or team files (YAML)"),
      Argument.variadic({ min: 1 })
    )
  },
  ({ files }) =>
    Effect.gen(function* () {
      let invalid = 0
      for (const file of files) {
        const result = yield* Effect.result(SpecLoader.load(file))
        if (result._tag === "Success") {
          yield* Console.log(summary(result.success))
        } else {
          invalid++
          for (const problem of result.failure.errors) yield* Console.error(SpecError.format(problem))
        }
      }
      if (invalid > 0) return yield* Effect.fail(new CliExit({ code: ExitCode.badInput, message: "" }))
    })
).pipe(
  Command.withDescription(
    "Check agent specs and team files: print FILE: ok, or every problem as FILE:LINE:COL: message (exit code 2)"
  )
)
