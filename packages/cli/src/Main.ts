/**
 * The `troupe` program, started by `bin.ts` (from the sources, or bundled): runs the root command on Node and owns the
 * process exit code.
 *
 * A `CliExit` prints its message on stderr and exits with its code; a command-line parse error (already
 * printed by the parser) exits with 2; Ctrl-C exits with 130; anything else unexpected exits with 1 after one line
 * (the whole trace with `--verbose`).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { TerminalText } from "@troupe/providers"
import * as Cause from "effect/Cause"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "./Cli.ts"
import { ExitCode } from "./ExitCode.ts"

// Messages may quote what a server or a file said: sanitised, so they cannot act on the reader's terminal.
const printError = (message: string) =>
  Effect.sync(() => {
    const text = TerminalText.sanitize(message)
    if (text !== "") process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
  })

// A reader that goes away (`troupe -p … | head -c 10`) ends the command quietly, not with a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(ExitCode.succeeded)
})

const main: Effect.Effect<number> = Command.run(Cli.command, { version: Cli.version }).pipe(
  Effect.as(ExitCode.succeeded as number),
  Effect.catchCause((cause) => {
    const error = Cause.findErrorOption(cause)
    if (error._tag === "Some") {
      const e = error.value as { readonly _tag?: string; readonly code?: number; readonly message?: string }
      if (e._tag === "CliExit") return printError(e.message ?? "").pipe(Effect.as(e.code ?? ExitCode.failed))
      // The parser has already printed what was wrong with the command line.
      return Effect.succeed(ExitCode.badInput as number)
    }
    if (Cause.hasInterruptsOnly(cause)) return Effect.succeed(ExitCode.interrupted as number)
    // A defect is a bug in Troupe: one line by default, the whole trace with --verbose.
    const pretty = Cause.pretty(cause)
    const verbose = process.argv.includes("--verbose")
    return printError(
      verbose ? pretty : `troupe: unexpected failure: ${pretty.split("\n")[0]} (--verbose shows more)`
    ).pipe(Effect.as(ExitCode.failed as number))
  }),
  Effect.provide(NodeServices.layer)
)

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  // Ctrl-C interrupts the program from outside, past its own error handling: 130, as shells report SIGINT.
  teardown: (exit, onExit) =>
    onExit(
      Exit.isSuccess(exit)
        ? (exit.value as number)
        : Cause.hasInterruptsOnly(exit.cause)
          ? ExitCode.interrupted
          : ExitCode.failed
    )
})
