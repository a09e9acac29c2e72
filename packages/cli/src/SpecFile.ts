/**
 * Loading the spec a command was given: its problems printed on stderr, each positioned (`FILE:LINE:COL`), and the
 * command ending as bad input (exit 2).
 */
import { SpecLoader } from "@troupe/agent-spec"
import * as Effect from "effect/Effect"
import * as CommandIo from "./CommandIo.ts"
import { CliExit, ExitCode } from "./ExitCode.ts"

/** The agent or team in `file`, or bad input with its problems printed. */
export const load = (file: string) =>
  SpecLoader.load(file).pipe(
    Effect.catchTag("SpecInvalid", (invalid) =>
      Effect.andThen(
        Effect.forEach(invalid.lines, CommandIo.errorLine, { discard: true }),
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: "" }))
      )
    )
  )
