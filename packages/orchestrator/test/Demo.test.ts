/**
 * `pnpm demo` runs as documented: an orchestrated goal across built-in agents with a scripted model, ending with
 * files written, tests passing, a commit pushed after an approval, memory recalled and every trail intact.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"

const root = fileURLToPath(new URL("../../../", import.meta.url))

const demo = Effect.callback<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
  const child = spawn(`${root}node_modules/.bin/node`, ["scripts/demo.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  child.on("close", (code) => resume(Effect.succeed({ code: code ?? -1, stdout, stderr })))
  return Effect.sync(() => child.kill())
})

describe("pnpm demo", () => {
  it.live(
    "runs an orchestrated goal end to end with a scripted model and exits 0",
    () =>
      Effect.gen(function* () {
        const run = yield* demo
        assert.strictEqual(run.code, 0, run.stderr)
        assert.include(run.stdout, "scripted model: no provider is called")
        assert.include(run.stdout, "plan by manager: design → architect, code → backend, ship → git")
        assert.include(run.stdout, 'approval requested for git_push {"branch":"feature/todo"}: granted')
        assert.match(run.stdout, /tests: +node --test passed \(1 test\)/)
        assert.match(run.stdout, /git: +pushed to origin feature\/todo: [0-9a-f]{7,} Add the todo module/)
        assert.match(run.stdout, /memory: +1 lesson in the team's namespace; recalled by backend: yes/)
        assert.match(run.stdout, /audit: +intact \(the orchestration's trail and 3 linked runs\)/)
        assert.match(run.stdout, /cost: +\$0\.\d{4} \(simulated at list prices; scripted model\)/)
      }),
    90_000
  )
})
