/**
 * What `troupe approvals [list | approve ID | deny ID [--reason TEXT]]` does: the approvals of `$TROUPE_HOME`, decided from
 * any shell. A run waiting for one (at its terminal prompt, or with `troupe run --wait`) continues as soon as it is
 * decided here; a stopped run finds the decision when it is resumed.
 */
import * as NodeOs from "node:os"
import type { ApprovalStore } from "@troupe/agent"
import { TerminalText } from "@troupe/providers"
import type * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as TroupeHome from "../TroupeHome.ts"

const print = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))

/** One line for a stored approval. */
export const describe = (stored: ApprovalStore.Stored): string => {
  const { request, decision } = stored
  const params = JSON.stringify(request.params) ?? ""
  const state = decision === undefined ? "pending" : `${decision.approved ? "approved" : "denied"} by ${decision.by}`
  return `${request.approvalId}  ${state}  run ${request.runId}  ${request.tool} ${params.length > 200 ? `${params.slice(0, 200)}…` : params}`
}

const storeErrors = <A, R>(
  effect: Effect.Effect<A, ApprovalStore.ApprovalStoreError | CliExit | Config.ConfigError, R>
): Effect.Effect<A, CliExit, R> =>
  Effect.mapError(effect, (error) =>
    error._tag === "CliExit" ? error : new CliExit({ code: ExitCode.failed, message: error.message })
  )

/** Decides a pending approval as the person running the command. */
export const decide = (approvalId: string, approved: boolean, reason: Option.Option<string>) =>
  Effect.gen(function* () {
    const store = yield* TroupeHome.approvals
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
  }).pipe(storeErrors)

/** Lists every approval, pending and decided. */
export const listAll = Effect.gen(function* () {
  const store = yield* TroupeHome.approvals
  const stored = yield* store.list
  if (stored.length === 0) return yield* print("no approvals")
  for (const s of stored) yield* print(describe(s))
}).pipe(storeErrors)
