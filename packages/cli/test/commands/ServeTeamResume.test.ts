import type { ChildProcess } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ThrowawayPostgres } from "@troupe/cluster"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { counter, countingModel, decompositions, entries, teamYaml } from "../counters.ts"
import { daemon, requestWith } from "../daemon.ts"

/**
 * `troupe serve` killed with SIGKILL while a team goal runs, then started again: it resumes the orchestration from its
 * journal under the same id. Each member's one tool call appends its name to `counter.txt` (the side effects, one
 * line each, and so does a named agent's); the fake server counts the model calls. Here, and with the members (and a
 * named agent's run) on a cluster's runner, that server also stopped with SIGTERM once.
 */

const token = "serve-team-resume-0123456789"

// The second subtask builds on the first: the calls come in one order, which the kills below count on.
const subtasks = [
  { id: "first", title: "Count first", task: "Bump the counter", dependsOn: [], capabilities: [], agent: "alpha" },
  {
    id: "second",
    title: "Count second",
    task: "Bump the counter again",
    dependsOn: ["first"],
    capabilities: [],
    agent: "beta"
  }
]

const request = requestWith(token)

const json = (url: string) => Effect.map(request(url), (reply) => JSON.parse(reply.body))

const sseData = (body: string): Array<any> =>
  body
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)))

/** The approval of a `shell_run` call (of the run `of` picks, any by default), once the server lists it undecided. */
const pendingApproval = (url: string, of: (runId: string) => boolean = () => true) =>
  Effect.gen(function* () {
    for (let i = 0; i < 600; i++) {
      const listed = (yield* json(`${url}/approvals`)) as Array<{
        request: { approvalId: string; tool: string; runId: string }
        decision?: unknown
      }>
      const found = listed.find(
        (a) => a.decision === undefined && a.request.tool === "shell_run" && of(a.request.runId)
      )
      if (found !== undefined) return found.request.approvalId
      yield* Effect.sleep("100 millis")
    }
    return yield* Effect.die("no approval of a shell_run call was listed")
  })

const setup = (betaAuto: boolean) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "troupe-serve-team-resume-"))
      const work = join(dir, "work")
      mkdirSync(work)
      writeFileSync(join(dir, "team.yaml"), teamYaml(betaAuto))
      return { dir, work, home: join(dir, "home"), team: join(dir, "team.yaml") }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const listening = /listening on (http:\/\/[0-9.]+:\d+)/

