/**
 * The HTTP API of `troupe serve`, declared once with `effect/http-api`: the server is built from it
 * (`ServerHandlers`) and its OpenAPI document (`/openapi.json`) is derived from it.
 *
 * ```
 * POST /goals                      submit a goal to the server's team, or to a team file or agent spec it names
 * GET  /jobs                       the jobs the server remembers, oldest first
 * GET  /jobs/{id}                  where a submitted goal stands, its answer once it has one
 * GET  /jobs/{id}/events           its events as Server-Sent Events, from the first, until it ends
 * POST /jobs/{id}/cancel           asks it to stop: it ends as cancelled
 * GET  /approvals                  the approvals of the server's state directory, waiting or decided
 * POST /approvals/{id}/approve     approve a waiting tool call (recorded as decided by the token's name)
 * POST /approvals/{id}/deny        deny it, with a reason
 * GET  /runs/{id}/audit            a run's (or an orchestration's) audit trail
 * GET  /runs/{id}/audit/verify     whether that trail, and every run an orchestration links, is intact
 * ```
 *
 * Every endpoint is behind `Authorization: Bearer TOKEN` (`BearerAuth`); the server also refuses any other path,
 * the OpenAPI document and the MCP endpoint included, without it.
 */
import { ApprovalStore, AuditEntry } from "@troupe/agent"
import * as Context from "effect/Context"
import * as HttpApi from "effect/http-api/HttpApi"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as HttpApiSecurity from "effect/http-api/HttpApiSecurity"
import * as OpenApi from "effect/http-api/OpenApi"
import * as Schema from "effect/Schema"

// -----------------------------------------------------------------------------
// Authentication
// -----------------------------------------------------------------------------

/** Who made the request: the name of the token it presented. */
export class Caller extends Context.Service<Caller, { readonly name: string }>()("@troupe/server/Caller") {}

/** The request has no accepted bearer token. The message never repeats what was presented. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  { httpApiStatus: 401 }
) {}

/** Bearer-token authentication of every endpoint; provides the `Caller`. */
export class BearerAuth extends HttpApiMiddleware.Service<BearerAuth, { provides: Caller; requires: never }>()(
  "@troupe/server/BearerAuth",
  {
    security: { bearer: HttpApiSecurity.bearer },
    error: Unauthorized
  }
) {}

// -----------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------

/** No such job, run, trail or approval. */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  { httpApiStatus: 404 }
) {}

/** The request cannot be served as it is (a bad spec path, an invalid spec, both a team and an agent). */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message: Schema.String },
  { httpApiStatus: 400 }
) {}

/** The request conflicts with the state: the team or agent is busy, the approval already decided. */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { message: Schema.String },
  { httpApiStatus: 409 }
) {}

/** The server could not do it (its state directory, a trail it cannot read). */
export class ServerFailure extends Schema.TaggedError<ServerFailure>()(
  "ServerFailure",
  { message: Schema.String },
  { httpApiStatus: 500 }
) {}

// -----------------------------------------------------------------------------
// Jobs
// -----------------------------------------------------------------------------

/** The longest goal accepted, in characters. */
export const maxGoalLength = 20_000

/** A goal to pursue, by the server's team unless the request names a team file or an agent spec. */
export const SubmitGoal = Schema.Struct({
  goal: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(maxGoalLength)),
  /** A team file, relative to the server's spec directory. */
  team: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024))),
  /** An agent spec, relative to the server's spec directory. */
  agent: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024)))
})

/** Where a job stands. */
export const JobState = Schema.Literals([
  "running",
  "awaiting-approval",
  "done",
  "failed",
  "budget-exceeded",
  "cancelled"
])

/** Where a job stands. */
export type JobState = typeof JobState.Type

/** What a job spent. */
export const JobSpend = Schema.Struct({
  steps: Schema.Int,
  inputTokens: Schema.Int,
  outputTokens: Schema.Int,
  costUsd: Schema.Finite
})

/** A submitted goal: its id is the run's id (an agent) or the orchestration's (a team), and names its trail. */
export const Job = Schema.Struct({
  id: Schema.String,
  kind: Schema.Literals(["team", "agent"]),
  /** The team's or the agent's name. */
  name: Schema.String,
  goal: Schema.String,
  state: JobState,
  submittedBy: Schema.String,
  /** Epoch milliseconds. */
  startedAt: Schema.Finite,
  endedAt: Schema.optionalKey(Schema.Finite),
  answer: Schema.optionalKey(Schema.String),
  error: Schema.optionalKey(Schema.Struct({ tag: Schema.String, message: Schema.String })),
  spend: JobSpend,
  /** The ids of the approvals the job waits for. */
  pendingApprovals: Schema.Array(Schema.String),
  /** The agent runs of the job: the run itself, or every run of a team's orchestration. */
  runIds: Schema.Array(Schema.String)
})

