/**
 * `troupe orchestrate` and a member's question (`ask_human`): without a terminal the orchestration stops with exit 3,
 * resumable; `--resume` at a real terminal (a `tmux` pseudo-terminal) asks the question again, and the person's line
 * goes to the model. Nothing completed before the stop is asked again. Skipped, saying so, where `tmux` is not
 * installed.
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

const toolResults = (request: FakeServer.Received): ReadonlyArray<string> =>
  ((request.body as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? [])
    .filter((m) => m.role === "tool")
    .map((m) => JSON.stringify(m.content))

const teamYaml = [
  "name: designers",
  "manager: { name: lead, memory: { enabled: false } }",
  "agents:",
  "  - { name: asker, description: Asks what it must know, memory: { enabled: false }, tools: [ask_human] }"
].join("\n")

const subtasks = [
  {
    id: "colour",
    title: "Pick the colour",
    task: "Ask which colour the logo should be",
    dependsOn: [],
    capabilities: ["ask_human"]
  }
]

describe("troupe orchestrate (a member's question)", () => {
  it.live.skipIf(!hasTmux)(
    "exit 3 without a terminal while a question waits; --resume at a terminal asks it again and finishes",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "troupe-orchestrate-question-"))
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        writeFileSync(join(dir, "team.yaml"), teamYaml)
        const tty = yield* terminalIn(dir)
        const server = yield* FakeOpenAi.make({
          turns: (request) => {
            const name = schemaName(request)
            if (name === "decomposition") return { text: JSON.stringify({ subtasks }) }
            if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
            if (name === "reflection") {
              return {
                text: JSON.stringify({ outcome: "done", reasoning: "asked", progress: [], answer: "The logo is teal." })
              }
            }
            return toolResults(request).some((r) => r.includes("teal"))
              ? { text: "The logo is teal." }
              : { toolCalls: [{ name: "ask_human", arguments: { question: "Which colour should the logo be?" } }] }
          }
        })
        const home = join(dir, "home")
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: home, HOME: dir }
        const stopped = yield* troupe(
          [
            "orchestrate",
            "--goal",
            "pick the logo colour",
            "--team",
            join(dir, "team.yaml"),
            "--workspace",
            workspace,
            "--json"
          ],
          env
        )
        assert.strictEqual(stopped.code, 3, stopped.stderr)
        const waiting = JSON.parse(stopped.stdout.trimEnd().split("\n").at(-1)!)
        assert.strictEqual(waiting.status, "awaiting-answer")
        const orchestrationId = waiting.orchestrationId as string
        assert.include(stopped.stderr, `troupe orchestrate --resume ${orchestrationId} at a terminal`)
        // The decomposition, the plan and the call that asks.
        assert.strictEqual(server.requests.length, 3)

        const shellEnv = Object.entries({ PATH: process.env.PATH ?? "", ...env, TERM: "xterm-256color" }).map(
          ([k, v]) => `${k}=${v}`
        )
        const exitFile = join(dir, "exit-code")
        const node = `${root}node_modules/.bin/node`
        const args = ["orchestrate", "--resume", orchestrationId]
        yield* tty.start(
          `env -i ${shellEnv.map((e) => `'${e}'`).join(" ")} '${node}' '${root}packages/cli/src/bin.ts' ${args.map((a) => `'${a}'`).join(" ")}; echo $? > '${exitFile}'; sleep 30`,
          workspace
        )
        yield* tty.waitFor("the question", (s) => s.includes("asker asks: Which colour should the logo be?"))
        yield* tty.type("teal, please")
        yield* tty.keys("Enter")
        yield* tty.waitFor("the end", () => existsSync(exitFile))
        assert.strictEqual(readFileSync(exitFile, "utf8").trim(), "0", yield* tty.screen)
        assert.isTrue(server.requests.some((r) => toolResults(r).some((t) => t.includes("teal, please"))))
        // Nothing asked twice: the answer and the reflection are the only calls after the stop.
        assert.strictEqual(server.requests.length, 5)
        assert.strictEqual(server.requests.filter((r) => schemaName(r) === "decomposition").length, 1)
        const verify = yield* troupe(["audit", orchestrationId, "--verify"], env)
        assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr)
      }).pipe(Effect.scoped),
    90_000
  )
})
