/**
 * The `troupe audit RUN [--verify]` command's flags; reading and verifying the trail (`AuditTrail.ts`) is loaded only
 * when the command runs.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"

/** The `audit` command. */
export const command = Command.make(
  "audit",
  {
    runId: Argument.String("run").pipe(Argument.withDescription("The run id (troupe run prints it)")),
    verify: Flag.Boolean("verify").pipe(
      Flag.withDescription("Check the hash chain: exit 0 when intact, 1 naming the first bad entry"),
      Flag.withDefault(false)
    )
  },
  (input) =>
    Effect.flatMap(
      Effect.promise(() => import("./AuditTrail.ts")),
      (implementation) => implementation.run(input)
    )
).pipe(Command.withDescription("Print a run's audit trail, or verify it"))
