/**
 * The `troupe run` command's flags; the run itself (`RunAgent.ts`) is loaded only when the command runs, so that the
 * other commands do not pay for loading agents, tools and memory.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** The `run` command. */
export const command = Command.make(
  "run",
  {
    spec: Argument.String("spec").pipe(
      Argument.withDescription("The agent spec (YAML); with --resume, the run's own spec by default"),
      Argument.optional
    ),
    goal: Flag.String("goal").pipe(Flag.withDescription("What the agent is to achieve"), Flag.optional),
    resume: Flag.String("resume").pipe(
      Flag.withDescription("Resume the run RUN_ID after a crash or an exit 3: completed steps are not done again"),
      Flag.optional
    ),
    workspace: Flag.String("workspace").pipe(
      Flag.withDescription("The directory the agent works in (default: the current one)"),
      Flag.optional
    ),
    yes: Flag.Boolean("yes").pipe(
      Flag.withDescription("Approve the calls the policy asks about (never those it denies)"),
      Flag.withDefault(false)
    ),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription("Without a terminal, wait for approvals decided with troupe approvals (instead of exit 3)"),
      Flag.withDefault(false)
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print one JSON object as the last line"),
      Flag.withDefault(false)
    )
  },
  (flags) =>
    Effect.flatMap(
      Effect.promise(() => import("./RunAgent.ts")),
      (implementation) =>
        implementation.run({
          spec: Option.getOrUndefined(flags.spec),
          goal: Option.getOrUndefined(flags.goal),
          resume: Option.getOrUndefined(flags.resume),
          workspace: Option.getOrUndefined(flags.workspace),
          yes: flags.yes,
          wait: flags.wait,
          json: flags.json
        })
    )
).pipe(Command.withDescription("Run one agent on a goal to its end (standalone agentic mode)"))
