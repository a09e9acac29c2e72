/**
 * What `troupe approvals [list | approve ID | deny ID [--reason TEXT]] [--postgres URL]` does: the approvals of
 * `$TROUPE_HOME`, decided from any shell. A run waiting for one (at its terminal prompt, or with `troupe run --wait`)
 * continues as soon as it is decided here; a stopped run finds the decision when it is resumed. With `--postgres`,
 * the approvals of that cluster's tasks instead (`troupe runner --wait`), decided from any machine that reaches the
 * database: the runner's task goes on as soon as it sees the decision.
 */
import * as NodeOs from "node:os"
import type { ApprovalStore } from "@troupe/agent"
import { TerminalText } from "@troupe/providers"
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as TroupeHome from "../TroupeHome.ts"

const print = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))

/** One line for a stored approval (with when it was decided, when the store keeps it). */
export const describe = (stored: ApprovalStore.Stored & { readonly decidedAt?: number | undefined }): string => {
  const { request, decision } = stored
  const params = JSON.stringify(request.params) ?? ""
  const when = stored.decidedAt === undefined ? "" : ` at ${new Date(stored.decidedAt).toISOString()}`
  const state =
    decision === undefined ? "pending" : `${decision.approved ? "approved" : "denied"} by ${decision.by}${when}`
  return `${request.approvalId}  ${state}  run ${request.runId}  ${request.tool} ${params.length > 200 ? `${params.slice(0, 200)}…` : params}`
}

const storeErrors = <A, R>(
  effect: Effect.Effect<A, ApprovalStore.ApprovalStoreError | CliExit | Config.ConfigError, R>
): Effect.Effect<A, CliExit, R> =>
  Effect.mapError(effect, (error) =>
    error._tag === "CliExit" ? error : new CliExit({ code: ExitCode.failed, message: error.message })
  )

// The URL may hold a password: it is checked, never printed.
const clusterStore = (postgres: string) =>
  Effect.gen(function* () {
    const url = URL.canParse(postgres) ? new URL(postgres) : undefined
    if (url === undefined || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: "--postgres must be a PostgreSQL URL: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
      })
    }
    const { ApprovalTable } = yield* Effect.promise(() => import("@troupe/cluster"))
    return yield* ApprovalTable.connect(postgres)
  })

/** The store the command works on: `$TROUPE_HOME`'s, or with `--postgres` the cluster's. */
const storeOf = (
  postgres: Option.Option<string>
): Effect.Effect<
  ApprovalStore.Store & {
    readonly records?: Effect.Effect<
      ReadonlyArray<ApprovalStore.Stored & { readonly decidedAt?: number | undefined }>,
      ApprovalStore.ApprovalStoreError
    >
  },
  ApprovalStore.ApprovalStoreError | CliExit | Config.ConfigError,
  Scope.Scope
> => (Option.isSome(postgres) ? clusterStore(postgres.value) : TroupeHome.approvals)

/** Decides a pending approval as the person running the command. */
export const decide = (
  approvalId: string,
  approved: boolean,
  reason: Option.Option<string>,
  postgres: Option.Option<string> = Option.none()
) =>
  Effect.gen(function* () {
    const store = yield* storeOf(postgres)
    const done = yield* store.decide(approvalId, {
      approved,
      by: NodeOs.userInfo().username,
      ...(Option.isSome(reason) ? { reason: reason.value } : {})
    })
    if (!done) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: `no pending approval ${TerminalText.sanitize(approvalId)} (troupe approvals list shows them)`
      })
    }
    yield* print(`${approvalId}: ${approved ? "approved" : "denied"}`)
  }).pipe(storeErrors, Effect.scoped)

/** Lists every approval, pending and decided. */
export const listAll = (postgres: Option.Option<string> = Option.none()) =>
  Effect.gen(function* () {
    const store = yield* storeOf(postgres)
    const stored = yield* store.records ?? store.list
    if (stored.length === 0) return yield* print("no approvals")
    for (const s of stored) yield* print(describe(s))
  }).pipe(storeErrors, Effect.scoped)
