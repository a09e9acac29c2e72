/**
 * Interactive mode at a real terminal: the command runs in a `tmux` pseudo-terminal, keys are typed into it and the
 * screen is read back. Skipped, saying so, where `tmux` is not installed (Debian: `apt-get install tmux`).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "../recorder.ts"
import { root } from "../support.ts"
import { hasTmux, terminalIn } from "../terminal.ts"

type Message = { readonly role: string; readonly content?: unknown }

const messagesOf = (request: FakeServer.Received): ReadonlyArray<Message> =>
  (request.body as { messages?: Array<Message> }).messages ?? []

// The person's line, without the earlier exchanges the session adds after it.
const taskOf = (request: FakeServer.Received) =>
  JSON.stringify(messagesOf(request).find((m) => m.role === "user")?.content ?? "").split(
    "Earlier in this conversation"
  )[0]!

const goal = (id: string, title: string) => ({
  id,
  title,
  status: "pending",
  dependsOn: [],
  acceptance: title,
  subgoals: []
})

const count = (text: string, part: string) => text.split(part).length - 1

describe("troupe (interactive mode, at a terminal)", () => {
  it.live.skipIf(!hasTmux)(
    "prompt, answer, a y/n approval, a plan approved before it runs, Ctrl-C cancelling a step, history, Ctrl-C twice",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "troupe-tty-"))
        const workspace = join(dir, "work")
        const home = join(dir, "home")
        mkdirSync(workspace)
        writeFileSync(join(workspace, "old.txt"), "old")
        const tty = yield* terminalIn(dir)

        const requests: { current: ReadonlyArray<FakeServer.Received> } = { current: [] }
        const answerOf = (task: string) =>
          task.includes("2+2") ? "The answer is 4." : task.includes("old.txt") ? "Deleted old.txt." : "Site planned."
        const server = yield* FakeOpenAi.make({
          turns: (request) => {
            const task = taskOf(request)
            const name = schemaName(request)
            if (name === "plan") {
              const goals = task.includes("site") ? [goal("pages", "Write the pages"), goal("style", "Style them")] : []
              return { text: JSON.stringify({ goals }) }
            }
            if (name === "reflection") {
              return {
                text: JSON.stringify({ outcome: "done", reasoning: "done", progress: [], answer: answerOf(task) })
              }
            }
            const called = messagesOf(request).some((m) => m.role === "tool")
            return task.includes("old.txt") && !called
              ? { toolCalls: [{ name: "fs_delete", arguments: { path: "old.txt" } }] }
              : { text: answerOf(task) }
          },
          // The step of the task that waits forever never gets its answer: only Ctrl-C ends it.
          faults: (index) => {
            const request = requests.current[index]
            return request !== undefined && schemaName(request) === undefined && taskOf(request).includes("forever")
              ? FakeServer.hang
              : undefined
          }
        })
        requests.current = server.requests

        const env = [
          `PATH=${process.env.PATH ?? ""}`,
          `HOME=${dir}`,
          `TROUPE_HOME=${home}`,
          "OPENAI_API_KEY=sk-test",
          `OPENAI_BASE_URL=${server.url}`,
          "TERM=xterm-256color",
          ...(process.env.TROUPE_BUNDLE === undefined ? [] : [`TROUPE_BUNDLE=${process.env.TROUPE_BUNDLE}`])
        ]
        const exitFile = join(dir, "exit-code")
        const node = `${root}node_modules/.bin/node`
        yield* tty.start(
          `env -i ${env.map((e) => `'${e}'`).join(" ")} '${node}' '${root}packages/cli/src/bin.ts'; echo $? > '${exitFile}'; sleep 30`,
          workspace
        )
        yield* tty.waitFor("the prompt", (s) => s.includes("Troupe: agent generic") && s.includes("troupe> "))

        // A question and its answer.
        yield* tty.type("what is 2+2?")
        yield* tty.keys("Enter")
        yield* tty.waitFor("the answer", (s) => s.includes("The answer is 4.") && count(s, "troupe> ") === 2)

        // A deletion waits for y.
        yield* tty.type("delete old.txt")
        yield* tty.keys("Enter")
        yield* tty.waitFor("the approval question", (s) => s.includes('Allow fs_delete {"path":"old.txt"}? [y/N]'))
        assert.isTrue(existsSync(join(workspace, "old.txt")))
        yield* tty.keys("y", "Enter")
        yield* tty.waitFor("the deletion", (s) => s.includes("Deleted old.txt.") && count(s, "troupe> ") === 3)
        assert.isFalse(existsSync(join(workspace, "old.txt")))

        // A plan of two goals is shown and nothing is acted on before it is approved.
        yield* tty.type("plan a small site")
        yield* tty.keys("Enter")
        yield* tty.waitFor("the plan question", (s) => s.includes("Go ahead with this plan? [Y/n]"))
        const screen = yield* tty.screen
        assert.include(screen, "  1. Write the pages")
        assert.include(screen, "  2. Style them")
        const acted = () => server.requests.filter((r) => taskOf(r).includes("site") && schemaName(r) === undefined)
        assert.strictEqual(acted().length, 0)
        yield* tty.keys("Enter")
        yield* tty.waitFor("the planned answer", (s) => s.includes("Site planned.") && count(s, "troupe> ") === 4)
        assert.strictEqual(acted().length, 1)

        // Ctrl-C cancels the step in progress, not the session.
        yield* tty.type("wait forever")
        yield* tty.keys("Enter")
        yield* server.waitFor((all) => all.some((r) => schemaName(r) === undefined && taskOf(r).includes("forever")))
        const hanging = server.requests.findIndex((r) => schemaName(r) === undefined && taskOf(r).includes("forever"))
        yield* tty.keys("C-c")
        yield* tty.waitFor("the cancellation", (s) => s.includes("cancelled") && count(s, "troupe> ") === 5)
        assert.strictEqual(yield* server.settled(hanging), "aborted")
        yield* tty.type("/cost")
        yield* tty.keys("Enter")
        yield* tty.waitFor("the cost", (s) => s.includes("this session: 4 runs"))

        // At the prompt, Ctrl-C twice leaves with 130.
        yield* tty.keys("C-c")
        yield* tty.waitFor("the hint", (s) => s.includes("(Ctrl-C again to leave, or /exit)"))
        yield* tty.keys("C-c")
        yield* Effect.gen(function* () {
          for (let i = 0; i < 300 && !existsSync(exitFile); i++) yield* Effect.sleep("100 millis")
        })
        assert.strictEqual(readFileSync(exitFile, "utf8").trim(), "130")

        // The prompts typed are kept for the next session; the answer to the approval question is not.
        const history = readFileSync(join(home, "history"), "utf8").split("\n")
        assert.deepStrictEqual(history.slice(0, 5), [
          "what is 2+2?",
          "delete old.txt",
          "plan a small site",
          "wait forever",
          "/cost"
        ])
      }).pipe(Effect.scoped),
    120_000
  )
})
