import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { troupe } from "../support.ts"

/**
 * `troupe run --resume`: a `troupe run` killed with SIGKILL at several points, then resumed. A shell command counts
 * the side effects in `counter.txt` (one line each); the fake server counts the model calls.
 */

const spec = (approvals: string) =>
  [
    "name: counter",
    "memory: { enabled: false }",
    "reflection: { everySteps: 10 }",
    "tools:",
    "  - shell_run: { allow: [sh] }",
    approvals
  ].join("\n")

const setup = (specYaml: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "troupe-resume-"))
      const workspace = join(dir, "work")
      writeFileSync(join(dir, "agent.yaml"), specYaml)
      mkdirSync(workspace)
      return { dir, workspace, home: join(dir, "home"), spec: join(dir, "agent.yaml") }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const bump = { name: "shell_run", arguments: { command: "sh", args: ["-c", "echo bump >> counter.txt"] } }

const toolMessages = (request: FakeServer.Received) =>
  ((request.body as { messages: Array<{ role: string }> }).messages ?? []).filter((m) => m.role === "tool").length

const schemaName = (request: FakeServer.Received) =>
  (request.body as { response_format?: { json_schema?: { name?: string } } }).response_format?.json_schema?.name

/**
 * The model: no plan, two counter bumps (one a turn), an answer, a reflection saying done. In order, requests are
 * plan, bump, bump, answer, reflection. `hangAt` makes the request of that index (counted over the server's life)
 * never answer.
 */
const model = (hang: { at: number | undefined }) =>
  FakeOpenAi.make({
    turns: (request) => {
      const name = schemaName(request)
      if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
      if (name === "reflection") {
        return { text: JSON.stringify({ outcome: "done", reasoning: "counted", progress: [], answer: "counted" }) }
      }
      return toolMessages(request) < 2 ? { toolCalls: [bump] } : { text: "counted twice" }
    },
    faults: (index) => (index === hang.at ? FakeServer.hang : undefined)
  })

const base = { OPENAI_API_KEY: "sk-test" }

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split("\n").at(-1)!)

const counted = (workspace: string) =>
  existsSync(join(workspace, "counter.txt"))
    ? readFileSync(join(workspace, "counter.txt"), "utf8").trim().split("\n").length
    : 0

