import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { schemaName } from "../recorder.ts"
import { troupe } from "../support.ts"

/** A temp dir with a workspace, a TROUPE_HOME and a spec in it. */
const setup = (specYaml: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "troupe-run-"))
      const workspace = join(dir, "work")
      writeFileSync(join(dir, "agent.yaml"), specYaml)
      mkdirSync(workspace)
      return { dir, workspace, home: join(dir, "home"), spec: join(dir, "agent.yaml") }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const toolMessages = (request: FakeServer.Received) =>
  ((request.body as { messages: Array<{ role: string }> }).messages ?? []).filter((m) => m.role === "tool").length

/**
 * A model that plans nothing, makes the given tool calls one per turn, then answers, and reflects done with
 * `answer`.
 */
const scripted = (calls: ReadonlyArray<{ name: string; arguments: unknown }>, answer: string) =>
  FakeOpenAi.make({
    turns: (request) => {
      const name = schemaName(request)
      if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
      if (name === "reflection") {
        return { text: JSON.stringify({ outcome: "done", reasoning: "finished", progress: [], answer }) }
      }
      const step = toolMessages(request)
      return step < calls.length ? { toolCalls: [calls[step]!] } : { text: answer }
    }
  })

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split("\n").at(-1)!)

describe("troupe run", () => {
  it.live("a question for a person (ask_human) without a terminal stops the run, resumable: exit 3", () =>
    Effect.gen(function* () {
      const t = yield* setup(["name: asker", "memory: { enabled: false }", "tools:", "  - ask_human"].join("\n"))
      const server = yield* scripted(
        [{ name: "ask_human", arguments: { question: "Which colour should the logo be? \u001b]0;pwned\u0007" } }],
        "Blue it is"
      )
      const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
      const run = yield* troupe(["run", t.spec, "--goal", "pick a colour", "--workspace", t.workspace, "--json"], env)
      assert.strictEqual(run.code, 3, run.stderr)
      const result = lastJson(run.stdout)
      assert.strictEqual(result.status, "awaiting-answer")
      assert.include(run.stderr, `troupe run --resume ${result.runId}`)
      assert.include(run.stderr, "answer")
      // The question's escape sequence never reaches the terminal.
      assert.notInclude(run.stdout + run.stderr, "\u001b]0;")
    })
  )

  it.live(
    "runs an agent to its end in a workspace: real files written, the trail verifies",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(
          ["name: writer", "memory: { enabled: false }", "tools:", '  - fs_write: { paths: ["notes/**"] }'].join("\n")
        )
        const server = yield* scripted(
          [{ name: "fs_write", arguments: { path: "notes/hello.md", content: "Hello, workspace." } }],
          "Wrote notes/hello.md"
        )
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
        const run = yield* troupe(
          ["run", t.spec, "--goal", "write a hello note", "--workspace", t.workspace, "--json"],
          env
        )
        assert.strictEqual(run.code, 0, run.stderr)
        const result = lastJson(run.stdout)
        assert.strictEqual(result.status, "done")
        assert.strictEqual(result.steps, 2)
        assert.strictEqual(readFileSync(join(t.workspace, "notes/hello.md"), "utf8"), "Hello, workspace.")
        assert.isTrue(existsSync(join(t.home, "runs", result.runId, "audit.jsonl")))
        const verify = yield* troupe(["audit", result.runId, "--verify"], env)
        assert.strictEqual(verify.code, 0, verify.stderr)
        const timeline = yield* troupe(["audit", result.runId], env)
        assert.include(timeline.stdout, "AgentToolCalled")
        // Tampering is caught, naming the entry.
        const trail = join(t.home, "runs", result.runId, "audit.jsonl")
        writeFileSync(trail, readFileSync(trail, "utf8").replace("Hello, workspace.", "Hello, attacker."))
        const tampered = yield* troupe(["audit", result.runId, "--verify"], env)
        assert.strictEqual(tampered.code, 1)
      }),
    60_000
  )

  it.live(
    "without a terminal an approval stops the run with exit 3; approved from another shell with --wait it goes on",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(["name: cleaner", "memory: { enabled: false }", "tools:", "  - fs_delete"].join("\n"))
        writeFileSync(join(t.workspace, "old.txt"), "old")
        const server = yield* scripted([{ name: "fs_delete", arguments: { path: "old.txt" } }], "Deleted old.txt")
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
        const args = ["run", t.spec, "--goal", "delete old.txt", "--workspace", t.workspace, "--json"]
        const stopped = yield* troupe(args, env)
        assert.strictEqual(stopped.code, 3, stopped.stderr)
        assert.strictEqual(lastJson(stopped.stdout).status, "awaiting-approval")
        assert.isTrue(existsSync(join(t.workspace, "old.txt")))
        const list = yield* troupe(["approvals", "list"], env)
        assert.include(list.stdout, "pending")
        assert.include(list.stdout, "fs_delete")

        // With --wait, a decision from another process lets the run go on.
        const pendingIds = (stdout: string) =>
          stdout
            .split("\n")
            .filter((l) => l.includes("pending"))
            .map((l) => l.split(/\s+/)[0]!)
        const before = pendingIds(list.stdout)
        const waiting = yield* Effect.forkChild(troupe([...args, "--wait"], env))
        let id: string | undefined
        while (id === undefined) {
          yield* Effect.sleep("200 millis")
          const listed = yield* troupe(["approvals", "list"], env)
          id = pendingIds(listed.stdout).find((p) => !before.includes(p))
        }
        const approve = yield* troupe(["approvals", "approve", id], env)
        assert.strictEqual(approve.code, 0, approve.stderr)
        const finished = yield* Fiber.join(waiting)
        assert.strictEqual(finished.code, 0, finished.stderr)
        assert.isFalse(existsSync(join(t.workspace, "old.txt")))
      }),
    90_000
  )

  it.live(
    "exit codes: 2 for a bad spec (positioned), 4 when a budget runs out, 1 when the provider fails",
    () =>
      Effect.gen(function* () {
        const bad = yield* setup("name: Bad Name\nlimts: {}\n")
        const invalid = yield* troupe(["run", bad.spec, "--goal", "x", "--workspace", bad.workspace], {})
        assert.strictEqual(invalid.code, 2)
        assert.match(invalid.stderr, /agent\.yaml:1:7: /)

        const t = yield* setup(
          ["name: looper", "memory: { enabled: false }", "tools: [fs_list]", "limits: { maxSteps: 2 }"].join("\n")
        )
        const server = yield* scripted(
          Array.from({ length: 5 }, (_, i) => ({ name: "fs_list", arguments: { path: `.${"/.".repeat(i)}` } })),
          "never"
        )
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
        const budget = yield* troupe(
          ["run", t.spec, "--goal", "list forever", "--workspace", t.workspace, "--json"],
          env
        )
        assert.strictEqual(budget.code, 4, budget.stderr)
        assert.strictEqual(lastJson(budget.stdout).status, "budget-exceeded")

        const failing = yield* FakeOpenAi.make({ faults: () => ({ _tag: "Status", status: 401, message: "bad key" }) })
        const failed = yield* troupe(["run", t.spec, "--goal", "x", "--workspace", t.workspace], {
          ...env,
          OPENAI_BASE_URL: failing.url
        })
        assert.strictEqual(failed.code, 1)
        assert.notInclude(failed.stderr, "sk-test")
      }),
    90_000
  )
})
