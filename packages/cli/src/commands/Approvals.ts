/**
 * `troupe approvals [list | approve ID | deny ID [--reason TEXT]] [--postgres URL]`: the approvals of `$TROUPE_HOME`
 * (or, with `--postgres`, of a cluster's tasks), decided from any shell. The work (`ApprovalsInbox.ts`) is loaded only
 * when the command runs.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as ApprovalsInbox from "./ApprovalsInbox.ts"

const withInbox = <A, E, R>(use: (inbox: typeof ApprovalsInbox) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.promise(() => import("./ApprovalsInbox.ts")),
    use
  )

const postgres = Flag.String("postgres").pipe(
  Flag.withDescription(
    "The approvals of the cluster whose storage is this PostgreSQL URL (tasks of troupe runner --wait), not $TROUPE_HOME's"
  ),
  Flag.optional
)

const list = Command.make("list", { postgres }, (flags) => withInbox((inbox) => inbox.listAll(flags.postgres))).pipe(
  Command.withDescription("List the approvals, pending and decided")
)

const approve = Command.make(
  "approve",
  { id: Argument.String("id").pipe(Argument.withDescription("The approval id")), postgres },
  ({ id, postgres }) => withInbox((inbox) => inbox.decide(id, true, Option.none(), postgres))
).pipe(Command.withDescription("Approve a pending tool call"))

const deny = Command.make(
  "deny",
  {
    id: Argument.String("id").pipe(Argument.withDescription("The approval id")),
    reason: Flag.String("reason").pipe(Flag.withDescription("Why: the model is told"), Flag.optional),
    postgres
  },
  ({ id, reason, postgres }) => withInbox((inbox) => inbox.decide(id, false, reason, postgres))
).pipe(Command.withDescription("Deny a pending tool call; the model is told, with the reason"))

/** The `approvals` command. */
export const command = Command.make("approvals", {}, () => withInbox((inbox) => inbox.listAll())).pipe(
  Command.withDescription("The approvals agents wait for: list, approve ID, deny ID"),
  Command.withSubcommands([list, approve, deny])
)
