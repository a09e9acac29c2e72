import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { schemaName } from "../recorder.ts"
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

/**
 * The model: no plan, `bumps` counter bumps (one a turn, two by default), an answer, a reflection saying done. In
 * order, requests are plan, bump, bump, answer, reflection. `hang.at` makes the request of that index (counted over
 * the server's life) never answer.
 */
const model = (hang: { at: number | undefined }, bumps = 2) =>
  FakeOpenAi.make({
    turns: (request) => {
      const name = schemaName(request)
      if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
      if (name === "reflection") {
        return { text: JSON.stringify({ outcome: "done", reasoning: "counted", progress: [], answer: "counted" }) }
      }
      return toolMessages(request) < bumps ? { toolCalls: [bump] } : { text: `counted ${bumps}` }
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
          let running: { kill: (signal: NodeJS.Signals) => boolean } | undefined
          const first = yield* Effect.forkChild(
            troupe(["run", t.spec, "--goal", "bump the counter twice", "--workspace", t.workspace], env, {
              onStart: (child) => {
                running = child
              }
            })
          )
          // The request of index killAt never answers: the run waits there until it is killed.
          while (server.requests.length <= killAt) yield* Effect.sleep("20 millis")
          const runId = readdirSync(join(t.home, "runs"))[0]
          if (killAt === 2) {
            // While it runs, a second process may not replay the same journal.
            const twice = yield* troupe(["run", "--resume", runId!, "--json"], env)
            assert.strictEqual(twice.code, 2, twice.stderr)
            assert.include(twice.stderr, `run ${runId} is running in process`)
            assert.strictEqual(server.requests.length, killAt + 1)
          }
          running!.kill("SIGKILL")
          const killed = yield* Fiber.join(first)
          assert.strictEqual(killed.code, -1, killed.stderr)
          // The lock of the killed process is left behind; the resume below takes it over.
          assert.isTrue(existsSync(join(t.home, "runs", runId!, "run.lock")))
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
          assert.isFalse(existsSync(join(t.home, "runs", runId!, "run.lock")), "released at the end")
        }),
      90_000
    )
  }

  // One bump that waits for a person: plan, bump (exit 3), then after the resume the answer and the reflection.
  for (const decision of ["approve", "deny"] as const) {
    it.live(
      `an approval pending across processes: exit 3, ${decision === "approve" ? "approved" : "denied"} from another process, then --resume goes on by that decision`,
      () =>
        Effect.gen(function* () {
          const t = yield* setup(spec(""))
          const server = yield* model({ at: undefined }, 1)
          const env = { ...base, OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
          const stopped = yield* troupe(
            ["run", t.spec, "--goal", "bump the counter once", "--workspace", t.workspace, "--json"],
            env
          )
          assert.strictEqual(stopped.code, 3, stopped.stderr)
          assert.strictEqual(lastJson(stopped.stdout).status, "awaiting-approval")
          const runId = lastJson(stopped.stdout).runId as string
          const approvalId = /approvals approve (\S+)/.exec(stopped.stderr)?.[1]
          assert.isDefined(approvalId)
          assert.strictEqual(counted(t.workspace), 0)
          assert.strictEqual(server.requests.length, 2)

          if (decision === "approve") {
            // Resumed before anyone decided: it waits for the same approval again, asking the model nothing.
            const still = yield* troupe(["run", "--resume", runId, "--json"], env)
            assert.strictEqual(still.code, 3, still.stderr)
            assert.include(still.stderr, `approvals approve ${approvalId}`)
            assert.strictEqual(server.requests.length, 2, "the plan and the call are not asked again")
          }

          const decided = yield* troupe(
            ["approvals", decision, approvalId!, ...(decision === "deny" ? ["--reason", "not today"] : [])],
            env
          )
          assert.strictEqual(decided.code, 0, decided.stderr)
          // No --wait: the decision is already in the store, and the resumed run takes it; a denial stands even
          // where --yes would approve the call.
          const finished = yield* troupe(
            ["run", "--resume", runId, "--json", ...(decision === "deny" ? ["--yes"] : [])],
            env
          )
          assert.strictEqual(finished.code, 0, finished.stderr)
          assert.strictEqual(lastJson(finished.stdout).status, "done")
          // The approved call ran exactly once; a denied one never.
          assert.strictEqual(counted(t.workspace), decision === "approve" ? 1 : 0)
          // plan, bump, answer, reflection: each asked once.
          assert.strictEqual(server.requests.length, 4)
          const answerRequest = JSON.stringify(server.requests[2]!.body)
          if (decision === "deny") assert.include(answerRequest, "not today", "the model is told of the denial")
          else assert.notInclude(answerRequest, "not today")
          const trail = readFileSync(join(t.home, "runs", runId, "audit.jsonl"), "utf8")
          const decisions = trail.split("\n").filter((l) => l.includes('"AgentApprovalDecided"'))
          assert.strictEqual(decisions.length, 1)
          assert.include(decisions[0]!, `"approved":${decision === "approve"}`)
          const verify = yield* troupe(["audit", runId, "--verify"], env)
          assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr)
        }),
      120_000
    )
  }

  it.live(
    "without a terminal only a call that waits for a person stops the run: --yes approves, a deny policy refuses",
    () =>
      Effect.gen(function* () {
        for (const [approvals, flags, bumps] of [
          ["", ["--yes"], 1],
          ["approvals: { tools: { shell_run: deny } }", [], 0]
        ] as const) {
          const t = yield* setup(spec(approvals))
          const server = yield* model({ at: undefined }, 1)
          const env = { ...base, OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
          const done = yield* troupe(
            ["run", t.spec, "--goal", "bump the counter once", "--workspace", t.workspace, "--json", ...flags],
            env
          )
          assert.strictEqual(done.code, 0, done.stderr)
          assert.strictEqual(lastJson(done.stdout).status, "done")
          assert.strictEqual(counted(t.workspace), bumps)
          assert.strictEqual(server.requests.length, 4)
          // Nothing was left waiting in the approvals store.
          assert.deepStrictEqual(
            existsSync(join(t.home, "approvals")) ? readdirSync(join(t.home, "approvals")) : [],
            []
          )
        }
      }),
    90_000
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