describe("troupe run --resume", () => {
  // Killed while the model is asked for the second bump, for the answer, and for the reflection.
  for (const killAt of [2, 3, 4]) {
    it.live(
      `killed with SIGKILL at model call ${killAt + 1}: resumed, no side effect twice, no completed call asked again`,
      () =>
        Effect.gen(function* () {
          const t = yield* setup(spec("approvals: { tools: { shell_run: auto } }"))
          const hang = { at: killAt as number | undefined }
          const server = yield* model(hang)
          const env = { ...base, OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
          const first = yield* Effect.forkChild(
            troupe(["run", t.spec, "--goal", "bump the counter twice", "--workspace", t.workspace], env, {
              onStart: (child) => {
                const timer = setInterval(() => {
                  if (server.requests.length > killAt) {
                    clearInterval(timer)
                    child.kill("SIGKILL")
                  }
                }, 5)
              }
            })
          )
          const killed = yield* Fiber.join(first)
          assert.strictEqual(killed.code, -1, killed.stderr)
          const runId = readdirSync(join(t.home, "runs"))[0]
          const bumpsBefore = Math.min(killAt - 1, 2)
          assert.strictEqual(counted(t.workspace), bumpsBefore)
          assert.strictEqual(server.requests.length, killAt + 1)

          hang.at = undefined
          const resumed = yield* troupe(["run", "--resume", runId!, "--json"], env)
          assert.strictEqual(resumed.code, 0, resumed.stderr)
          const result = lastJson(resumed.stdout)
          assert.strictEqual(result.status, "done")
          assert.strictEqual(result.runId, runId)
          // Every bump exactly once, and only the call in flight at the kill asked again: five calls in all, plus one.
          assert.strictEqual(counted(t.workspace), 2)
          assert.strictEqual(server.requests.length, 6)
          const verify = yield* troupe(["audit", runId!, "--verify"], env)
          assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr)
          const trail = readFileSync(join(t.home, "runs", runId!, "audit.jsonl"), "utf8")
          assert.strictEqual(trail.split("\n").filter((l) => l.includes('"AgentRunStarted"')).length, 1)
          assert.include(trail, '"AuditResumed"')
          assert.include(trail, '"idempotencyKey"')
        }),
      90_000
    )
  }

  it.live(
    "an approval pending across processes: exit 3, approved from another process, then --resume finishes",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(spec(""))
        const server = yield* model({ at: undefined })
        const env = { ...base, OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
        const stopped = yield* troupe(
          ["run", t.spec, "--goal", "bump the counter twice", "--workspace", t.workspace, "--json"],
          env
        )
        assert.strictEqual(stopped.code, 3, stopped.stderr)
        const runId = lastJson(stopped.stdout).runId as string
        assert.strictEqual(counted(t.workspace), 0)
        assert.strictEqual(server.requests.length, 2)

        // Resumed before anyone decided: it waits for the same approval again.
        const still = yield* troupe(["run", "--resume", runId, "--json"], env)
        assert.strictEqual(still.code, 3, still.stderr)
        assert.strictEqual(server.requests.length, 2, "the plan and the call are not asked again")
        const approvalId = /approvals approve (\S+)/.exec(still.stderr)?.[1]
        assert.isDefined(approvalId)
        assert.include(stopped.stderr, approvalId!)

        const approve = yield* troupe(["approvals", "approve", approvalId!], env)
        assert.strictEqual(approve.code, 0, approve.stderr)
        // The second bump asks again; decided from another process while the run waits (--wait).
        const finishing = yield* Effect.forkChild(troupe(["run", "--resume", runId, "--json", "--wait"], env))
        let second: string | undefined
        while (second === undefined) {
          yield* Effect.sleep("200 millis")
          const listed = yield* troupe(["approvals", "list"], env)
          second = listed.stdout
            .split("\n")
            .filter((l) => l.includes("pending"))
            .map((l) => l.split(/\s+/)[0]!)
            .find((id) => id !== approvalId)
        }
        assert.strictEqual(counted(t.workspace), 1)
        const approveSecond = yield* troupe(["approvals", "approve", second], env)
        assert.strictEqual(approveSecond.code, 0, approveSecond.stderr)
        const finished = yield* Fiber.join(finishing)
        assert.strictEqual(finished.code, 0, finished.stderr)
        assert.strictEqual(lastJson(finished.stdout).status, "done")
        assert.strictEqual(counted(t.workspace), 2)
        // plan, bump, bump, answer, reflection: each asked once.
        assert.strictEqual(server.requests.length, 5)
        const verify = yield* troupe(["audit", runId, "--verify"], env)
        assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr)
      }),
    120_000
  )

  it.live("--resume of an unknown run, or of a run whose spec changed, is bad input", () =>
    Effect.gen(function* () {
      const t = yield* setup(spec("approvals: { tools: { shell_run: auto } }"))
      const server = yield* model({ at: undefined })
      const env = { ...base, OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
      const unknown = yield* troupe(["run", "--resume", "../../etc"], env)
      assert.strictEqual(unknown.code, 2)
      assert.include(unknown.stderr, "not a run id")
      const absent = yield* troupe(["run", "--resume", "20261130T000000-absent"], env)
      assert.strictEqual(absent.code, 2)
      assert.include(absent.stderr, "no run 20261130T000000-absent")
      const done = yield* troupe(["run", t.spec, "--goal", "bump", "--workspace", t.workspace, "--json"], env)
      assert.strictEqual(done.code, 0, done.stderr)
      writeFileSync(t.spec, `${readFileSync(t.spec, "utf8")}\ndescription: changed\n`)
      const changed = yield* troupe(["run", "--resume", lastJson(done.stdout).runId], env)
      assert.strictEqual(changed.code, 2)
      assert.include(changed.stderr, "changed")
    })
  )
})
