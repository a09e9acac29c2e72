import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { agentOf, messages, teamTurns } from "../recorder.ts"
import { troupe } from "../support.ts"

const teamYaml = [
  "name: notes-team",
  "manager: { name: lead, persona: Team lead, memory: { enabled: false } }",
  "agents:",
  '  - { name: writer, description: Writes notes, memory: { enabled: false }, tools: [{ fs_write: { paths: ["notes/**"] } }] }',
  "  - { name: checker, description: Checks notes, memory: { enabled: false }, tools: [fs_read] }"
].join("\n")

// A team whose one member deletes a file: irreversible, so it asks first.
const cleanersYaml = [
  "name: cleaners",
  "manager: { name: lead, memory: { enabled: false } }",
  "agents:",
  "  - { name: cleaner, description: Removes old files, memory: { enabled: false }, tools: [fs_delete] }"
].join("\n")

// The same team whose policy refuses deletions: nothing waits for a person.
const refusersYaml = cleanersYaml
  .replace("name: cleaners", "name: refusers")
  .replace("tools: [fs_delete] }", "tools: [fs_delete], approvals: { tools: { fs_delete: deny } } }")

const cleanup = [
  { id: "clean", title: "Remove old.txt", task: "Delete old.txt", dependsOn: [], capabilities: ["fs_delete"] }
]

/** A temp dir with a workspace, a TROUPE_HOME and the team file. */
const setup = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-orchestrate-"))
    const workspace = join(dir, "work")
    mkdirSync(workspace)
    writeFileSync(join(dir, "team.yaml"), teamYaml)
    writeFileSync(join(dir, "agent.yaml"), "name: alone\n")
    writeFileSync(join(dir, "cleaners.yaml"), cleanersYaml)
    writeFileSync(join(dir, "refusers.yaml"), refusersYaml)
    return {
      dir,
      workspace,
      home: join(dir, "home"),
      team: join(dir, "team.yaml"),
      agent: join(dir, "agent.yaml"),
      cleaners: join(dir, "cleaners.yaml"),
      refusers: join(dir, "refusers.yaml")
    }
  }),
  ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const answers: Record<string, string> = {
  writer: "Wrote notes/hello.md",
  checker: "The note reads well",
  cleaner: "Deleted old.txt"
}

const notes = [
  {
    id: "write",
    title: "Write the note",
    task: "Write notes/hello.md",
    dependsOn: [],
    capabilities: ["fs_write"],
    agent: "writer"
  },
  {
    id: "check",
    title: "Check the note",
    task: "Read notes/hello.md and judge it",
    dependsOn: ["write"],
    capabilities: ["fs_read"]
  }
]

const firstCall: Record<string, { readonly name: string; readonly arguments: unknown }> = {
  writer: { name: "fs_write", arguments: { path: "notes/hello.md", content: "Hello, team." } },
  checker: { name: "fs_read", arguments: { path: "notes/hello.md" } },
  cleaner: { name: "fs_delete", arguments: { path: "old.txt" } }
}

/**
 * The team over the real OpenAI adapter: the lead decomposes into `subtasks`, each member makes its one tool call and
 * answers (the checker gives up when told to).
 */
const server = (checker: "done" | "give-up", subtasks: ReadonlyArray<unknown> = notes) =>
  FakeOpenAi.make({
    turns: teamTurns({
      subtasks,
      reflection: (agent) =>
        agent === "checker" && checker === "give-up"
          ? { outcome: "give-up", reasoning: `the note is missing a title${hostile}`, progress: [] }
          : { outcome: "done", reasoning: "finished", progress: [], answer: answers[agent] },
      act: (request, agent) => {
        const usedTool = messages(request).some((m) => m.role === "tool")
        const call = firstCall[agent]
        return usedTool || call === undefined ? { text: answers[agent] ?? "done" } : { toolCalls: [call] }
      }
    })
  })

// What a hostile model might answer: a clipboard write and a colour change, which must never reach a terminal.
const hostile = "\u001b]52;c;ZXZpbA==\u0007\u001b[31m"

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split("\n").at(-1)!)

