/**
 * The root `troupe` command: `troupe -p PROMPT` (direct prompt mode) and its subcommands (`troupe validate`).
 *
 * Commands fail with `CliExit`; `bin.ts` turns that into stderr output and the process exit code.
 */

import { Mixture, ProviderConfig, TerminalText } from "@troupe/providers"
import * as Config from "effect/Config"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Approvals from "./commands/Approvals.ts"
import * as Audit from "./commands/Audit.ts"
import * as Init from "./commands/Init.ts"
import * as MemoryCommand from "./commands/Memory.ts"
import * as Orchestrate from "./commands/Orchestrate.ts"
import * as RunCommand from "./commands/Run.ts"
import * as RunnerCommand from "./commands/Runner.ts"
import * as SchemaCommand from "./commands/Schema.ts"
import * as Serve from "./commands/Serve.ts"
import * as Validate from "./commands/Validate.ts"
import { CliExit, ExitCode } from "./ExitCode.ts"

/** The version `troupe --version` prints. */
export const version = "0.1.0"

const modelFromEnv = Config.option(Config.String("TROUPE_MODEL")).pipe(
  Effect.map(Option.getOrUndefined),
  Effect.orElseSucceed(() => undefined)
)

/** The `troupe` command and its subcommands. */
export const command = Command.make(
  "troupe",
  {
    prompt: Flag.String("prompt").pipe(
      Flag.withAlias("p"),
      Flag.withDescription("Ask once and print the answer (direct prompt mode)"),
      Flag.optional
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print one JSON object as the last line"),
      Flag.withDefault(false)
    ),
    mixture: Flag.Boolean("mixture").pipe(
      Flag.withDescription("Ask every configured provider and print the winner with the score table"),
      Flag.withDefault(false)
    ),
    strategy: Flag.Literals("strategy", Mixture.strategyNames).pipe(
      Flag.withDescription("How --mixture picks its answer (default weighted-score)"),
      Flag.withDefault("weighted-score" as const)
    ),
    model: Flag.String("model").pipe(
      Flag.withDescription("Model id, or provider/model (default per provider; also TROUPE_MODEL)"),
      Flag.optional
    ),
    timeout: Flag.String("timeout").pipe(
      Flag.withDescription("Time limit of the whole model call, retries included: 90s, 2m, 1h (also TROUPE_TIMEOUT)"),
      Flag.optional
    ),
    verbose: Flag.Boolean("verbose").pipe(
      Flag.withDescription("Print the full failure on errors"),
      Flag.withDefault(false)
    )
  },
  (flags) =>
    Effect.gen(function* () {
      if (Option.isNone(flags.prompt)) {
        if (flags.json) {
          return yield* new CliExit({
            code: ExitCode.badInput,
            message: 'Interactive mode prints for people: --json goes with troupe -p "PROMPT" or troupe run.'
          })
        }
        // Loaded only when it runs, like the subcommands: `troupe --version` stays fast.
        const repl = yield* Effect.promise(() => import("./commands/Repl.ts"))
        return yield* repl.run({
          model: Option.isSome(flags.model) ? flags.model.value : yield* modelFromEnv,
          mixture: flags.mixture,
          verbose: flags.verbose
        })
      }
      if (flags.strategy !== "weighted-score" && !flags.mixture) {
        return yield* new CliExit({
          code: ExitCode.badInput,
          message: "--strategy chooses how --mixture decides: add --mixture, or leave --strategy out."
        })
      }
      const model = Option.isSome(flags.model) ? flags.model.value : yield* modelFromEnv
      const timeout = Option.isSome(flags.timeout) ? ProviderConfig.parseDuration(flags.timeout.value) : undefined
      if (Option.isSome(flags.timeout) && timeout === undefined) {
        return yield* new CliExit({
          code: ExitCode.badInput,
          message: `--timeout '${TerminalText.sanitize(flags.timeout.value)}' is not a duration; write it like 90s, 2m or 1h.`
        })
      }
      const prompt = yield* Effect.promise(() => import("./commands/Prompt.ts"))
      yield* prompt.run({
        prompt: flags.prompt.value,
        json: flags.json,
        mixture: flags.mixture,
        strategy: flags.strategy,
        verbose: flags.verbose,
        model,
        timeout
      })
    })
).pipe(
  Command.withDescription("Troupe: autonomous agents on Effect"),
  Command.withSubcommands([
    Validate.command,
    RunCommand.command,
    Orchestrate.command,
    Serve.command,
    Audit.command,
    Approvals.command,
    Init.command,
    SchemaCommand.command,
    MemoryCommand.command,
    RunnerCommand.command
  ])
)
