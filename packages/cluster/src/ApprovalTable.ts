/**
 * The approvals of a cluster, kept in its PostgreSQL: a tool call that a task's policy asks about waits on its runner
 * until someone who reaches the database decides it (`troupe approvals approve ID --postgres URL` from any shell, or
 * the approval endpoints of `troupe serve --postgres`), whichever machine the task runs on.
 *
 * One row per request in `troupe_approvals` (created on first use): the request, when it was made, and once decided
 * the decision (approved or not, by whom, why) and when. The store has the shape of `ApprovalStore.Store`, so a
 * runner's agents wait on it as `troupe run --wait` waits on the files of `$TROUPE_HOME/approvals`; the decision
 * reaches the run's trail as any other (`AgentApprovalDecided`, naming who decided). Approval ids are deterministic
 * per run, step and call, so a task taken over by another runner asks for the same id again and finds its decision.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
 * import { ApprovalTable, Runner } from "@troupe/cluster"
 *
 * const program = Effect.gen(function* () {
 *   const approvals = yield* ApprovalTable.make
 *   const pending = (yield* approvals.list).filter((s) => s.decision === undefined)
 *   yield* approvals.decide(pending[0]!.request.approvalId, { approved: true, by: "ana" })
 * }).pipe(Effect.provide(Runner.postgres("postgres://postgres@127.0.0.1:5432/troupe")))
 * ```
 */
import { ApprovalStore, Approvals } from "@troupe/agent"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as SqlClient from "effect/sql/SqlClient"
import * as Runner from "./Runner.ts"

/** A stored request, with when it was decided once it is. */
export type Entry = ApprovalStore.Stored & { readonly decidedAt?: number | undefined }

/** The cluster's approvals: an `ApprovalStore.Store`, and each decision's time. */
export interface Store extends ApprovalStore.Store {
  /** The requests (the newest `maxListed`), oldest first, with their decisions and when each was made. */
  readonly records: Effect.Effect<ReadonlyArray<Entry>, ApprovalStore.ApprovalStoreError>
  /** The requests still waiting whose run id starts with `prefix` (an orchestration's runs), oldest first, at most 100. */
  readonly pendingFor: (
    prefix: string
  ) => Effect.Effect<ReadonlyArray<Approvals.Request>, ApprovalStore.ApprovalStoreError>
}

/** Where the store says it is (`directory` of an `ApprovalStore.Store`): never the URL, which may hold a password. */
export const location = "the cluster's PostgreSQL (table troupe_approvals)"

const table = "troupe_approvals"

// A bound on what one row may hold: a request's params come from a model.
const maxRequestChars = 64 * 1024

/** The most requests `list` and `records` read (the newest). */
export const maxListed = 10_000

const decodeRequest = Schema.decodeUnknownOption(Schema.fromJsonString(Approvals.Request))
const decodeDecision = Schema.decodeUnknownOption(Schema.fromJsonString(Approvals.Decision))

interface Row {
  readonly approval_id: string
  readonly request: string
  readonly requested_at: string | number
  readonly decision: string | null
  readonly decided_at: string | number | null
}

const failed = (operation: string) => (error: { readonly _tag: string; readonly message?: string }) =>
  new ApprovalStore.ApprovalStoreError({
    operation,
    path: table,
    description: `${error._tag}${error.message === undefined ? "" : `: ${error.message.split("\n")[0]!.slice(0, 200)}`}`
  })

const recordOf = (row: Row): Entry | undefined => {
  const request = decodeRequest(row.request)
  if (request._tag === "None") return undefined
  const decision = row.decision === null ? undefined : decodeDecision(row.decision)
  return {
    request: request.value,
    requestedAt: Number(row.requested_at),
    ...(decision !== undefined && decision._tag === "Some"
      ? { decision: decision.value, decidedAt: Number(row.decided_at) }
      : {})
  }
}

