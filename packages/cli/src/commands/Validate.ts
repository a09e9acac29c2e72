/**
 * `troupe validate FILE...`: checks agent specs and team files without running anything.
 *
 * Prints `FILE: ok` per valid file (with any notice, such as the legacy format, on the same line). When a file is
 * invalid, prints its problems on stderr as `FILE:LINE:COL: message` and fails with `CliExit(badInput)`, which the
 * entry point turns into exit code 2. A file that cannot be read (missing, not a regular file, over the loader's
 * size limit) is one line. Output is bounded: at most `SpecError.maxReportedProblems` problems per file, then
 * `FILE: and N more problems`, and no line quotes more than a short excerpt of what a file holds.
 */
import type { SpecError as SpecErrors, SpecLoader as SpecLoading } from "@troupe/agent-spec"
import * as Console from "effect/Console"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import { CliExit, ExitCode } from "../ExitCode.ts"

type SpecError = typeof SpecErrors

const summary = (SpecError: SpecError, loaded: SpecLoading.LoadedAgent | SpecLoading.LoadedTeam): string => {
  const what =
    loaded._tag === "Team"
      ? `team ${loaded.team.name}, ${loaded.team.agents.length} agents${loaded.team.manager === undefined ? "" : " and a manager"}`
      : undefined
  const notes = loaded.notices.map(SpecError.format)
  const extra = [...(what === undefined ? [] : [what]), ...notes]
  const file = SpecError.printable(loaded.file)
  return extra.length === 0 ? `${file}: ok` : `${file}: ok (${extra.join("; ")})`
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
      // Loaded when the command runs, so that the other commands start without the spec loader.
      const { SpecError, SpecLoader } = yield* Effect.promise(() => import("@troupe/agent-spec"))
      let invalid = 0
      for (const file of files) {
        const result = yield* Effect.result(SpecLoader.load(file))
        if (result._tag === "Success") {
          yield* Console.log(summary(SpecError, result.success))
        } else {
          invalid++
          for (const line of result.failure.lines) yield* Console.error(line)
        }
      }
      if (invalid > 0) return yield* Effect.fail(new CliExit({ code: ExitCode.badInput, message: "" }))
    })
).pipe(
  Command.withDescription(
    "Check agent specs and team files: print FILE: ok, or the problems as FILE:LINE:COL: message, at most 50 per file (exit code 2)"
  )
)