/** A submitted goal. */
export type Job = typeof Job.Type

/** One event of a job, in order: an agent's (`Agent…`) or the orchestrator's (`Orchestration…`), JSON-encoded. */
export const JobEvent = Schema.Struct({
  seq: Schema.Int,
  type: Schema.String,
  agent: Schema.optionalKey(Schema.String),
  event: Schema.Json
})

/** One event of a job. */
export type JobEvent = typeof JobEvent.Type

// -----------------------------------------------------------------------------
// Approvals and trails
// -----------------------------------------------------------------------------

/** A denial's reason. */
export const DenyPayload = Schema.Struct({
  reason: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(2000)))
})

/** A decision taken over the API. */
export const Decided = Schema.Struct({
  approvalId: Schema.String,
  approved: Schema.Boolean,
  by: Schema.String
})

/** A run's trail, as far as the server reads it. */
export const Trail = Schema.Struct({
  runId: Schema.String,
  entries: Schema.Array(AuditEntry.AuditEntry),
  /** More entries follow than one response carries. */
  truncated: Schema.Boolean
})

/** Whether a trail is intact; for an orchestration, every run it links too. */
export const TrailVerdict = Schema.Struct({
  runId: Schema.String,
  intact: Schema.Boolean,
  verification: AuditEntry.Verification,
  /** One line per trail, for people. */
  lines: Schema.Array(Schema.String)
})

const id = { id: Schema.String.check(Schema.isMaxLength(128)) }

// -----------------------------------------------------------------------------
// The API
// -----------------------------------------------------------------------------

/** Goals and the jobs pursuing them. */
export class JobsGroup extends HttpApiGroup.make("jobs")
  .add(
    HttpApiEndpoint.post("submit", "/goals", {
      payload: SubmitGoal,
      success: Job.pipe(HttpApiSchema.status(202)),
      error: [InvalidRequest, Conflict, ServerFailure]
    }),
    HttpApiEndpoint.get("list", "/jobs", { success: Schema.Array(Job) }),
    HttpApiEndpoint.get("status", "/jobs/:id", { params: id, success: Job, error: NotFound }),
    HttpApiEndpoint.post("cancel", "/jobs/:id/cancel", {
      params: id,
      success: Job.pipe(HttpApiSchema.status(202)),
      error: [NotFound, Conflict]
    }),
    HttpApiEndpoint.get("events", "/jobs/:id/events", {
      params: id,
      success: HttpApiSchema.StreamSse({ data: JobEvent }),
      error: NotFound
    })
  )
  .middleware(BearerAuth)
  .annotateMerge(
    OpenApi.annotations({ title: "Jobs", description: "Submit goals, follow them, read their answers" })
  ) {}

/** The approvals waiting in the server's state directory. */
export class ApprovalsGroup extends HttpApiGroup.make("approvals")
  .add(
    HttpApiEndpoint.get("list", "/approvals", {
      success: Schema.Array(ApprovalStore.Stored),
      error: ServerFailure
    }),
    HttpApiEndpoint.post("approve", "/approvals/:id/approve", {
      params: id,
      success: Decided,
      error: [NotFound, Conflict, ServerFailure]
    }),
    HttpApiEndpoint.post("deny", "/approvals/:id/deny", {
      params: id,
      payload: DenyPayload,
      success: Decided,
      error: [NotFound, Conflict, ServerFailure]
    })
  )
  .middleware(BearerAuth)
  .annotateMerge(OpenApi.annotations({ title: "Approvals", description: "Tool calls waiting for a person" })) {}

/** Audit trails. */
export class AuditGroup extends HttpApiGroup.make("audit")
  .add(
    HttpApiEndpoint.get("read", "/runs/:id/audit", {
      params: id,
      success: Trail,
      error: [NotFound, InvalidRequest, ServerFailure]
    }),
    HttpApiEndpoint.get("verify", "/runs/:id/audit/verify", {
      params: id,
      success: TrailVerdict,
      error: [NotFound, InvalidRequest, ServerFailure]
    })
  )
  .middleware(BearerAuth)
  .annotateMerge(
    OpenApi.annotations({ title: "Audit", description: "Tamper-evident trails and their verification" })
  ) {}

/** The API of `troupe serve`. */
export class ServerApi extends HttpApi.make("troupe")
  .add(JobsGroup)
  .add(ApprovalsGroup)
  .add(AuditGroup)
  .annotateMerge(
    OpenApi.annotations({
      title: "Troupe",
      description: "A team of agents over HTTP: goals, their events, approvals and audit trails",
      version: "0.1.0"
    })
  ) {}
