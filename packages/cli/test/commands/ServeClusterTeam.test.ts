import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ThrowawayPostgres } from "@troupe/cluster"
import { FakeOpenAi } from "@troupe/providers/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { daemon, requestWith } from "../daemon.ts"
import { messages, teamTurns } from "../recorder.ts"
import { clusterEnv, tempDir } from "../support.ts"

/**
 * `troupe serve --postgres --team`: the server's team plans here and its member's subtask runs on a `troupe runner
 * --wait`; the call the member's policy asks about waits in the cluster's PostgreSQL and is approved over the
 * server's own API (`POST /approvals/{id}/approve`), recorded as decided by the token's name.
 */

const token = "serve-cluster-team-0123456789"

const teamYaml = [
  "name: far-team",
  "manager: { name: lead, memory: { enabled: false } }",
  "agents:",
  '  - { name: recorder, description: Records, memory: { enabled: false }, tools: [{ shell_run: { allow: ["node"] } }] }'
].join("\n")

const recorder = `import { appendFileSync } from "node:fs"
appendFileSync("ledger.log", (process.argv[2] ?? "") + "\\n")
console.log("recorded")
`

const subtasks = [
  { id: "rec", title: "Record", task: "Record the key far", dependsOn: [], capabilities: ["shell_run"] }
]

const model = FakeOpenAi.make({
  turns: teamTurns({
    subtasks,
    reflection: () => ({ outcome: "done", reasoning: "done", progress: [], answer: "Recorded far" }),
    act: (request) =>
      messages(request).some((m) => m.role === "tool")
        ? { text: "Recorded far" }
        : { toolCalls: [{ name: "shell_run", arguments: { command: "node", args: ["record.mjs", "far"] } }] }
  })
})

const request = requestWith(token)

describe("troupe serve --postgres --team", () => {
  it.live(
    "a team goal's subtask runs on a runner, and its approval is decided over the server's API",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("troupe-serve-team-")
        const work = join(dir, "work")
        mkdirSync(work)
        writeFileSync(join(work, "record.mjs"), recorder)
        writeFileSync(join(dir, "team.yaml"), teamYaml)
        const fake = yield* model
        const postgres = yield* ThrowawayPostgres.make()
        const env = clusterEnv(dir, fake.url, { TROUPE_TOKEN: token })
        // The runner and the server share nothing but the database: each its own $TROUPE_HOME.
        const runner = yield* daemon(
          ["runner", "--postgres", postgres.url, "--workspace", work, "--wait"],
          { ...env, TROUPE_HOME: join(dir, "runner-home") },
          /^runner (\S+) ready/m
        )
        yield* Deferred.await(runner.ready).pipe(Effect.timeout("60 seconds"))
        const server = yield* daemon(
          ["serve", "--port", "0", "--postgres", postgres.url, "--team", join(dir, "team.yaml"), "--workspace", dir],
          { ...env, TROUPE_HOME: join(dir, "server-home") },
          /listening on (http:\/\/[0-9.]+:\d+)/
        )
        const url = yield* Deferred.await(server.ready).pipe(Effect.timeout("60 seconds"))

        const submitted = yield* request(`${url}/goals`, { method: "POST", body: { goal: "Record far" } })
        assert.strictEqual(submitted.status, 202, submitted.body)
        const job = JSON.parse(submitted.body)
        const ended = yield* Effect.forkChild(request(`${url}/jobs/${job.id}/events`))

        let pending: string | undefined
        for (let i = 0; i < 300 && pending === undefined; i++) {
          yield* Effect.sleep("200 millis")
          const listed = JSON.parse((yield* request(`${url}/approvals`)).body) as Array<{
            request: { approvalId: string; tool: string }
            decision?: unknown
          }>
          pending = listed.find((s) => s.decision === undefined && s.request.tool === "shell_run")?.request.approvalId
        }
        if (pending === undefined) return assert.fail("no approval of the runner's task was listed by the server")
        assert.isFalse(existsSync(join(work, "ledger.log")))
        const approved = yield* request(`${url}/approvals/${pending}/approve`, { method: "POST" })
        assert.strictEqual(approved.status, 200, approved.body)

        yield* Fiber.join(ended).pipe(Effect.timeout("60 seconds"))
        const done = JSON.parse((yield* request(`${url}/jobs/${job.id}`)).body)
        assert.strictEqual(done.state, "done", JSON.stringify(done))
        assert.include(done.answer, "Recorded far")
        assert.strictEqual(readFileSync(join(work, "ledger.log"), "utf8"), "far\n")
        // The subtask ran on the runner, and its trail there records who approved the call: the token's name.
        const runId = `${job.id}.rec.1`
        const ranThere = new RegExp(`^task ${runId.replace(/\./g, "\\.")} done$`, "m")
        for (let i = 0; i < 200 && !ranThere.test(runner.output.stdout); i++) yield* Effect.sleep("50 millis")
        assert.match(runner.output.stdout, ranThere)
        const decided = readFileSync(join(dir, "runner-home", "runs", runId, "audit.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
          .find((e) => e.type === "AgentApprovalDecided")
        assert.deepStrictEqual([decided?.data.approved, decided?.data.by], [true, "TROUPE_TOKEN"])
      }).pipe(Effect.scoped),
    180_000
  )
})
