/**
 * `troupe run` streams each step's text unless its output is JSON: the fake provider sends the opening of the answer
 * and holds the rest until the test has seen that opening (on a terminal's screen, or in the piped output); the run's
 * journal keeps the whole answer. The terminal test is skipped, saying so, where `tmux` is not installed (Debian:
 * `apt-get install tmux`).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "../recorder.ts"
import { heldServer, streamed } from "../streaming.ts"
import { root, troupe } from "../support.ts"
import { hasTmux, terminalIn } from "../terminal.ts"

const count = (text: string, part: string) => text.split(part).length - 1

const answer = "Once upon a time, the run streamed its answer."

describe("troupe run: streaming", () => {
  it.live(
    "piped: the opening of a step's text is written while the provider holds the rest; --json streams nothing",
    () =>
      Effect.gen(function* () {
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-run-pipe-"))),
          (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
        )
        mkdirSync(join(dir, "work"))
        writeFileSync(join(dir, "agent.yaml"), ["name: teller", "memory: { enabled: false }"].join("\n"))
        const gate = FakeServer.gate()
        const server = yield* heldServer(gate, answer, "told")
        const env = {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: server.url,
          TROUPE_HOME: join(dir, "home"),
          HOME: dir
        }
        const args = ["run", join(dir, "agent.yaml"), "--goal", "tell a story", "--workspace", join(dir, "work")]
        // What the output held when the opening first appeared, and whether the provider still held the rest then.
        let seen: { readonly output: string; readonly open: boolean } | undefined
        let output = ""
        const run = yield* troupe(args, env, {
          onStdout: (_, chunk) => {
            output += chunk
            if (seen === undefined && output.includes("Once")) {
              const act = server.requests.findIndex((r) => streamed(r) && schemaName(r) === undefined)
              seen = { output, open: server.requests[act]?.state === "open" }
              Effect.runSync(gate.open)
            }
          }
        })
        assert.strictEqual(run.code, 0, run.stderr)
        assert.isDefined(seen)
        assert.isTrue(seen!.open)
        assert.notInclude(seen!.output, "upon")
        // The step's text once, on a line of its own, and the answer not printed again.
        assert.strictEqual(count(run.stdout, "Once upon a time"), 1)
        assert.include(run.stdout.split("\n"), answer)

        // With --json nobody listens: the step is asked whole (no streamed request) and only JSON is printed.
        const before = server.requests.filter(streamed).length
        const json = yield* troupe([...args, "--json"], env)
        assert.strictEqual(json.code, 0, json.stderr)
        assert.strictEqual(server.requests.filter(streamed).length, before)
        assert.notInclude(json.stdout, "Once upon a time")
      }).pipe(Effect.scoped)
  )

  it.live.skipIf(!hasTmux)(
    "the opening of a step's text shows while the provider holds the rest; the answer is printed once",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "troupe-run-stream-"))
        const workspace = join(dir, "work")
        const home = join(dir, "home")
        mkdirSync(workspace)
        writeFileSync(join(dir, "agent.yaml"), ["name: teller", "memory: { enabled: false }"].join("\n"))
        const tty = yield* terminalIn(dir)
        const gate = FakeServer.gate()
        const server = yield* heldServer(gate, answer, "told")
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
        const args = ["run", join(dir, "agent.yaml"), "--goal", "tell a story", "--workspace", workspace]
        yield* tty.start(
          `env -i ${env.map((e) => `'${e}'`).join(" ")} '${node}' '${root}packages/cli/src/bin.ts' ${args.map((a) => `'${a}'`).join(" ")}; echo $? > '${exitFile}'; sleep 30`,
          workspace
        )

        yield* tty.waitFor("the opening of the step's text", (s) => /^Once/m.test(s))
        assert.notInclude(yield* tty.screen, "upon")
        const act = server.requests.findIndex((r) => streamed(r) && schemaName(r) === undefined)
        assert.strictEqual(server.requests[act]!.state, "open")

        yield* gate.open
        yield* tty.waitFor("the end of the run", (s) => s.includes(answer) && existsSync(exitFile))
        assert.strictEqual(readFileSync(exitFile, "utf8").trim(), "0")
        const screen = yield* tty.screen
        assert.strictEqual(count(screen, "Once upon a time"), 1)
        assert.match(screen, /run \S+: done in 1 steps/)
        // The journal keeps the act step's whole answer, not its pieces.
        const [runId] = readdirSync(join(home, "runs"))
        const journal = readFileSync(join(home, "runs", runId!, "journal.jsonl"), "utf8")
        assert.include(journal, JSON.stringify(answer))
        assert.notInclude(journal, "text-delta")
      }).pipe(Effect.scoped),
    120_000
  )
})
