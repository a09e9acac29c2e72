/**
 * `troupe run` at a real terminal (a `tmux` pseudo-terminal): the agent's question (`ask_human`) is asked there and
 * the person's line goes back to the model. Skipped, saying so, where `tmux` is not installed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "../recorder.ts"
import { root } from "../support.ts"
import { hasTmux, terminalIn } from "../terminal.ts"

const toolResults = (request: FakeServer.Received): ReadonlyArray<string> =>
  ((request.body as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? [])
    .filter((m) => m.role === "tool")
    .map((m) => JSON.stringify(m.content))

describe("troupe run (at a terminal)", () => {
  it.live.skipIf(!hasTmux)("asks the agent's question at the terminal and gives the model the person's answer", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "troupe-run-tty-"))
      const workspace = join(dir, "work")
      mkdirSync(workspace)
      writeFileSync(
        join(dir, "agent.yaml"),
        ["name: asker", "memory: { enabled: false }", "tools:", "  - ask_human"].join("\n")
      )
      const tty = yield* terminalIn(dir)
      const server = yield* FakeOpenAi.make({
        turns: (request) => {
          const name = schemaName(request)
          if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
          const answered = toolResults(request).find((r) => r.includes("teal"))
          if (name === "reflection") {
            return {
              text: JSON.stringify({ outcome: "done", reasoning: "asked", progress: [], answer: "The logo is teal." })
            }
          }
          return answered === undefined
            ? { toolCalls: [{ name: "ask_human", arguments: { question: "Which colour should the logo be?" } }] }
            : { text: "The logo is teal." }
        }
      })
      const env = [
        `PATH=${process.env.PATH ?? ""}`,
        `HOME=${dir}`,
        `TROUPE_HOME=${join(dir, "home")}`,
        "OPENAI_API_KEY=sk-test",
        `OPENAI_BASE_URL=${server.url}`,
        "TERM=xterm-256color",
        ...(process.env.TROUPE_BUNDLE === undefined ? [] : [`TROUPE_BUNDLE=${process.env.TROUPE_BUNDLE}`])
      ]
      const exitFile = join(dir, "exit-code")
      const node = `${root}node_modules/.bin/node`
      const args = ["run", join(dir, "agent.yaml"), "--goal", "pick the logo colour", "--workspace", workspace]
      yield* tty.start(
        `env -i ${env.map((e) => `'${e}'`).join(" ")} '${node}' '${root}packages/cli/src/bin.ts' ${args.map((a) => `'${a}'`).join(" ")}; echo $? > '${exitFile}'; sleep 30`,
        workspace
      )
      yield* tty.waitFor("the question", (s) => s.includes("Which colour should the logo be?") && s.includes("> "))
      yield* tty.type("teal, please")
      yield* tty.keys("Enter")
      yield* tty.waitFor("the answer", (s) => s.includes("The logo is teal.") && existsSync(exitFile))
      assert.strictEqual(readFileSync(exitFile, "utf8").trim(), "0")
      // The person's line reached the model as the tool's result.
      assert.isTrue(server.requests.some((r) => toolResults(r).some((t) => t.includes("teal, please"))))
    }).pipe(Effect.scoped)
  )
})
