/**
 * The approvals that an orchestration's tasks wait for on a cluster's runners (`troupe orchestrate --postgres`, the
 * runners started with `--wait`): their runs publish no events here, so the cluster's table is watched for requests
 * of the orchestration's runs (`ORCH.SUBTASK.N`). Each is told once, with where it waits: at a terminal the person
 * decides it there; `--yes` approves it; otherwise the orchestration waits for `troupe approvals ... --postgres` from
 * any shell (it does not stop with exit 3: its tasks would be interrupted with it, and asked again under new ids).
 */
import type { Approvals } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as CommandIo from "../CommandIo.ts"

/** How a request waiting on a runner is met. */
export type Answer =
  /** Ask the person at the terminal. */
  | "ask"
  /** Approve it (`--yes`). */
  | "approve"
  /** Say where it waits, and wait. */
  | "tell"

// How often the table is read: a person is not kept waiting, and the database is not kept busy.
const pollEvery = "500 millis"

/** Watches the requests of `orchestrationId`'s runs until interrupted; a table it cannot read is read again. */
export const watch = (options: {
  readonly postgres: string
  readonly orchestrationId: string
  readonly answer: Answer
  readonly person: string
}) =>
  Effect.gen(function* () {
    const { ApprovalTable } = yield* Effect.promise(() => import("@troupe/cluster"))
    const table = yield* ApprovalTable.connect(Redacted.make(options.postgres))
    const told = new Set<string>()
    const meet = (request: Approvals.Request) =>
      Effect.gen(function* () {
        const subtask = request.runId.slice(options.orchestrationId.length + 1).replace(/\.\d+$/, "")
        if (options.answer === "approve") {
          yield* table.decide(request.approvalId, { approved: true, by: "auto-approve" })
          return
        }
        if (options.answer === "ask") {
          const approved = yield* CommandIo.askYesNo(
            `Approve ${subtask} (on a runner): ${request.tool} ${CommandIo.short(request.params, 400)}?`
          )
          yield* table.decide(
            request.approvalId,
            approved
              ? { approved: true, by: options.person }
              : { approved: false, by: options.person, reason: "denied at the terminal" }
          )
          return
        }
        yield* CommandIo.errorLine(
          `${subtask} waits on a runner for approval ${request.approvalId} (${request.tool}): troupe approvals approve ${request.approvalId} --postgres URL (or deny)`
        )
      })
    while (true) {
      const pending = yield* table.pendingFor(`${options.orchestrationId}.`).pipe(Effect.orElseSucceed(() => []))
      for (const request of pending) {
        if (told.has(request.approvalId)) continue
        told.add(request.approvalId)
        yield* meet(request).pipe(Effect.ignore)
      }
      yield* Effect.sleep(pollEvery)
    }
  }).pipe(Effect.scoped, Effect.ignore)