describe("troupe orchestrate", () => {
  it.live(
    "a team pursues a goal end to end: decomposed, delegated, real files written, one verified trail",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const fake = yield* server("done")
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home, HOME: t.dir }
        const args = [
          "orchestrate",
          "--goal",
          "write a note and check it",
          "--team",
          t.team,
          "--workspace",
          t.workspace
        ]
        const run = yield* troupe([...args, "--json"], env)
        assert.strictEqual(run.code, 0, run.stderr)
        const result = lastJson(run.stdout)
        assert.strictEqual(result.status, "done")
        assert.deepStrictEqual(
          result.subtasks.map((s: { id: string; agent: string; answer: string }) => [s.id, s.agent, s.answer]),
          [
            ["write", "writer", "Wrote notes/hello.md"],
            ["check", "checker", "The note reads well"]
          ]
        )
        assert.strictEqual(result.audit, "intact")
        assert.isAbove(result.costUsd, 0)
        assert.strictEqual(result.steps, 4)
        assert.strictEqual(readFileSync(join(t.workspace, "notes/hello.md"), "utf8"), "Hello, team.")
        // The checker was handed the writer's answer.
        const checkerAsked = fake.requests
          .filter((r) => agentOf(r) === "checker")
          .flatMap((r) => messages(r).filter((m) => m.role === "user"))
          .map((m) => JSON.stringify(m.content))
          .join("\n")
        assert.include(checkerAsked, "write (writer): Wrote notes/hello.md")
        // The orchestration's own trail verifies with the usual command and names its agents' runs.
        const verify = yield* troupe(["audit", result.orchestrationId, "--verify"], env)
        assert.strictEqual(verify.code, 0, verify.stderr)
        const trail = readFileSync(join(t.home, "runs", result.orchestrationId, "audit.jsonl"), "utf8")
        for (const s of result.subtasks) assert.include(trail, s.runIds[0])

        // Without --json: the plan, each subtask and the report, for people.
        const plain = yield* troupe(args, env)
        assert.strictEqual(plain.code, 0, plain.stderr)
        assert.include(plain.stdout, "plan by lead: write; check (after write)")
        assert.include(plain.stdout, "check done by checker: The note reads well")
        assert.match(plain.stdout, /orchestration orch-[0-9T]+-[a-z0-9]+: done, 2 subtasks, 4 steps/)
      }),
    90_000
  )

  it.live(
    "exit codes: 1 when a subtask fails for good (naming it), 2 for an agent file or a missing team",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const fake = yield* server("give-up")
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home, HOME: t.dir }
        const failed = yield* troupe(
          ["orchestrate", "--goal", "write and check", "--team", t.team, "--workspace", t.workspace, "--json"],
          env
        )
        assert.strictEqual(failed.code, 1, failed.stderr)
        const result = lastJson(failed.stdout)
        assert.strictEqual(result.status, "failed")
        assert.strictEqual(result.error.tag, "SubtaskFailed")
        assert.include(failed.stderr, "subtask check failed after 2 attempts (checker): the agent gave up")
        // The model's words reach the terminal stripped of escape sequences, in the JSON and the message alike.
        assert.notInclude(failed.stdout + failed.stderr, "\u001b")
        const plain = yield* troupe(
          ["orchestrate", "--goal", "write and check", "--team", t.team, "--workspace", t.workspace],
          env
        )
        assert.strictEqual(plain.code, 1)
        assert.include(plain.stdout, "check failed on checker (GaveUp")
        assert.notInclude(plain.stdout + plain.stderr, "\u001b")
        assert.strictEqual(result.audit, "intact")

        const agent = yield* troupe(["orchestrate", "--goal", "x", "--team", t.agent, "--workspace", t.workspace], env)
        assert.strictEqual(agent.code, 2)
        assert.include(agent.stderr, "is one agent, not a team")
        const missing = yield* troupe(
          ["orchestrate", "--goal", "x", "--team", join(t.dir, "nope.yaml"), "--workspace", t.workspace],
          env
        )
        assert.strictEqual(missing.code, 2)
        const device = yield* troupe(
          ["orchestrate", "--goal", "x", "--team", "/dev/zero", "--workspace", t.workspace],
          env
        )
        assert.strictEqual(device.code, 2)
      }),
    90_000
  )

  it.live(
    "exit 3 without a terminal when a member waits for an approval; --yes approves it and the team finishes",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        writeFileSync(join(t.workspace, "old.txt"), "old")
        const fake = yield* server("done", cleanup)
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home, HOME: t.dir }
        const args = ["orchestrate", "--goal", "remove old.txt", "--team", t.cleaners, "--workspace", t.workspace]
        const waiting = yield* troupe([...args, "--json"], env)
        assert.strictEqual(waiting.code, 3, waiting.stderr)
        assert.strictEqual(lastJson(waiting.stdout).status, "awaiting-approval")
        assert.include(waiting.stderr, "cleaner waits for approval")
        assert.isTrue(existsSync(join(t.workspace, "old.txt")))
        const approved = yield* troupe([...args, "--yes", "--json"], env)
        assert.strictEqual(approved.code, 0, approved.stderr)
        assert.strictEqual(lastJson(approved.stdout).status, "done")
        assert.isFalse(existsSync(join(t.workspace, "old.txt")))
      }),
    90_000
  )

  it.live(
    "a call the policy denies does not stop the team without a terminal: the member is told and the team finishes",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        writeFileSync(join(t.workspace, "old.txt"), "old")
        const fake = yield* server("done", cleanup)
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home, HOME: t.dir }
        const run = yield* troupe(
          ["orchestrate", "--goal", "remove old.txt", "--team", t.refusers, "--workspace", t.workspace, "--json"],
          env
        )
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(lastJson(run.stdout).status, "done")
        assert.isTrue(existsSync(join(t.workspace, "old.txt")), "the denied deletion did not run")
        const afterDenial = fake.requests.find(
          (r) => agentOf(r) === "cleaner" && messages(r).some((m) => m.role === "tool")
        )
        assert.isDefined(afterDenial, "the cleaner was asked again after its call was refused")
      }),
    90_000
  )

  it.live(
    "exit 4 when the team budget runs out, across its agents",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const fake = yield* server("done")
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, TROUPE_HOME: t.home, HOME: t.dir }
        const run = yield* troupe(
          [
            "orchestrate",
            "--goal",
            "write",
            "--team",
            t.team,
            "--workspace",
            t.workspace,
            "--max-steps",
            "3",
            "--json"
          ],
          env
        )
        assert.strictEqual(run.code, 4, run.stderr)
        const result = lastJson(run.stdout)
        assert.strictEqual(result.status, "budget-exceeded")
        assert.strictEqual(result.error.tag, "TeamBudgetExceeded")
        assert.include(run.stderr, "team budget exceeded: steps 4 of 3")
        assert.strictEqual(result.audit, "intact")
      }),
    90_000
  )
})
