import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import {
  eventually,
  otherToken,
  request,
  selfSigned,
  services,
  sseData,
  startServer,
  tempDirs,
  token
} from "./support.ts"

const withServer = <A, E>(
  body: (
    server: Effect.Success<ReturnType<typeof startServer>>,
    dirs: Effect.Success<typeof tempDirs>
  ) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const dirs = yield* tempDirs
    const server = yield* startServer(dirs).pipe(Effect.provide(yield* services(dirs.work)))
    return yield* body(server, dirs)
  }).pipe(Effect.scoped)

describe("troupe serve: the API", () => {
  it.live("an agent's goal: submitted, its approval listed and approved, its events, result and trail", () =>
    withServer((server, dirs) =>
      Effect.gen(function* () {
        const submitted = yield* request(`${server.url}/goals`, {
          method: "POST",
          token,
          body: { goal: "Scribe a note", agent: "scribe.yaml" }
        })
        assert.strictEqual(submitted.status, 202, submitted.body)
        const job = JSON.parse(submitted.body)
        assert.strictEqual(job.kind, "agent")
        assert.strictEqual(job.name, "scribe")
        assert.strictEqual(job.submittedBy, "ana")

        // The write waits for a person: the approval is listed with the call it holds.
        const pending = yield* eventually(
          Effect.map(request(`${server.url}/approvals`, { token }), (reply) => {
            const list = JSON.parse(reply.body) as Array<any>
            return list.find((a) => a.request.runId === job.id && a.decision === undefined)
          })
        )
        assert.strictEqual(pending.request.tool, "fs_write")
        assert.deepStrictEqual(pending.request.params, { path: "scribe.md", content: "Scribed." })
        const waiting = JSON.parse((yield* request(`${server.url}/jobs/${job.id}`, { token })).body)
        assert.strictEqual(waiting.state, "awaiting-approval")
        assert.deepStrictEqual(waiting.pendingApprovals, [pending.request.approvalId])
        assert.isFalse(existsSync(join(dirs.work, "scribe.md")))

        const approved = yield* request(`${server.url}/approvals/${pending.request.approvalId}/approve`, {
          method: "POST",
          token
        })
        assert.strictEqual(approved.status, 200, approved.body)
        assert.deepStrictEqual(JSON.parse(approved.body), {
          approvalId: pending.request.approvalId,
          approved: true,
          by: "ana"
        })
        // Deciding twice is a conflict; an unknown approval is not found.
        const again = yield* request(`${server.url}/approvals/${pending.request.approvalId}/deny`, {
          method: "POST",
          token: otherToken,
          body: {}
        })
        assert.strictEqual(again.status, 409)
        assert.strictEqual(
          (yield* request(`${server.url}/approvals/nope/approve`, { method: "POST", token })).status,
          404
        )

        // The events, from the first, end with the job.
        const stream = yield* request(`${server.url}/jobs/${job.id}/events`, { token })
        assert.strictEqual(stream.status, 200)
        assert.match(String(stream.headers["content-type"]), /text\/event-stream/)
        const events = sseData(stream.body)
        const types = events.map((e) => e.type)
        assert.strictEqual(types[0], "AgentRunStarted")
        assert.strictEqual(types.at(-1), "JobEnded")
        assert.deepStrictEqual(
          events.map((e) => e.seq),
          events.map((_, i) => i)
        )
        const decided = events.find((e) => e.type === "AgentApprovalDecided")
        assert.strictEqual(decided.event.by, "ana")
        assert.isTrue(decided.event.approved)
        assert.include(types, "AgentToolResult")
        assert.include(types, "AgentRunEnded")

        const done = JSON.parse((yield* request(`${server.url}/jobs/${job.id}`, { token })).body)
        assert.strictEqual(done.state, "done")
        assert.strictEqual(done.answer, "Wrote scribe.md")
        assert.deepStrictEqual(done.runIds, [job.id])
        assert.isAbove(done.spend.steps, 0)
        assert.strictEqual(readFileSync(join(dirs.work, "scribe.md"), "utf8"), "Scribed.")

        // The trail: read, with the approval recorded as decided by the token's name, and verified.
        const trail = JSON.parse((yield* request(`${server.url}/runs/${job.id}/audit`, { token })).body)
        assert.strictEqual(trail.runId, job.id)
        assert.isFalse(trail.truncated)
        const decision = trail.entries.find((e: any) => e.type === "AgentApprovalDecided")
        assert.strictEqual(decision.data.by, "ana")
        const verdict = JSON.parse((yield* request(`${server.url}/runs/${job.id}/audit/verify`, { token })).body)
        assert.isTrue(verdict.intact)
        assert.strictEqual(verdict.verification._tag, "Intact")
        assert.strictEqual(verdict.verification.entries, trail.entries.length)

        // An edited entry is caught and named.
        const file = join(dirs.home, "runs", job.id, "audit.jsonl")
        writeFileSync(file, readFileSync(file, "utf8").replace('"by":"ana"', '"by":"eve"'))
        const broken = JSON.parse((yield* request(`${server.url}/runs/${job.id}/audit/verify`, { token })).body)
        assert.isFalse(broken.intact)
        assert.strictEqual(broken.verification._tag, "Broken")
        assert.match(broken.lines[0], /^broken at line \d+/)
      })
    )
  )

  it.live("a job waiting for its approval is cancelled over the API and ends as cancelled", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const submitted = yield* request(`${server.url}/goals`, {
          method: "POST",
          token,
          body: { goal: "Scribe a note", agent: "scribe.yaml" }
        })
        const job = JSON.parse(submitted.body)
        yield* eventually(
          Effect.map(request(`${server.url}/jobs/${job.id}`, { token }), (reply) =>
            JSON.parse(reply.body).state === "awaiting-approval" ? true : undefined
          )
        )
        const cancelled = yield* request(`${server.url}/jobs/${job.id}/cancel`, { method: "POST", token })
        assert.strictEqual(cancelled.status, 202, cancelled.body)
        const events = sseData((yield* request(`${server.url}/jobs/${job.id}/events`, { token })).body)
        assert.strictEqual(events.at(-1).type, "JobEnded")
        const ended = JSON.parse((yield* request(`${server.url}/jobs/${job.id}`, { token })).body)
        assert.strictEqual(ended.state, "cancelled", JSON.stringify(ended))
        assert.strictEqual(ended.error.tag, "RunCancelled")
        // Its approval no longer waits: it is recorded as denied by whoever cancelled the job.
        const closed = yield* eventually(
          Effect.map(request(`${server.url}/approvals`, { token }), (reply) => {
            const approval = (JSON.parse(reply.body) as Array<any>).find((a) => a.request.runId === job.id)
            return approval?.decision
          })
        )
        assert.deepStrictEqual(closed, { approved: false, by: "ana", reason: "the job was cancelled" })
        const again = yield* request(`${server.url}/jobs/${job.id}/cancel`, { method: "POST", token })
        assert.strictEqual(again.status, 409)
        assert.strictEqual((yield* request(`${server.url}/jobs/nope/cancel`, { method: "POST", token })).status, 404)
      })
    )
  )

  it.live(
    "the server's team: a goal decomposed and delegated, its events and report, its trail and runs verified",
    () =>
      withServer((server, dirs) =>
        Effect.gen(function* () {
          const submitted = yield* request(`${server.url}/goals`, {
            method: "POST",
            token: otherToken,
            body: { goal: "Write a note and check it" }
          })
          assert.strictEqual(submitted.status, 202, submitted.body)
          const job = JSON.parse(submitted.body)
          assert.strictEqual(job.kind, "team")
          assert.strictEqual(job.name, "notes-team")
          assert.strictEqual(job.submittedBy, "ci")
          assert.match(job.id, /^orch-/)

          const events = sseData((yield* request(`${server.url}/jobs/${job.id}/events`, { token })).body)
          const types = events.map((e) => e.type)
          assert.strictEqual(types[0], "OrchestrationStarted")
          assert.include(types, "OrchestrationPlanned")
          assert.include(types, "AgentRunStarted")
          assert.strictEqual(types.at(-1), "JobEnded")
          const agents = new Set(events.filter((e) => e.type.startsWith("Agent")).map((e) => e.agent))
          assert.deepStrictEqual([...agents].sort(), ["checker", "writer"])

          const done = JSON.parse((yield* request(`${server.url}/jobs/${job.id}`, { token })).body)
          assert.strictEqual(done.state, "done", JSON.stringify(done))
          assert.strictEqual(done.runIds.length, 2)
          assert.strictEqual(readFileSync(join(dirs.work, "notes/hello.md"), "utf8"), "Hello.")

          const verdict = JSON.parse((yield* request(`${server.url}/runs/${job.id}/audit/verify`, { token })).body)
          assert.isTrue(verdict.intact, verdict.lines.join("\n"))
          assert.strictEqual(verdict.lines.length, 3)
          assert.match(verdict.lines[0], new RegExp(`^orchestration ${job.id}: intact`))
        })
      )
  )

  it.live("goals for the server's team at once: one is taken, the others are conflicts and leave no job", () =>
    withServer((server) =>
      Effect.gen(function* () {
        const submit = (goal: string) => request(`${server.url}/goals`, { method: "POST", token, body: { goal } })
        const replies = yield* Effect.all([submit("Write a note"), submit("Write another"), submit("And another")], {
          concurrency: "unbounded"
        })
        assert.deepStrictEqual(
          replies.map((r) => r.status).sort(),
          [202, 409, 409],
          replies.map((r) => r.body).join("\n")
        )
        const taken = JSON.parse(replies.find((r) => r.status === 202)!.body)
        for (const refused of replies.filter((r) => r.status === 409)) {
          assert.match(JSON.parse(refused.body).message, /team notes-team is pursuing another goal/)
        }
        yield* request(`${server.url}/jobs/${taken.id}/events`, { token })
        const listed = JSON.parse((yield* request(`${server.url}/jobs`, { token })).body) as Array<{ id: string }>
        assert.deepStrictEqual(
          listed.map((j) => j.id),
          [taken.id]
        )
        const done = JSON.parse((yield* request(`${server.url}/jobs/${taken.id}`, { token })).body)
        assert.strictEqual(done.state, "done", JSON.stringify(done))
      })
    )
  )

  it.live(
    "bad requests: both a team and an agent, a path out of the spec directory, an invalid spec, no such job",
    () =>
      withServer((server, dirs) =>
        Effect.gen(function* () {
          const submit = (body: unknown) => request(`${server.url}/goals`, { method: "POST", token, body })
          const both = yield* submit({ goal: "x", team: "a.yaml", agent: "b.yaml" })
          assert.strictEqual(both.status, 400)
          const outside = yield* submit({ goal: "x", agent: "../home/approvals" })
          assert.strictEqual(outside.status, 400)
          assert.notInclude(outside.body, "home")
          const absolute = yield* submit({ goal: "x", agent: "/etc/passwd" })
          assert.strictEqual(absolute.status, 400)
          assert.notInclude(absolute.body, "root:")
          symlinkSync(join(dirs.home), join(dirs.specs, "out"))
          writeFileSync(join(dirs.home, "elsewhere.yaml"), "name: elsewhere\n")
          const throughLink = yield* submit({ goal: "x", agent: "out/elsewhere.yaml" })
          assert.strictEqual(throughLink.status, 400)
          writeFileSync(join(dirs.specs, "bad.yaml"), "name: Bad Name\nsecret: sk-live-0123456789abcdef\n")
          const invalid = yield* submit({ goal: "x", agent: "bad.yaml" })
          assert.strictEqual(invalid.status, 400)
          assert.notInclude(invalid.body, "sk-live")
          assert.match(JSON.parse(invalid.body).message, /does not validate \(\d+ problems\)/)
          // An agent named like the running team cannot take its place in the actor tree.
          writeFileSync(join(dirs.specs, "clash.yaml"), "name: notes-team\nmemory: { enabled: false }\n")
          const clash = yield* submit({ goal: "x", agent: "clash.yaml" })
          assert.strictEqual(clash.status, 409)
          assert.match(JSON.parse(clash.body).message, /already runs on this server/)
          const empty = yield* submit({ goal: "" })
          assert.strictEqual(empty.status, 400)
          assert.strictEqual((yield* request(`${server.url}/jobs/nope`, { token })).status, 404)
          assert.strictEqual((yield* request(`${server.url}/runs/nope/audit`, { token })).status, 404)
          const huge = yield* submit({ goal: "x".repeat(2 * 1024 * 1024) })
          assert.strictEqual(huge.status, 413)
        })
      )
  )
})

