/**
 * Interactive mode at a real terminal streams the answer: the fake provider sends the opening of the answer and
 * holds the rest until the test has seen that opening on the screen. Skipped, saying so, where `tmux` is not
 * installed (Debian: `apt-get install tmux`).
 */
import { mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "../recorder.ts"
import { heldServer, streamed } from "../streaming.ts"
import { root } from "../support.ts"
import { hasTmux, terminalIn } from "../terminal.ts"

const count = (text: string, part: string) => text.split(part).length - 1

const answer = "Once upon a time, the answer streamed to the end."

describe("troupe (interactive mode, at a terminal): streaming", () => {
  it.live.skipIf(!hasTmux)(
    "the opening of an answer shows while the provider still holds the rest; the answer is printed once",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "troupe-tty-stream-"))
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        const tty = yield* terminalIn(dir)
        const gate = FakeServer.gate()
        const server = yield* heldServer(gate, answer, "done")

        const env = [
          `PATH=${process.env.PATH ?? ""}`,
          `HOME=${dir}`,
          `TROUPE_HOME=${join(dir, "home")}`,
          "OPENAI_API_KEY=sk-test",
          `OPENAI_BASE_URL=${server.url}`,
          "TERM=xterm-256color",
          ...(process.env.TROUPE_BUNDLE === undefined ? [] : [`TROUPE_BUNDLE=${process.env.TROUPE_BUNDLE}`])
        ]
        const node = `${root}node_modules/.bin/node`
        yield* tty.start(
          `env -i ${env.map((e) => `'${e}'`).join(" ")} '${node}' '${root}packages/cli/src/bin.ts'; sleep 30`,
          workspace
        )
        yield* tty.waitFor("the prompt", (s) => s.includes("Troupe: agent generic") && s.includes("troupe> "))
        yield* tty.type("tell me a story")
        yield* tty.keys("Enter")

        // The opening is on the screen while the server holds the rest of the answer.
        yield* tty.waitFor("the opening of the answer", (s) => /^Once/m.test(s))
        const held = yield* tty.screen
        assert.notInclude(held, "upon")
        assert.isFalse(gate.isOpen())
        const act = server.requests.findIndex((r) => streamed(r) && schemaName(r) === undefined)
        assert.strictEqual(server.requests[act]!.state, "open")

        yield* gate.open
        yield* tty.waitFor(
          "the whole answer and the next prompt",
          (s) => s.includes(answer) && count(s, "troupe> ") === 2
        )
        const screen = yield* tty.screen
        // Streamed, then not printed again when the step ended, nor as the run's answer.
        assert.strictEqual(count(screen, "Once upon a time"), 1)
        assert.strictEqual(yield* server.settled(act), "completed")
      }).pipe(Effect.scoped),
    120_000
  )
})
