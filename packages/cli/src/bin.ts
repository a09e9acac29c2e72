/**
 * The `troupe` executable (`pnpm troupe ...`): runs the root command on Node and owns the process exit code.
 *
 * A `CliExit` prints its message on stderr and exits with its code; a command-line parse error (already
 * printed by the parser) exits with 2; anything else unexpected exits with 1 after printing it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "./Cli.ts"
import { ExitCode } from "./ExitCode.ts"

const printError = (message: string) =>
  Effect.sync(() => {
    if (message !== "") process.stderr.write(message.endsWith("\n") ? message : `${message}\n`)
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
    if (Cause.hasInterruptsOnly(cause)) return Effect.succeed(130)
    return printError(Cause.pretty(cause)).pipe(Effect.as(ExitCode.failed as number))
  }),
  Effect.provide(NodeServices.layer)
)

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? (exit.value as number) : ExitCode.failed)
})
