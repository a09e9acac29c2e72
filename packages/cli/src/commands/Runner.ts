/**
 * The `troupe runner` command's flags; the runner itself (`RunnerProcess.ts`) is loaded only when the command runs,
 * so that the other commands do not pay for loading the cluster and its PostgreSQL driver.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** The `runner` command. */
export const command = Command.make(
  "runner",
  {
    postgres: Flag.String("postgres").pipe(
      Flag.withDescription("The PostgreSQL URL the cluster's runners and clients share (postgres://...)")
    ),
    host: Flag.String("host").pipe(
      Flag.withDescription("The address other runners reach this one at (default 127.0.0.1)"),
      Flag.optional
    ),
    port: Flag.Int("port").pipe(Flag.withDescription("The port to listen on (default: a free one)"), Flag.optional),
    workspace: Flag.String("workspace").pipe(
      Flag.withDescription("The directory the tasks' tools work in (default: the current one)"),
      Flag.optional
    ),
    concurrency: Flag.Int("concurrency").pipe(
      Flag.withDescription("Tasks this runner runs at once, at most (default 16)"),
      Flag.optional
    ),
    memory: Flag.String("memory").pipe(
      Flag.withDescription(
        "Long-term memory for the agents whose spec enables it, in this directory (LanceDB; runners may share one)"
      ),
      Flag.optional
    ),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription(
        "Calls the specs' policies ask about wait in the cluster's PostgreSQL for troupe approvals --postgres URL, from any machine (instead of a denial)"
      ),
      Flag.withDefault(false)
    ),
    yes: Flag.Boolean("yes").pipe(
      Flag.withDescription("Approve the calls the specs' policies ask about (never those they deny)"),
      Flag.withDefault(false)
    )
  },
  (flags) =>
    Effect.flatMap(
      Effect.promise(() => import("./RunnerProcess.ts")),
      (implementation) =>
        implementation.run({
          postgres: flags.postgres,
          host: Option.getOrUndefined(flags.host),
          port: Option.getOrUndefined(flags.port),
          workspace: Option.getOrUndefined(flags.workspace),
          concurrency: Option.getOrUndefined(flags.concurrency),
          memory: Option.getOrUndefined(flags.memory),
          wait: flags.wait,
          yes: flags.yes
        })
    )
).pipe(Command.withDescription("Run agent tasks of a cluster sharing PostgreSQL (distributed mode)"))
