import type { ChildProcess } from "node:child_process"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeHttps from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { schemaName } from "../recorder.ts"
import { troupe } from "../support.ts"

const token = "serve-test-0123456789abcdef"

const teamYaml = [
  "name: notes-team",
  "manager: { name: lead, persona: Team lead, memory: { enabled: false } }",
  "agents:",
  '  - { name: writer, description: Writes notes, memory: { enabled: false }, tools: [{ fs_write: { paths: ["notes/**"] } }] }'
].join("\n")

const setup = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-serve-"))
    for (const sub of ["work", "specs", "home"]) mkdirSync(join(dir, sub))
    writeFileSync(join(dir, "specs", "team.yaml"), teamYaml)
    return { dir, work: join(dir, "work"), specs: join(dir, "specs"), home: join(dir, "home") }
  }),
  ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

interface Message {
  readonly role: string
  readonly content?: unknown
}

const messagesOf = (request: FakeServer.Received) => (request.body as { messages: Array<Message> }).messages ?? []

/** The team over the real OpenAI adapter: the lead hands the writer one subtask, the writer writes and answers. */
const fakeModel = FakeOpenAi.make({
  turns: (request) => {
    switch (schemaName(request)) {
      case "decomposition":
        return {
          text: JSON.stringify({
            subtasks: [
              {
                id: "write",
                title: "Write",
                task: "Write notes/hello.md",
                dependsOn: [],
                capabilities: [],
                agent: "writer"
              }
            ]
          })
        }
      case "plan":
        return { text: JSON.stringify({ goals: [] }) }
      case "reflection":
        return { text: JSON.stringify({ outcome: "done", reasoning: "finished", progress: [], answer: "Wrote it" }) }
      default:
        return messagesOf(request).some((m) => m.role === "tool")
          ? { text: "Wrote it" }
          : { toolCalls: [{ name: "fs_write", arguments: { path: "notes/hello.md", content: "Hello." } }] }
    }
  }
})

interface Reply {
  readonly status: number
  readonly body: string
}

const request = (
  url: string,
  options: { readonly method?: string; readonly token?: string; readonly body?: unknown; readonly ca?: string } = {}
) =>
  Effect.callback<Reply, Error>((resume) => {
    const headers: Record<string, string> = {}
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    if (options.body !== undefined) headers["content-type"] = "application/json"
    const send = url.startsWith("https:") ? NodeHttps.request : NodeHttp.request
    const req = send(
      url,
      { method: options.method ?? "GET", headers, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          body += chunk
        })
        res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
      }
    )
    req.on("error", (error) => resume(Effect.fail(error)))
    if (options.body !== undefined) req.write(JSON.stringify(options.body))
    req.end()
    return Effect.sync(() => req.destroy())
  })

/** Starts `troupe serve` and waits for its listening line; the process is stopped with the scope. */
const serve = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function* () {
    const listening = yield* Deferred.make<{ readonly url: string; readonly child: ChildProcess }>()
    let stdout = ""
    const run = yield* Effect.forkScoped(
      troupe(["serve", "--port", "0", ...args], env, {
        onStdout: (child, chunk) => {
          stdout += chunk
          const url = /listening on (https?:\/\/[0-9.]+:\d+)/.exec(stdout)?.[1]
          if (url !== undefined) Deferred.doneUnsafe(listening, Effect.succeed({ url, child }))
        }
      })
    )
    const started = yield* Effect.raceFirst(
      Deferred.await(listening),
      Effect.flatMap(Fiber.join(run), (ended) => Effect.die(`troupe serve ended: ${ended.code} ${ended.stderr}`))
    )
    return { ...started, stdout: () => stdout, run }
  })

const sseData = (body: string): Array<any> =>
  body
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)))

