import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Idempotency from "../src/Idempotency.ts"
import * as ShellTool from "../src/ShellTool.ts"
import { caller, nodeServices, read, sandbox, write } from "./support.ts"

const withShell = <A, E>(
  options: ShellTool.Options,
  f: (env: { root: string; tool: ReturnType<typeof caller> }) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const { root, workspace } = yield* sandbox
    const spawner = yield* ChildProcessSpawner
    const tool = caller(ShellTool.toolkit, ShellTool.toolkit.toLayer(ShellTool.handlers(workspace, spawner, options)))
    return yield* f({ root, tool })
  }).pipe(Effect.scoped, Effect.provide(nodeServices))

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("ShellTool", () => {
  it.live("passes shell metacharacters to the program as plain characters", () =>
    withShell({}, ({ root, tool }) =>
      Effect.gen(function* () {
        yield* write(root, "x", "still here")
        const args = ["; rm -rf x", "$(touch pwned)", "`touch pwned2`", "*", "a|b", ">out", "&&", "$HOME"]
        const outcome = yield* tool("shell_run", { command: "echo", args })
        assert.isFalse(outcome.isFailure, JSON.stringify(outcome.result))
        assert.strictEqual(outcome.result.stdout, `${args.join(" ")}\n`)
        assert.strictEqual(outcome.result.exitCode, 0)
        assert.strictEqual(yield* read(root, "x"), "still here")
        assert.isUndefined(yield* read(root, "pwned"))
        assert.isUndefined(yield* read(root, "out"))
        // A whole command line as the program name is a program that does not exist, not a shell command.
        const line = yield* tool("shell_run", { command: "echo hi; touch pwned", args: [] })
        assert.deepInclude(line.result, { _tag: "IoFailed", operation: "spawn" })
        assert.isUndefined(yield* read(root, "pwned"))
      })
    )
  )

  it.live("gives the program the call's idempotency key, when the call has one", () =>
    withShell({}, ({ tool }) =>
      Effect.gen(function* () {
        const print = { command: "node", args: ["-e", "console.log(process.env.TROUPE_IDEMPOTENCY_KEY ?? 'none')"] }
        const keyed = yield* tool("shell_run", print).pipe(Effect.provideService(Idempotency.CurrentKey, "k-42"))
        assert.strictEqual(keyed.result.stdout, "k-42\n")
        const plain = yield* tool("shell_run", print)
        assert.strictEqual(plain.result.stdout, "none\n")
      })
    )
  )

  it.live("runs only the programs in allow, compared whole", () =>
    withShell({ allow: ["echo", "pwd"] }, ({ tool }) =>
      Effect.gen(function* () {
        assert.isFalse((yield* tool("shell_run", { command: "echo", args: ["ok"] })).isFailure)
        for (const command of ["sh", "/bin/echo", "./echo", "bash", "env"]) {
          const outcome = yield* tool("shell_run", { command, args: ["-c", "echo pwned"] })
          assert.deepStrictEqual(outcome.result, {
            _tag: "ProgramNotAllowed",
            program: command,
            allowed: ["echo", "pwd"]
          })
        }
      })
    )
  )

  it.live("reports a non-zero exit as a result and runs in cwd inside the workspace", () =>
    withShell({ cwd: "sub" }, ({ root, tool }) =>
      Effect.gen(function* () {
        yield* write(root, "sub/file", "")
        const pwd = yield* tool("shell_run", { command: "pwd", args: [] })
        assert.strictEqual(pwd.result.stdout, `${Path.join(root, "sub")}\n`)
        const failed = yield* tool("shell_run", { command: "sh", args: ["-c", "echo oops >&2; exit 3"] })
        assert.deepStrictEqual(failed, {
          isFailure: false,
          result: { exitCode: 3, stdout: "", stderr: "oops\n", truncated: false, timedOut: false }
        })
      })
    )
  )

  it.live("refuses a cwd outside the workspace", () =>
    withShell({ cwd: "../" }, ({ tool }) =>
      Effect.gen(function* () {
        const outcome = yield* tool("shell_run", { command: "pwd", args: [] })
        assert.strictEqual(outcome.result._tag, "PathRefused")
      })
    )
  )

  it.live("kills a command that runs forever at the timeout, with the processes it started", () =>
    withShell({ timeout: Duration.millis(700) }, ({ tool }) =>
      Effect.gen(function* () {
        const started = Date.now()
        const outcome = yield* tool("shell_run", { command: "sh", args: ["-c", "sleep 1000 & echo $!; wait"] })
        const elapsed = Date.now() - started
        assert.isTrue(outcome.result.timedOut)
        assert.isNull(outcome.result.exitCode)
        assert.isBelow(elapsed, 5_000)
        const grandchild = Number(outcome.result.stdout.trim())
        assert.isAbove(grandchild, 0)
        yield* Effect.sleep(Duration.millis(200))
        assert.isFalse(isAlive(grandchild), "the background sleep survived the kill")
      })
    )
  )

  it.live("caps a 100 MB output", () =>
    withShell({ maxOutputBytes: 1024 }, ({ tool }) =>
      Effect.gen(function* () {
        const outcome = yield* tool("shell_run", { command: "head", args: ["-c", "100000000", "/dev/zero"] })
        assert.isTrue(outcome.result.truncated)
        assert.strictEqual(outcome.result.exitCode, 0)
        assert.isBelow(outcome.result.stdout.length, 1100)
        assert.include(outcome.result.stdout, `[truncated: ${100_000_000 - 1024} more bytes]`)
      })
    )
  )

  it.live("scrubs provider keys and secrets from the environment and adds the spec's env", () =>
    Effect.gen(function* () {
      const planted = {
        OPENAI_API_KEY: "sk-fake-openai-0001",
        GITHUB_TOKEN: "ghp_fake0002",
        DB_PASSWORD: "hunter2-0003",
        AWS_SECRET_ACCESS_KEY: "aws-fake-0004",
        DATABASE_URL: "postgres://app:pw-0005@db/app"
      }
      Object.assign(process.env, planted)
      const outcome = yield* withShell({ env: { EXTRA: "given-on-purpose" } }, ({ tool }) =>
        tool("shell_run", { command: "env", args: [] })
      ).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            for (const name of Object.keys(planted)) delete process.env[name]
          })
        )
      )
      for (const [name, value] of Object.entries(planted)) {
        assert.notInclude(outcome.result.stdout, value)
        assert.notInclude(outcome.result.stdout, `${name}=`)
      }
      assert.include(outcome.result.stdout, "PATH=")
      assert.include(outcome.result.stdout, "EXTRA=given-on-purpose")
    })
  )
})