describe("troupe serve: bounded memory", () => {
  it.live("ended jobs past the limits are forgotten, oldest first; their trails stay on disk", () =>
    Effect.gen(function* () {
      const dirs = yield* tempDirs
      writeFileSync(join(dirs.specs, "quick.yaml"), "name: quick\nmemory: { enabled: false }\n")
      const server = yield* startServer(dirs, { limits: { maxEndedJobs: 1 } }).pipe(
        Effect.provide(yield* services(dirs.work))
      )
      const run = Effect.gen(function* () {
        const submitted = yield* request(`${server.url}/goals`, {
          method: "POST",
          token,
          body: { goal: "Answer", agent: "quick.yaml" }
        })
        const job = JSON.parse(submitted.body)
        yield* request(`${server.url}/jobs/${job.id}/events`, { token })
        return job.id as string
      })
      const first = yield* run
      const second = yield* run
      const third = yield* run
      const listed = JSON.parse((yield* request(`${server.url}/jobs`, { token })).body) as Array<any>
      assert.deepStrictEqual(
        listed.map((j) => j.id),
        [second, third]
      )
      assert.strictEqual((yield* request(`${server.url}/jobs/${first}`, { token })).status, 404)
      const verdict = JSON.parse((yield* request(`${server.url}/runs/${first}/audit/verify`, { token })).body)
      assert.isTrue(verdict.intact)
    }).pipe(Effect.scoped)
  )
})