describe("troupe serve", () => {
  it.live(
    "refuses to start without a token: exit 2 and one line naming the variable",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const missing = yield* troupe(["serve", "--specs", t.specs], { TROUPE_HOME: t.home })
        assert.strictEqual(missing.code, 2)
        assert.strictEqual(missing.stdout, "")
        const lines = missing.stderr.trimEnd().split("\n")
        assert.strictEqual(lines.length, 1, missing.stderr)
        assert.match(lines[0]!, /^troupe serve: TROUPE_TOKEN: no token is set/)

        const other = yield* troupe(["serve", "--token-env", "MY_TOKEN"], { TROUPE_TOKEN: token })
        assert.strictEqual(other.code, 2)
        assert.match(other.stderr, /^troupe serve: MY_TOKEN: no token is set/)

        const short = yield* troupe(["serve"], { TROUPE_TOKEN: "tiny-secret" })
        assert.strictEqual(short.code, 2)
        assert.match(short.stderr, /shorter than 16 characters/)
        assert.notInclude(short.stderr, "tiny-secret")

        const halfTls = yield* troupe(["serve", "--tls-cert", join(t.dir, "nope.pem")], { TROUPE_TOKEN: token })
        assert.strictEqual(halfTls.code, 2)
        assert.match(halfTls.stderr, /--tls-cert and --tls-key go together/)
        const notPem = join(t.dir, "secret.pem")
        writeFileSync(notPem, "OPENAI_API_KEY=sk-live-should-never-print\n")
        const badTls = yield* troupe(["serve", "--tls-cert", notPem, "--tls-key", notPem], { TROUPE_TOKEN: token })
        assert.strictEqual(badTls.code, 2)
        assert.notInclude(badTls.stderr, "sk-live")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "serves the team: anonymous requests refused, a goal submitted, its events, report and verified trail",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const fake = yield* fakeModel
        const server = yield* serve(["--team", join(t.specs, "team.yaml"), "--specs", t.specs, "--workspace", t.work], {
          TROUPE_TOKEN: token,
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: fake.url,
          TROUPE_HOME: t.home,
          HOME: t.dir
        })
        assert.match(
          server.stdout(),
          /team notes-team: writer; OpenAPI at http:\/\/127\.0\.0\.1:\d+\/openapi\.json; MCP at/
        )

        for (const path of ["/openapi.json", "/approvals", "/jobs/x/events", "/mcp"]) {
          assert.strictEqual((yield* request(`${server.url}${path}`)).status, 401, path)
          assert.strictEqual((yield* request(`${server.url}${path}`, { token: `${token}0` })).status, 401, path)
        }
        const submitted = yield* request(`${server.url}/goals`, {
          method: "POST",
          token,
          body: { goal: "Write a note" }
        })
        assert.strictEqual(submitted.status, 202, submitted.body)
        const job = JSON.parse(submitted.body)
        assert.strictEqual(job.submittedBy, "TROUPE_TOKEN")

        const events = sseData((yield* request(`${server.url}/jobs/${job.id}/events`, { token })).body)
        assert.strictEqual(events[0].type, "OrchestrationStarted")
        assert.strictEqual(events.at(-1).type, "JobEnded")
        assert.include(
          events.map((e) => e.type),
          "AgentToolCalled"
        )
        const done = JSON.parse((yield* request(`${server.url}/jobs/${job.id}`, { token })).body)
        assert.strictEqual(done.state, "done", JSON.stringify(done))
        assert.include(done.answer, "Wrote it")
        assert.strictEqual(readFileSync(join(t.work, "notes/hello.md"), "utf8"), "Hello.")
        const verdict = JSON.parse((yield* request(`${server.url}/runs/${job.id}/audit/verify`, { token })).body)
        assert.isTrue(verdict.intact, verdict.lines.join("\n"))

        server.child.kill("SIGTERM")
        const ended = yield* Fiber.join(server.run)
        assert.notStrictEqual(ended.code, -1)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "serves HTTPS with a self-signed certificate",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const key = join(t.dir, "key.pem")
        const cert = join(t.dir, "cert.pem")
        execFileSync(
          "openssl",
          ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1"].concat([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1"
          ]),
          { stdio: "ignore" }
        )
        const fake = yield* fakeModel
        const server = yield* serve(
          ["--team", join(t.specs, "team.yaml"), "--specs", t.specs, "--tls-cert", cert, "--tls-key", key],
          { TROUPE_TOKEN: token, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home }
        )
        assert.match(server.url, /^https:/)
        const ca = readFileSync(cert, "utf8")
        const document = yield* request(`${server.url}/openapi.json`, { token, ca })
        assert.strictEqual(document.status, 200)
        assert.strictEqual(JSON.parse(document.body).info.title, "Troupe")
        assert.strictEqual((yield* request(`${server.url}/openapi.json`, { ca })).status, 401)
        // A key that is not the certificate's is refused before anything listens.
        const otherKey = join(t.dir, "other.pem")
        execFileSync("openssl", ["genpkey", "-algorithm", "RSA", "-out", otherKey], { stdio: "ignore" })
        const mismatch = yield* troupe(["serve", "--tls-cert", cert, "--tls-key", otherKey], { TROUPE_TOKEN: token })
        assert.strictEqual(mismatch.code, 2)
        assert.match(mismatch.stderr, /--tls-key is not the private key of --tls-cert/)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "plain HTTP on an address other than loopback is served with a warning on stderr",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const server = yield* serve(["--host", "0.0.0.0", "--specs", t.specs], {
          TROUPE_TOKEN: token,
          TROUPE_HOME: t.home
        })
        server.child.kill("SIGTERM")
        const ended = yield* Fiber.join(server.run)
        assert.match(ended.stderr, /^troupe serve: warning: plain HTTP on 0\.0\.0\.0: bearer tokens cross the network/m)
        assert.notInclude(ended.stderr, token)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a job survives the server's SIGKILL: started again, the server resumes it at its approval, nothing done twice",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        writeFileSync(
          join(t.specs, "scribe.yaml"),
          "name: scribe\nmemory: { enabled: false }\ntools: [fs_write]\napprovals: { tools: { fs_write: ask } }\n"
        )
        const fake = yield* FakeOpenAi.make({
          turns: (request) => {
            switch (schemaName(request)) {
              case "plan":
                return { text: JSON.stringify({ goals: [] }) }
              case "reflection":
                return { text: JSON.stringify({ outcome: "done", reasoning: "done", progress: [], answer: "Scribed" }) }
              default:
                return messagesOf(request).some((m) => m.role === "tool")
                  ? { text: "Scribed" }
                  : { toolCalls: [{ name: "fs_write", arguments: { path: "scribe.md", content: "Once." } }] }
            }
          }
        })
        const env = { TROUPE_TOKEN: token, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home }
        const args = ["--specs", t.specs, "--workspace", t.work]
        const pendingFor = (url: string, runId: string) =>
          Effect.gen(function* () {
            for (let i = 0; i < 400; i++) {
              const reply = yield* request(`${url}/approvals`, { token })
              const found = (JSON.parse(reply.body) as Array<any>).find(
                (a) => a.request.runId === runId && a.decision === undefined
              )
              if (found !== undefined) return found.request.approvalId as string
              yield* Effect.sleep("50 millis")
            }
            return yield* Effect.die("no approval came")
          })

        const first = yield* serve(args, env)
        const submitted = yield* request(`${first.url}/goals`, {
          method: "POST",
          token,
          body: { goal: "Scribe once", agent: "scribe.yaml" }
        })
        const job = JSON.parse(submitted.body)
        const approvalBefore = yield* pendingFor(first.url, job.id)
        const callsBefore = fake.requests.length
        first.child.kill("SIGKILL")
        yield* Fiber.join(first.run)

        const second = yield* serve(args, env)
        const resumed = JSON.parse((yield* request(`${second.url}/jobs/${job.id}`, { token })).body)
        assert.strictEqual(resumed.id, job.id)
        assert.strictEqual(resumed.submittedBy, "TROUPE_TOKEN")
        const approvalId = yield* pendingFor(second.url, job.id)
        assert.strictEqual(approvalId, approvalBefore)
        const approved = yield* request(`${second.url}/approvals/${approvalId}/approve`, { method: "POST", token })
        assert.strictEqual(approved.status, 200, approved.body)
        const events = sseData((yield* request(`${second.url}/jobs/${job.id}/events`, { token })).body)
        assert.strictEqual(events.at(-1).type, "JobEnded")
        const done = JSON.parse((yield* request(`${second.url}/jobs/${job.id}`, { token })).body)
        assert.strictEqual(done.state, "done", JSON.stringify(done))
        assert.strictEqual(readFileSync(join(t.work, "scribe.md"), "utf8"), "Once.")
        // The plan and the call asking to write were answered from the journal: the model was not asked again.
        const plans = fake.requests.filter((r) => schemaName(r) === "plan").length
        assert.strictEqual(plans, 1)
        assert.strictEqual(fake.requests.length - callsBefore, 2)
        const verdict = JSON.parse((yield* request(`${second.url}/runs/${job.id}/audit/verify`, { token })).body)
        assert.isTrue(verdict.intact, verdict.lines.join("\n"))
        // A third server finds nothing left to resume.
        second.child.kill("SIGTERM")
        yield* Fiber.join(second.run)
        const third = yield* serve(args, env)
        assert.strictEqual((yield* request(`${third.url}/jobs/${job.id}`, { token })).status, 404)
      }).pipe(Effect.scoped),
    90_000
  )
})
