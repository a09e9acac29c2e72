/**
 * `troupe orchestrate` at a real terminal (a `tmux` pseudo-terminal): a member's call that waits for a person is
 * asked there, naming the member, and the answer decides it; a call the policy denies is never put to the person.
 * Skipped, saying so, where `tmux` is not installed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "../recorder.ts"
import { root, troupe } from "../support.ts"
import { hasTmux, terminalIn } from "../terminal.ts"

const messagesOf = (request: FakeServer.Received) =>
  (request.body as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? []

// The cleaner deletes (irreversible: asks first); the keeper's policy refuses its deletions outright.
const teamYaml = [
  "name: tidy",
  "manager: { name: lead, memory: { enabled: false } }",
  "agents:",
  "  - { name: cleaner, description: Removes old files, memory: { enabled: false }, tools: [fs_delete] }",
  "  - { name: keeper, description: Keeps files, memory: { enabled: false }, tools: [fs_delete], approvals: { tools: { fs_delete: deny } } }"
].join("\n")

const subtasks = [
  { id: "old", title: "Remove old.txt", task: "Delete old.txt", dependsOn: [], capabilities: [], agent: "cleaner" },
  {
    id: "keep",
    title: "Remove keep.txt",
    task: "Delete keep.txt",
    dependsOn: ["old"],
    capabilities: [],
    agent: "keeper"
  }
]

const systemOf = (request: FakeServer.Received) => {
  const system = messagesOf(request).find((m) => m.role === "system")
  return typeof system?.content === "string" ? system.content : ""
}

describe("troupe orchestrate (approvals at a terminal)", () => {
  it.live.skipIf(!hasTmux)(
    "a call waiting for a person is asked at the terminal, naming its member; a call the policy denies is not asked",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "troupe-orchestrate-approval-"))
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        writeFileSync(join(workspace, "old.txt"), "old")
        writeFileSync(join(workspace, "keep.txt"), "keep")
        writeFileSync(join(dir, "team.yaml"), teamYaml)
        const tty = yield* terminalIn(dir)
        const server = yield* FakeOpenAi.make({
          turns: (request) => {
            const name = schemaName(request)
            if (name === "decomposition") return { text: JSON.stringify({ subtasks }) }
            if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
            if (name === "reflection") {
              return { text: JSON.stringify({ outcome: "done", reasoning: "done", progress: [], answer: "Done." }) }
            }
            const keeper = systemOf(request).startsWith("You are keeper")
            if (messagesOf(request).some((m) => m.role === "tool")) return { text: "Done." }
            return { toolCalls: [{ name: "fs_delete", arguments: { path: keeper ? "keep.txt" : "old.txt" } }] }
          }
        })
        const env = {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: server.url,
          TROUPE_HOME: join(dir, "home"),
          HOME: dir
        }
        const shellEnv = Object.entries({ PATH: process.env.PATH ?? "", ...env, TERM: "xterm-256color" }).map(
          ([k, v]) => `${k}=${v}`
        )
        const exitFile = join(dir, "exit-code")
        const node = `${root}node_modules/.bin/node`
        const args = ["orchestrate", "--goal", "tidy up", "--team", join(dir, "team.yaml"), "--workspace", workspace]
        yield* tty.start(
          `env -i ${shellEnv.map((e) => `'${e}'`).join(" ")} '${node}' '${root}packages/cli/src/bin.ts' ${args.map((a) => `'${a}'`).join(" ")}; echo $? > '${exitFile}'; sleep 30`,
          workspace
        )
        yield* tty.waitFor("the approval prompt", (s) => s.includes("Approve cleaner: fs_delete"))
        yield* tty.type("y")
        yield* tty.keys("Enter")
        yield* tty.waitFor("the end", () => existsSync(exitFile))
        const screen = yield* tty.screen
        assert.strictEqual(readFileSync(exitFile, "utf8").trim(), "0", screen)
        assert.isFalse(existsSync(join(workspace, "old.txt")), "the approved deletion ran")
        assert.isTrue(existsSync(join(workspace, "keep.txt")), "the denied deletion did not run")
        assert.notInclude(screen, "Approve keeper", "a call the policy denies is not put to the person")
        // The person's decision is on record, with who made it.
        const decided = yield* troupe(["approvals", "list"], env)
        assert.match(decided.stdout, /approved by .*fs_delete/)
      }).pipe(Effect.scoped),
    90_000
  )
})
