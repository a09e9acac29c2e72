/**
 * `$TROUPE_HOME` (default `.troupe`), the state directory of the command: runs and their audit trails under
 * `runs/<runId>/`, pending approvals under `approvals/`, long-term memory under `memory/`.
 */
import * as NodePath from "node:path"
import { ApprovalStore, AuditLog } from "@troupe/agent"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** The state directory. */
export const home: Config.Config<string> = Config.String("TROUPE_HOME").pipe(Config.withDefault(".troupe"))

const root: Effect.Effect<string, Config.ConfigError> = Effect.gen(function* () {
  return yield* home
})

/** The audit trails of `$TROUPE_HOME`, redacting the values of the process's secret-named variables. */
export const auditLayer = Layer.unwrap(
  // Written at once, made durable at the run's barriers (before a tool runs, before the run answers).
  Effect.map(root, (dir) => AuditLog.layer({ home: dir, environment: process.env, durability: "written" }))
)

/** The approvals of `$TROUPE_HOME`. */
export const approvals = Effect.flatMap(root, (dir) => ApprovalStore.make(NodePath.join(dir, "approvals")))

/** The memory directory of `$TROUPE_HOME`. */
export const memoryDirectory = Effect.map(root, (dir) => NodePath.join(dir, "memory"))