/** The store over the `SqlClient` in context (the cluster's PostgreSQL), its table created when missing. */
export const make: Effect.Effect<Store, ApprovalStore.ApprovalStoreError, SqlClient.SqlClient> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    // Runners starting together may race to create it: a lost race is tried again, and then finds it.
    yield* sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
    approval_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    request TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    decision TEXT,
    decided_at BIGINT
  )`.pipe(Effect.retry({ times: 3, schedule: Schedule.spaced("100 millis") }), Effect.mapError(failed("create")))

    const rowOf = (approvalId: string) =>
      Effect.map(
        sql<Row>`SELECT * FROM ${sql(table)} WHERE approval_id = ${approvalId}`.pipe(Effect.mapError(failed("read"))),
        (rows) => (rows[0] === undefined ? undefined : recordOf(rows[0]))
      )

    // The newest `maxListed`, oldest first: a table that grew for years is not read whole.
    const records = Effect.map(
      sql<Row>`SELECT * FROM ${sql(table)} ORDER BY requested_at DESC, approval_id DESC LIMIT ${maxListed}`.pipe(
        Effect.mapError(failed("list"))
      ),
      (rows) => rows.flatMap((row) => recordOf(row) ?? []).reverse()
    )

    const pendingFor = (prefix: string) =>
      Effect.map(
        sql<Row>`SELECT * FROM ${sql(table)} WHERE decision IS NULL AND starts_with(run_id, ${prefix})
          ORDER BY requested_at, approval_id LIMIT 100`.pipe(Effect.mapError(failed("list"))),
        (rows) => rows.flatMap((row) => recordOf(row)?.request ?? [])
      )

    const decide = (approvalId: string, decision: Approvals.Decision) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        // Decided once: a second decision (another shell, the runner's own) finds the row taken.
        const rows = yield* sql`UPDATE ${sql(table)} SET decision = ${JSON.stringify(decision)}, decided_at = ${at}
        WHERE approval_id = ${approvalId} AND decision IS NULL RETURNING approval_id`.pipe(
          Effect.mapError(failed("decide"))
        )
        return rows.length > 0
      })

    const ask = (request: Approvals.Request) =>
      Effect.gen(function* () {
        const text = JSON.stringify(request)
        const stored =
          text.length <= maxRequestChars ? text : JSON.stringify({ ...request, params: "(too large to store)" })
        // A request asked again (its task taken over by another runner) keeps its row and any decision on it.
        yield* sql`INSERT INTO ${sql(table)} (approval_id, run_id, request, requested_at)
        VALUES (${request.approvalId}, ${request.runId}, ${stored}, ${yield* Clock.currentTimeMillis})
        ON CONFLICT (approval_id) DO NOTHING`.pipe(Effect.mapError(failed("write")))
      })

    const gate = (options: { readonly approveAsk?: boolean; readonly pollEvery?: Duration.Input } = {}) => {
      const inProcess = Approvals.makeGate({ approveAsk: options.approveAsk ?? false })
      const waiting = new Map<
        string,
        { readonly request: Approvals.Request; readonly decision: Deferred.Deferred<Approvals.Decision> }
      >()
      const pollEvery = Duration.fromInputUnsafe(options.pollEvery ?? "250 millis")
      const fromTable = (approvalId: string): Effect.Effect<Approvals.Decision> =>
        Effect.gen(function* () {
          while (true) {
            const found = yield* rowOf(approvalId).pipe(Effect.orElseSucceed(() => undefined))
            if (found?.decision !== undefined) return found.decision
            yield* Effect.sleep(pollEvery)
          }
        })
      const self: Approvals.Gate = {
        decide: (request) =>
          Effect.gen(function* () {
            if (request.policy !== "ask" || options.approveAsk === true) return yield* inProcess.decide(request)
            // Pending here before it is in the table: whoever sees it there finds it pending in this process too.
            const local = Deferred.makeUnsafe<Approvals.Decision>()
            waiting.set(request.approvalId, { request, decision: local })
            const decision = yield* Effect.andThen(
              ask(request).pipe(Effect.retry({ times: 5, schedule: Schedule.exponential("200 millis") }), Effect.orDie),
              Effect.raceFirst(Deferred.await(local), fromTable(request.approvalId))
            ).pipe(Effect.ensuring(Effect.sync(() => waiting.delete(request.approvalId))))
            // A decision made here is recorded in the table too, as the record of who decided and when.
            yield* decide(request.approvalId, decision).pipe(Effect.ignore)
            return decision
          }),
        pending: Effect.sync(() => [...waiting.values()].map((w) => w.request)),
        resolve: (approvalId, decision) =>
          Effect.suspend(() => {
            const entry = waiting.get(approvalId)
            return entry === undefined ? Effect.succeed(false) : Deferred.succeed(entry.decision, decision)
          })
      }
      return self
    }

    const list = Effect.map(records, (all) =>
      all.map(({ decidedAt: _, ...stored }): ApprovalStore.Stored => stored as ApprovalStore.Stored)
    )
    return { directory: location, list, records, pendingFor, decide, gate }
  }
)

/**
 * The store of the cluster whose storage is `postgres`, over a small pool of its own (two connections) that lives as
 * long as the scope: for a runner's agents (`troupe runner --wait`), `troupe approvals --postgres` and the server.
 */
export const connect = (
  postgres: string | Redacted.Redacted<string>
): Effect.Effect<Store, ApprovalStore.ApprovalStoreError, Scope.Scope> =>
  Effect.flatMap(
    Layer.build(Runner.postgres(postgres, 2)).pipe(
      Effect.catchCause(() =>
        Effect.fail(
          new ApprovalStore.ApprovalStoreError({
            operation: "connect to",
            path: "PostgreSQL",
            description: "unreachable"
          })
        )
      )
    ),
    (context) => Effect.provide(make, context)
  )
