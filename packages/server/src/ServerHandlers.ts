/**
 * The handlers of `ServerApi`: goals go to the `Jobs`, approvals to the state directory's `ApprovalStore` (each
 * decision recorded as taken by the name of the token that took it), trails to the `AuditLog`.
 *
 * Errors carry a short message of their own: never a file's content, a presented token or a stack.
 */
import { type ApprovalStore, AuditEntry, type AuditLog } from "@troupe/agent"
import { TeamTrail } from "@troupe/orchestrator"
import * as Effect from "effect/Effect"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type * as Jobs from "./Jobs.ts"
import {
  BearerAuth,
  Caller,
  Conflict,
  InvalidRequest,
  NotFound,
  ServerApi,
  ServerFailure,
  Unauthorized
} from "./ServerApi.ts"
import * as Tokens from "./Tokens.ts"

/** The most entries one trail response carries. */
export const maxTrailEntries = 5_000

/** Checks the bearer token of every endpoint and provides who holds it. */
export const bearerAuth = (tokens: Tokens.Tokens): Layer.Layer<BearerAuth> =>
  Layer.succeed(BearerAuth)({
    bearer: (httpEffect, { credential }) => {
      const name = Tokens.identify(tokens, Redacted.value(credential))
      return name === undefined
        ? Effect.fail(new Unauthorized({ message: "a valid bearer token is required" }))
        : Effect.provideService(httpEffect, Caller, { name })
    }
  })

const storeFailed = () => new ServerFailure({ message: "the approvals directory cannot be read or written" })

const trailErrors = {
  AuditLogNotFound: () => Effect.fail(new NotFound({ message: "no audit trail for that run" })),
  AuditRunIdInvalid: () =>
    Effect.fail(new InvalidRequest({ message: "a run id is letters, digits, dots, dashes and underscores" })),
  AuditLogCorrupt: () => Effect.fail(new ServerFailure({ message: "the trail has an unreadable entry" })),
  AuditLogError: () => Effect.fail(new ServerFailure({ message: "the trail cannot be read" }))
} as const

/** What the handlers need. */
export interface Options {
  readonly jobs: Jobs.Jobs
  readonly approvals: ApprovalStore.Store
  readonly audit: AuditLog.Service
}

const decide = (options: Options, approvalId: string, approved: boolean, by: string, reason?: string) =>
  Effect.gen(function* () {
    const stored = yield* options.approvals.list.pipe(Effect.mapError(storeFailed))
    const found = stored.find((s) => s.request.approvalId === approvalId)
    if (found === undefined) return yield* new NotFound({ message: "no such approval" })
    if (found.decision !== undefined) return yield* new Conflict({ message: "that approval is already decided" })
    const written = yield* options.approvals
      .decide(approvalId, { approved, by, ...(reason === undefined ? {} : { reason }) })
      .pipe(Effect.mapError(storeFailed))
    if (!written) return yield* new Conflict({ message: "that approval is already decided" })
    return { approvalId, approved, by }
  })

/** The handlers of every group, with the bearer check. */
export const layer = (options: Options, tokens: Tokens.Tokens) => {
  const jobs = HttpApiBuilder.group(ServerApi, "jobs", (handlers) =>
    handlers
      .handle("submit", ({ payload }) =>
        Effect.flatMap(Caller, (caller) =>
          options.jobs.submit(payload.goal, { team: payload.team, agent: payload.agent }, caller.name)
        )
      )
      .handle("list", () => options.jobs.list)
      .handle("status", ({ params }) => options.jobs.status(params.id))
      .handle("cancel", ({ params }) => Effect.flatMap(Caller, (caller) => options.jobs.cancel(params.id, caller.name)))
      .handle("events", ({ params }) => options.jobs.events(params.id))
  )
  const approvals = HttpApiBuilder.group(ServerApi, "approvals", (handlers) =>
    handlers
      .handle("list", () => options.approvals.list.pipe(Effect.mapError(storeFailed)))
      .handle("approve", ({ params }) =>
        Effect.flatMap(Caller, (caller) => decide(options, params.id, true, caller.name))
      )
      .handle("deny", ({ params, payload }) =>
        Effect.flatMap(Caller, (caller) => decide(options, params.id, false, caller.name, payload.reason))
      )
  )
  const audit = HttpApiBuilder.group(ServerApi, "audit", (handlers) =>
    handlers
      .handle("read", ({ params }) =>
        options.audit.read(params.id).pipe(
          Stream.take(maxTrailEntries + 1),
          Stream.runCollect,
          Effect.map((entries) => ({
            runId: params.id,
            entries: entries.slice(0, maxTrailEntries),
            truncated: entries.length > maxTrailEntries
          })),
          Effect.catchTags(trailErrors)
        )
      )
      .handle("verify", ({ params }) =>
        Effect.gen(function* () {
          const verification = yield* options.audit.verify(params.id)
          // An orchestration's trail links its agents' runs: each is verified against the head recorded for it.
          const isOrchestration = yield* options.audit.read(params.id).pipe(
            Stream.take(2),
            Stream.runCollect,
            Effect.map((entries) => entries.some((e) => e.agent === "orchestrator"))
          )
          if (!isOrchestration) {
            return {
              runId: params.id,
              intact: verification._tag === "Intact",
              verification,
              lines: [AuditEntry.message(verification)]
            }
          }
          const verdict = yield* TeamTrail.verify(options.audit, params.id)
          return {
            runId: params.id,
            intact: verdict.intact,
            verification: verdict.orchestration,
            lines: [...TeamTrail.describe(verdict)]
          }
        }).pipe(Effect.catchTags(trailErrors))
      )
  )
  return Layer.mergeAll(jobs, approvals, audit).pipe(Layer.provide(bearerAuth(tokens)))
}