describe("troupe serve: a team goal survives the server's SIGKILL", () => {
  it.live(
    "killed with a member's model call in flight: started again, the orchestration goes on under its id, nothing asked or done twice",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(true)
        // Request 7 is beta's answer after its counter bump: alpha's subtask is done, beta's is in flight.
        const hang = { at: 7 as number | undefined }
        const fake = yield* countingModel(subtasks, hang)
        const env = { TROUPE_TOKEN: token, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home }
        const args = ["serve", "--port", "0", "--team", t.team, "--workspace", t.work]
        const first = yield* daemon(args, env, listening)
        const url1 = yield* Deferred.await(first.ready).pipe(Effect.timeout("60 seconds"))
        const submitted = yield* request(`${url1}/goals`, { method: "POST", body: { goal: "count twice" } })
        assert.strictEqual(submitted.status, 202, submitted.body)
        const job = JSON.parse(submitted.body)
        assert.match(job.id, /^orch-/)
        for (let i = 0; i < 600 && fake.requests.length <= 7; i++) yield* Effect.sleep("50 millis")
        first.child.kill("SIGKILL")
        yield* Deferred.await(first.exited)
        assert.deepStrictEqual(counter(t.work), ["alpha", "beta"])
        assert.strictEqual(fake.requests.length, 8)

        hang.at = undefined
        const second = yield* daemon(args, env, listening)
        const url2 = yield* Deferred.await(second.ready).pipe(Effect.timeout("60 seconds"))
        const resumed = yield* json(`${url2}/jobs/${job.id}`)
        assert.strictEqual(resumed.id, job.id)
        assert.strictEqual(resumed.kind, "team")
        assert.strictEqual(resumed.goal, "count twice")
        assert.strictEqual(resumed.submittedBy, "TROUPE_TOKEN")
        // Its events, live from the restart to its end.
        const events = sseData((yield* request(`${url2}/jobs/${job.id}/events`)).body)
        assert.strictEqual(events.at(-1).type, "JobEnded")
        assert.isTrue(events.some((e) => e.type === "OrchestrationEnded"))
        const done = yield* json(`${url2}/jobs/${job.id}`)
        assert.strictEqual(done.state, "done", JSON.stringify(done))
        assert.strictEqual(done.spend.steps, 4, "the steps before the kill are carried")
        // Each tool call ran once; the decomposition was asked once; only the call in flight was asked again.
        assert.deepStrictEqual(counter(t.work), ["alpha", "beta"])
        assert.strictEqual(decompositions(fake), 1)
        assert.strictEqual(fake.requests.length, 10)
        assert.strictEqual(entries(t.home, job.id, "OrchestrationStarted").length, 1)
        assert.strictEqual(entries(t.home, job.id, "OrchestrationSubtaskSucceeded").length, 2)
        const verdict = yield* json(`${url2}/runs/${job.id}/audit/verify`)
        assert.isTrue(verdict.intact, verdict.lines?.join("\n"))
        // A third server finds nothing left to resume.
        second.child.kill("SIGKILL")
        yield* Deferred.await(second.exited)
        const third = yield* daemon(args, env, listening)
        const url3 = yield* Deferred.await(third.ready).pipe(Effect.timeout("60 seconds"))
        assert.strictEqual((yield* request(`${url3}/jobs/${job.id}`)).status, 404)
        assert.strictEqual(fake.requests.length, 10)
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "killed while a member's approval is pending: resumed with it pending, listed and decided over the API",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(false)
        const fake = yield* countingModel(subtasks, { at: undefined })
        const env = { TROUPE_TOKEN: token, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home }
        const args = ["serve", "--port", "0", "--team", t.team, "--workspace", t.work]
        const first = yield* daemon(args, env, listening)
        const url1 = yield* Deferred.await(first.ready).pipe(Effect.timeout("60 seconds"))
        const job = JSON.parse(
          (yield* request(`${url1}/goals`, { method: "POST", body: { goal: "count twice" } })).body
        )
        const approvalBefore = yield* pendingApproval(url1)
        first.child.kill("SIGKILL")
        yield* Deferred.await(first.exited)
        assert.deepStrictEqual(counter(t.work), ["alpha"])
        assert.strictEqual(fake.requests.length, 7, "the decomposition, alpha's four calls, beta's plan and its call")

        const second = yield* daemon(args, env, listening)
        const url2 = yield* Deferred.await(second.ready).pipe(Effect.timeout("60 seconds"))
        const approvalId = yield* pendingApproval(url2)
        assert.strictEqual(approvalId, approvalBefore)
        let waiting: any
        for (let i = 0; i < 200; i++) {
          waiting = yield* json(`${url2}/jobs/${job.id}`)
          if (waiting.state === "awaiting-approval") break
          yield* Effect.sleep("50 millis")
        }
        assert.deepStrictEqual([waiting.state, waiting.pendingApprovals], ["awaiting-approval", [approvalId]])
        assert.strictEqual(fake.requests.length, 7, "nothing asked again while it waits")
        const approved = yield* request(`${url2}/approvals/${approvalId}/approve`, { method: "POST" })
        assert.strictEqual(approved.status, 200, approved.body)
        const events = sseData((yield* request(`${url2}/jobs/${job.id}/events`)).body)
        assert.strictEqual(events.at(-1).type, "JobEnded")
        assert.isTrue(events.some((e) => e.type === "AgentApprovalDecided" && e.event.approvalId === approvalId))
        const done = yield* json(`${url2}/jobs/${job.id}`)
        assert.strictEqual(done.state, "done", JSON.stringify(done))
        assert.deepStrictEqual(counter(t.work), ["alpha", "beta"])
        assert.strictEqual(fake.requests.length, 9)
        assert.strictEqual(decompositions(fake), 1)
        const verdict = yield* json(`${url2}/runs/${job.id}/audit/verify`)
        assert.isTrue(verdict.intact, verdict.lines?.join("\n"))
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "a team file a request named: resumed when it can start again, not once it changed (its journal replays the team it started with)",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(false)
        const fake = yield* countingModel(subtasks, { at: undefined })
        const env = { TROUPE_TOKEN: token, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home }
        // No team of the server's own: the request names the team file under --specs.
        const args = ["serve", "--port", "0", "--specs", t.dir, "--workspace", t.work]
        const start = (environment: Record<string, string>) =>
          Effect.gen(function* () {
            const server = yield* daemon(args, environment, listening)
            const url = yield* Deferred.await(server.ready).pipe(Effect.timeout("60 seconds"))
            return { ...server, url }
          })
        const stop = (server: { readonly child: ChildProcess; readonly exited: Deferred.Deferred<number | null> }) =>
          Effect.andThen(
            Effect.sync(() => server.child.kill("SIGKILL")),
            Deferred.await(server.exited)
          )
        const first = yield* start(env)
        const submitted = yield* request(`${first.url}/goals`, {
          method: "POST",
          body: { goal: "count twice", team: "team.yaml" }
        })
        assert.strictEqual(submitted.status, 202, submitted.body)
        const job = JSON.parse(submitted.body)
        const approvalId = yield* pendingApproval(first.url)
        yield* stop(first)
        const asked = fake.requests.length

        // Started without the provider's key (nor a base URL that needs none) the team cannot start: the job waits
        // for a server that can.
        const { OPENAI_API_KEY: _key, OPENAI_BASE_URL: _url, ...keyless } = env
        const second = yield* start(keyless)
        assert.strictEqual((yield* request(`${second.url}/jobs/${job.id}`)).status, 404)
        assert.include(second.output.stdout + second.output.stderr, `job ${job.id} not resumed`)
        yield* stop(second)

        const third = yield* start(env)
        let waiting: any
        for (let i = 0; i < 200; i++) {
          waiting = yield* json(`${third.url}/jobs/${job.id}`)
          if (waiting.state === "awaiting-approval") break
          yield* Effect.sleep("50 millis")
        }
        assert.deepStrictEqual([waiting.state, waiting.pendingApprovals], ["awaiting-approval", [approvalId]])
        yield* stop(third)

        writeFileSync(t.team, teamYaml(true))
        const fourth = yield* start(env)
        assert.strictEqual((yield* request(`${fourth.url}/jobs/${job.id}`)).status, 404)
        assert.include(fourth.output.stdout + fourth.output.stderr, `job ${job.id} not resumed: its team changed`)
        assert.strictEqual(fake.requests.length, asked)
        assert.deepStrictEqual(counter(t.work), ["alpha"])
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "members on a cluster's runner and a named agent's run there, killed while their approvals wait, then stopped: resumed each time, the approvals decided over the last server's API, no task run twice",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(false)
        // An agent the requests name: its call asks (shell_run's default), like beta's.
        writeFileSync(
          join(t.dir, "tally.yaml"),
          "name: tally\nmemory: { enabled: false }\ntools: [{ shell_run: { allow: [sh] } }]\n"
        )
        const fake = yield* countingModel(subtasks, { at: undefined })
        const postgres = yield* ThrowawayPostgres.make()
        const env = { TROUPE_TOKEN: token, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, HOME: t.dir }
        // The runner and the server share nothing but the database: each its own $TROUPE_HOME.
        const runner = yield* daemon(
          ["runner", "--postgres", postgres.url, "--workspace", t.work, "--wait"],
          { ...env, TROUPE_HOME: join(t.dir, "runner-home") },
          /^runner (\S+) ready/m
        )
        yield* Deferred.await(runner.ready).pipe(Effect.timeout("60 seconds"))
        const serverEnv = { ...env, TROUPE_HOME: t.home }
        const args = ["serve", "--port", "0", "--postgres", postgres.url, "--team", t.team, "--workspace", t.work]
        args.push("--specs", t.dir)
        const first = yield* daemon(args, serverEnv, listening)
        const url1 = yield* Deferred.await(first.ready).pipe(Effect.timeout("60 seconds"))
        const submitted = yield* request(`${url1}/goals`, { method: "POST", body: { goal: "count twice" } })
        assert.strictEqual(submitted.status, 202, submitted.body)
        const job = JSON.parse(submitted.body)
        const agentSubmitted = yield* request(`${url1}/goals`, {
          method: "POST",
          body: { goal: "tally once", agent: "tally.yaml" }
        })
        assert.strictEqual(agentSubmitted.status, 202, agentSubmitted.body)
        const agentJob = JSON.parse(agentSubmitted.body)
        const ofTeam = (runId: string) => runId.startsWith(`${job.id}.`)
        const ofAgent = (runId: string) => runId === agentJob.id
        const approvalBefore = yield* pendingApproval(url1, ofTeam)
        const agentApproval = yield* pendingApproval(url1, ofAgent)
        first.child.kill("SIGKILL")
        yield* Deferred.await(first.exited)
        assert.deepStrictEqual(counter(t.work), ["alpha"])
        assert.strictEqual(
          fake.requests.length,
          9,
          "the decomposition, alpha's four calls, beta's plan and its call, tally's plan and its call"
        )

        const second = yield* daemon(args, serverEnv, listening)
        const url2 = yield* Deferred.await(second.ready).pipe(Effect.timeout("60 seconds"))
        const resumed = yield* json(`${url2}/jobs/${job.id}`)
        assert.strictEqual(resumed.id, job.id)
        assert.strictEqual(resumed.state, "running")
        assert.strictEqual((yield* json(`${url2}/jobs/${agentJob.id}`)).state, "running")
        assert.strictEqual(yield* pendingApproval(url2, ofTeam), approvalBefore)
        // Stopped gracefully this time (its cluster client closes while the orchestration still runs): the task in
        // flight is neither interrupted nor taken as failed, and the next server resumes the same.
        second.child.kill("SIGTERM")
        yield* Deferred.await(second.exited).pipe(Effect.timeout("60 seconds"))

        const third = yield* daemon(args, serverEnv, listening)
        const url3 = yield* Deferred.await(third.ready).pipe(Effect.timeout("60 seconds"))
        assert.strictEqual((yield* json(`${url3}/jobs/${job.id}`)).state, "running")
        assert.strictEqual((yield* json(`${url3}/jobs/${agentJob.id}`)).state, "running")
        // The approvals still wait on the runner, listed and decided through the new server.
        const approvalId = yield* pendingApproval(url3, ofTeam)
        assert.strictEqual(approvalId, approvalBefore)
        assert.strictEqual(yield* pendingApproval(url3, ofAgent), agentApproval)
        for (const id of [approvalId, agentApproval]) {
          const approved = yield* request(`${url3}/approvals/${id}/approve`, { method: "POST" })
          assert.strictEqual(approved.status, 200, approved.body)
        }
        for (const id of [job.id, agentJob.id]) {
          const events = sseData((yield* request(`${url3}/jobs/${id}/events`)).body)
          assert.strictEqual(events.at(-1).type, "JobEnded")
          const done = yield* json(`${url3}/jobs/${id}`)
          assert.strictEqual(done.state, "done", JSON.stringify(done))
        }
        // alpha's finished task was not submitted again, and the tasks in flight were waited for, not started anew.
        assert.deepStrictEqual([...counter(t.work)].sort(), ["alpha", "beta", "tally"])
        assert.strictEqual(fake.requests.length, 13)
        assert.strictEqual(decompositions(fake), 1)
        const started = runner.output.stdout.split("\n").filter((l) => l.startsWith("task ") && / started$/.test(l))
        const tasks = [`${job.id}.first.1`, `${job.id}.second.1`, agentJob.id].sort()
        assert.deepStrictEqual(
          started.sort(),
          tasks.map((id) => `task ${id} started`)
        )
        assert.deepStrictEqual(readdirSync(join(t.dir, "runner-home", "runs")).sort(), tasks)
        // Each attempt's outcome journalled once: alpha's answered from the journal (its task not submitted again).
        const journalled = readFileSync(join(t.home, "runs", job.id, "journal.jsonl"), "utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as { t: string; name?: string })
          .filter((l) => l.t === "activity" && /^subtask\/[a-z]+\/1$/.test(l.name ?? ""))
          .map((l) => l.name)
        assert.deepStrictEqual(journalled, ["subtask/first/1", "subtask/second/1"])
        const verdict = yield* json(`${url3}/runs/${job.id}/audit/verify`)
        assert.isTrue(verdict.intact, verdict.lines?.join("\n"))
      }).pipe(Effect.scoped),
    180_000
  )
})
