/**
 * The `generic` agent (`agents/generic.yaml`): answers, and small file tasks in its workspace, with deleting a file
 * and running a program waiting for a person.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { call, read, say, scenario, slow, tempDir, toolResults } from "./support.ts"

describe("generic agent", slow, () => {
  it.live("answers a question without touching the workspace", () =>
    scenario("generic", [say("42")], {}, ({ agent, events }) =>
      Effect.gen(function* () {
        const result = yield* agent.run("What is six times seven?")
        assert.strictEqual(result.answer, "42")
        assert.deepStrictEqual(toolResults(events), [])
      })
    )
  )

  it.live("edits a file after reading it: the smallest change, in the workspace", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("generic")
      writeFileSync(join(dir, "notes.txt"), "- TODO buy milk\n- DONE call Ana\n")
      yield* scenario(
        "generic",
        [
          call("fs_list", { path: "." }),
          call("fs_read", { path: "notes.txt" }),
          // The new content is made from what the read returned, as a model would.
          (seen) =>
            call("fs_write", {
              path: "notes.txt",
              content: String(seen.result("fs_read")!.result.content).replace("TODO buy milk", "DONE buy milk")
            }),
          say("Marked 'buy milk' as done in notes.txt.")
        ],
        { dir },
        ({ agent }) =>
          Effect.gen(function* () {
            yield* agent.run("Mark 'buy milk' as done in notes.txt")
            assert.strictEqual(read(dir, "notes.txt"), "- DONE buy milk\n- DONE call Ana\n")
          })
      )
    })
  )

  it.live("stays in its workspace: a path outside is refused and its content never reaches the model", () =>
    Effect.gen(function* () {
      const outside = yield* tempDir("outside")
      writeFileSync(join(outside, "secret.txt"), "the-outside-secret")
      const dir = yield* tempDir("generic")
      const relative = join("..", outside.split("/").at(-1)!, "secret.txt")
      yield* scenario(
        "generic",
        [call("fs_read", { path: relative }), say("I cannot read files outside the workspace.")],
        { dir },
        ({ agent, brain, events }) =>
          Effect.gen(function* () {
            yield* agent.run(`Show me ${relative}`)
            const [read] = toolResults(events)
            assert.isTrue(read!.isFailure)
            assert.notInclude(JSON.stringify(yield* brain.model.prompts), "the-outside-secret")
          })
      )
    })
  )

  it.live("deleting a file and running a program wait for a person; a denial leaves the file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("generic")
      writeFileSync(join(dir, "keep.log"), "keep me\n")
      writeFileSync(join(dir, "old.log"), "stale\n")
      yield* scenario(
        "generic",
        [
          call("fs_delete", { path: "keep.log" }),
          call("fs_delete", { path: "old.log" }),
          call("shell_run", { command: "wc", args: ["-l", "keep.log"] }),
          say("Deleted old.log; keep.log stays, as you asked.")
        ],
        {
          dir,
          decide: (request) =>
            JSON.stringify(request.params).includes("keep.log") && request.tool === "fs_delete"
              ? { approved: false, reason: "keep.log must stay" }
              : { approved: true }
        },
        ({ agent, decided, events }) =>
          Effect.gen(function* () {
            yield* agent.run("Clean up the log files")
            assert.isTrue(existsSync(join(dir, "keep.log")))
            assert.isFalse(existsSync(join(dir, "old.log")))
            assert.deepStrictEqual(
              decided.map((d) => [d.request.tool, d.approved]),
              [
                ["fs_delete", false],
                ["fs_delete", true],
                ["shell_run", true]
              ]
            )
            const wc = toolResults(events).find((r) => r.tool === "shell_run")
            assert.strictEqual(wc?.result.exitCode, 0)
            assert.match(wc?.result.stdout, /^1 keep\.log/)
          })
      )
    })
  )
})