describe("troupe serve: nothing anonymous gets in", () => {
  it.live(
    "the API, the SSE stream, the OpenAPI document, the MCP endpoint and unknown paths refuse a missing or wrong token",
    () =>
      withServer((server) =>
        Effect.gen(function* () {
          const targets: ReadonlyArray<{ readonly method: string; readonly path: string; readonly body?: unknown }> = [
            { method: "POST", path: "/goals", body: { goal: "anything" } },
            { method: "GET", path: "/jobs" },
            { method: "GET", path: "/jobs/any" },
            { method: "GET", path: "/jobs/any/events" },
            { method: "GET", path: "/approvals" },
            { method: "POST", path: "/approvals/any/approve" },
            { method: "GET", path: "/runs/any/audit/verify" },
            { method: "GET", path: "/openapi.json" },
            { method: "POST", path: "/mcp", body: { jsonrpc: "2.0", id: 1, method: "tools/list" } },
            { method: "GET", path: "/no/such/path" }
          ]
          const wrong = [
            {},
            { token: "ana-0123456789abcdeX" },
            { token: `${token}x` },
            { authorization: `Basic ${Buffer.from(`ana:${token}`).toString("base64")}` },
            { authorization: `Bearer` },
            { authorization: token }
          ]
          for (const target of targets) {
            for (const credentials of wrong) {
              const reply = yield* request(`${server.url}${target.path}`, {
                method: target.method,
                body: target.body,
                ...credentials
              })
              assert.strictEqual(reply.status, 401, `${target.method} ${target.path} ${JSON.stringify(credentials)}`)
              assert.notInclude(reply.body, token)
            }
          }
          // Nothing was started by the refused submissions.
          const approvals = yield* request(`${server.url}/approvals`, { token })
          assert.deepStrictEqual(JSON.parse(approvals.body), [])
          // With the token, the document describes the API and its bearer scheme.
          const document = yield* request(`${server.url}/openapi.json`, { token })
          assert.strictEqual(document.status, 200)
          const openapi = JSON.parse(document.body)
          assert.includeMembers(Object.keys(openapi.paths), [
            "/goals",
            "/jobs",
            "/jobs/{id}",
            "/jobs/{id}/events",
            "/jobs/{id}/cancel",
            "/approvals",
            "/approvals/{id}/approve",
            "/approvals/{id}/deny",
            "/runs/{id}/audit",
            "/runs/{id}/audit/verify"
          ])
          const schemes = Object.values(openapi.components.securitySchemes) as Array<any>
          assert.deepStrictEqual(
            schemes.map((s) => [s.type, s.scheme]),
            [["http", "Bearer"]]
          )
        })
      )
  )

  it.live("TLS: served over HTTPS with a self-signed certificate, plain HTTP refused", () =>
    Effect.gen(function* () {
      const dirs = yield* tempDirs
      const files = selfSigned(dirs.dir)
      const tls = { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") }
      const server = yield* startServer(dirs, { tls }).pipe(Effect.provide(yield* services(dirs.work)))
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
      const ok = yield* request(`${server.url}/openapi.json`, { token, ca: tls.cert })
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(JSON.parse(ok.body).info.title, "Troupe")
      const anonymous = yield* request(`${server.url}/approvals`, { ca: tls.cert })
      assert.strictEqual(anonymous.status, 401)
      // An untrusted certificate is refused by the client, and plain HTTP gets no answer from the TLS port.
      // A key that is not the certificate's is a typed failure before anything listens.
      const other = selfSigned(join(dirs.dir, "other"))
      const mismatch = yield* Effect.flip(
        startServer(dirs, { tls: { cert: tls.cert, key: readFileSync(other.key, "utf8") } }).pipe(
          Effect.provide(yield* services(dirs.work))
        )
      )
      assert.strictEqual((mismatch as { _tag?: string })._tag, "TlsInvalid")
      const untrusted = yield* Effect.flip(request(`${server.url}/openapi.json`, { token }))
      assert.match(untrusted.message, /self-signed|certificate/i)
      const plain = yield* Effect.result(request(`${server.url.replace("https:", "http:")}/openapi.json`, { token }))
      assert.isTrue(plain._tag === "Failure" || plain.success.status === 400)
    }).pipe(Effect.scoped)
  )
})
