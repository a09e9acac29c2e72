/**
 * The `troupe orchestrate` command's flags; the orchestration itself (`OrchestrateTeam.ts`) is loaded only when the
 * command runs, so that the other commands do not pay for loading agents, tools and memory.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as OrchestrateRecord from "./OrchestrateRecord.ts"

/** The team file used when `--team` is not given. */
export const defaultTeam: string = OrchestrateRecord.defaultTeam

/** The `orchestrate` command. */
export const command = Command.make(
  "orchestrate",
  {
    goal: Flag.String("goal").pipe(Flag.withDescription("What the team is to achieve"), Flag.optional),
    resume: Flag.String("resume").pipe(
      Flag.withDescription(
        "Resume the orchestration of this id after a crash or an exit 3 (nothing done is done again)"
      ),
      Flag.optional
    ),
    team: Flag.String("team").pipe(Flag.withDescription(`The team file (default ${defaultTeam})`), Flag.optional),
    workspace: Flag.String("workspace").pipe(
      Flag.withDescription("The directory the agents work in (default: the current one)"),
      Flag.optional
    ),
    concurrency: Flag.Int("concurrency").pipe(
      Flag.withDescription("Subtasks running at once, at most (default 4)"),
      Flag.optional
    ),
    maxSteps: Flag.Int("max-steps").pipe(
      Flag.withDescription("The team's budget of steps, across all its agents"),
      Flag.optional
    ),
    maxCost: Flag.Finite("max-cost").pipe(
      Flag.withDescription("The team's budget in US dollars, across all its agents"),
      Flag.optional
    ),
    yes: Flag.Boolean("yes").pipe(
      Flag.withDescription("Approve the calls the policies ask about (never those they deny)"),
      Flag.withDefault(false)
    ),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription("Without a terminal, wait for approvals decided with troupe approvals instead of exit 3"),
      Flag.withDefault(false)
    ),
    postgres: Flag.String("postgres").pipe(
      Flag.withDescription(
        "Run the members' subtasks on the runners of the cluster whose storage is this PostgreSQL URL (troupe runner)"
      ),
      Flag.optional
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print one JSON object as the last line"),
      Flag.withDefault(false)
    )
  },
  (flags) =>
    Effect.flatMap(
      Effect.promise(() => import("./OrchestrateTeam.ts")),
      (implementation) =>
        implementation.run({
          goal: Option.getOrUndefined(flags.goal),
          resume: Option.getOrUndefined(flags.resume),
          team: Option.getOrUndefined(flags.team),
          workspace: Option.getOrUndefined(flags.workspace),
          concurrency: Option.getOrUndefined(flags.concurrency),
          maxSteps: Option.getOrUndefined(flags.maxSteps),
          maxCostUsd: Option.getOrUndefined(flags.maxCost),
          yes: flags.yes,
          wait: flags.wait,
          postgres: Option.getOrUndefined(flags.postgres),
          json: flags.json
        })
    )
).pipe(
  Command.withDescription(
    "Pursue a goal with a team: decomposed by its manager, delegated, supervised (orchestrated mode)"
  )
)
