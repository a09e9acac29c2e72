/**
 * `troupe run` and `troupe run --resume` at a real terminal (a `tmux` pseudo-terminal): the approval a run waits for
 * is asked there, also after the run stopped with exit 3 elsewhere; a call its policy denies in the same turn is never
 * asked about. Skipped,
 * saying so, where `tmux` is not installed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "../recorder.ts"
import { root, troupe } from "../support.ts"
import { hasTmux, terminal } from "../terminal.ts"

const toolMessages = (request: FakeServer.Received) =>
  ((request.body as { messages?: Array<{ role: string }> }).messages ?? []).filter((m) => m.role === "tool").length

const bump = { name: "shell_run", arguments: { command: "sh", args: ["-c", "echo bump >> counter.txt"] } }
const remove = { name: "fs_delete", arguments: { path: "keep.txt" } }

describe("troupe run --resume (at a terminal)", () => {
  it.live.skipIf(!hasTmux)(
    "asks at the terminal the approval a run waits for, fresh or resumed after exit 3, and never one its policy denies",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "troupe-resume-tty-"))
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        writeFileSync(join(workspace, "keep.txt"), "kept\n")
        const spec = join(dir, "agent.yaml")
        writeFileSync(
          spec,
          [
            "name: counter",
            "memory: { enabled: false }",
            "reflection: { everySteps: 10 }",
            "tools:",
            "  - shell_run: { allow: [sh] }",
            "  - fs_delete",
            "approvals: { tools: { shell_run: ask, fs_delete: deny } }"
          ].join("\n")
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        // One turn asks for both calls, the denied one first; once both have their results, the answer.
        const server = yield* FakeOpenAi.make({
          turns: (request) => {
            const name = schemaName(request)
            if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
            if (name === "reflection") {
              return { text: JSON.stringify({ outcome: "done", reasoning: "x", progress: [], answer: "counted" }) }
            }
            return toolMessages(request) < 2 ? { toolCalls: [remove, bump] } : { text: "counted once" }
          }
        })
        const home = join(dir, "home")
        const env = [
          `PATH=${process.env.PATH ?? ""}`,
          `HOME=${dir}`,
          `TROUPE_HOME=${home}`,
          "OPENAI_API_KEY=sk-test",
          `OPENAI_BASE_URL=${server.url}`,
          "TERM=xterm-256color",
          ...(process.env.TROUPE_BUNDLE === undefined ? [] : [`TROUPE_BUNDLE=${process.env.TROUPE_BUNDLE}`])
        ]
        const node = `${root}node_modules/.bin/node`
        // Runs the command at a terminal of its own, says yes to the prompt, and returns the exit code and screen.
        const atTerminal = (name: string, args: ReadonlyArray<string>) =>
          Effect.gen(function* () {
            const tty = terminal(join(dir, `${name}.sock`))
            yield* Effect.addFinalizer(() => tty.kill)
            const exitFile = join(dir, `${name}.exit`)
            yield* tty.start(
              `env -i ${env.map((e) => `'${e}'`).join(" ")} '${node}' '${root}packages/cli/src/bin.ts' ${args.map((a) => `'${a}'`).join(" ")}; echo $? > '${exitFile}'; sleep 30`,
              workspace
            )
            yield* tty.waitFor("a prompt", (s) => s.includes("[y/N]"))
            const prompted = yield* tty.screen
            assert.include(prompted, "Approve shell_run")
            assert.notInclude(prompted, "Approve fs_delete")
            yield* tty.type("y")
            yield* tty.keys("Enter")
            yield* tty.waitFor("the end of the run", () => existsSync(exitFile))
            return { code: readFileSync(exitFile, "utf8").trim(), screen: yield* tty.screen }
          })
        const goal = ["--goal", "bump the counter", "--workspace", workspace]

        // At a terminal from the start: the call that waits is asked, the denied one is not.
        const fresh = yield* atTerminal("fresh", ["run", spec, ...goal])
        assert.strictEqual(fresh.code, "0", fresh.screen)
        assert.notInclude(fresh.screen, "Approve fs_delete")
        assert.strictEqual(readFileSync(join(workspace, "counter.txt"), "utf8"), "bump\n")
        assert.isTrue(existsSync(join(workspace, "keep.txt")), "the denied call did not run")
        // plan, the calls, the answer, the reflection.
        assert.strictEqual(server.requests.length, 4)

        // Stopped without a terminal (exit 3, on the call that waits for a person), then resumed at one.
        const stopped = yield* troupe(["run", spec, ...goal, "--json"], {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: server.url,
          TROUPE_HOME: home,
          HOME: dir
        })
        assert.strictEqual(stopped.code, 3, stopped.stderr)
        const runId = JSON.parse(stopped.stdout.trimEnd().split("\n").at(-1)!).runId as string
        assert.strictEqual(server.requests.length, 6)
        const resumed = yield* atTerminal("resumed", ["run", "--resume", runId])
        assert.strictEqual(resumed.code, "0", resumed.screen)
        assert.include(resumed.screen, `resuming run ${runId}`)
        assert.strictEqual(readFileSync(join(workspace, "counter.txt"), "utf8"), "bump\nbump\n")
        assert.isTrue(existsSync(join(workspace, "keep.txt")))
        assert.strictEqual(server.requests.length, 8)
      }).pipe(Effect.scoped),
    90_000
  )
})
