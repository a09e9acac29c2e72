import { assert, describe, it } from "@effect/vitest"
import { ToolSpec } from "@troupe/agent-spec"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Reversibility from "../src/Reversibility.ts"
import * as Tools from "../src/Tools.ts"
import * as Workspace from "../src/Workspace.ts"
import { caller, nodeServices, read, sandbox } from "./support.ts"

const decode = (entries: ReadonlyArray<unknown>) => Schema.decodeUnknownSync(Schema.Array(ToolSpec.ToolEntry))(entries)

// shell_start and wait_for as the spec lists them, over a fresh workspace; the toolkit lives in `scope`.
const tools = (entries: ReadonlyArray<unknown>, scope: Scope.Scope, options: Tools.Options = {}) =>
  Effect.gen(function* () {
    const { root, workspace } = yield* sandbox
    const toolset = yield* Tools.toolkit(decode(entries), options).pipe(
      Effect.provideService(Workspace.Workspace, workspace),
      Effect.provideService(Scope.Scope, scope),
      Effect.orDie
    )
    return { root, tool: caller(toolset.toolkit, toolset.layer), toolset }
  })

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("shell_start and wait_for process-exit", () => {
  it.live("starts a program in the background and reports its end once, with its output", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const { tool, toolset } = yield* tools([{ shell_start: { allow: ["sh"] } }, "wait_for"], scope)
      assert.strictEqual(toolset.tools.get("shell_start")!.reversibility({ command: "sh", args: [] }), "irreversible")
      assert.strictEqual(Reversibility.of("shell_start"), "irreversible")
      const started = yield* tool("shell_start", { command: "sh", args: ["-c", "sleep 0.3; echo done; exit 3"] })
      assert.deepStrictEqual(started, { isFailure: false, result: { process: "p1" } })
      const ended = yield* tool("wait_for", { until: "process-exit", process: "p1", timeoutSeconds: 30 })
      assert.isFalse(ended.isFailure)
      assert.strictEqual(ended.result.outcome, "exited")
      assert.deepStrictEqual(ended.result.exit, {
        exitCode: 3,
        stdout: "done\n",
        stderr: "",
        truncated: false,
        timedOut: false
      })
      const again = yield* tool("wait_for", { until: "process-exit", process: "p1" })
      assert.deepStrictEqual(again.result, { _tag: "ProcessNotFound", process: "p1" })
    }).pipe(Effect.scoped, Effect.provide(nodeServices))
  )

  it.live("enforces the allowlist, caps the output, kills at the timeout, reports a program that cannot start", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const { tool } = yield* tools(
        [{ shell_start: { allow: ["sh", "no-such-program"], timeout: "1s" } }, "wait_for"],
        scope,
        {
          shell: { maxOutputBytes: 10 }
        }
      )
      assert.strictEqual((yield* tool("shell_start", { command: "node", args: [] })).result._tag, "ProgramNotAllowed")
      const chatty = yield* tool("shell_start", { command: "sh", args: ["-c", "head -c 5000 /dev/zero | tr '\\0' x"] })
      const told = yield* tool("wait_for", { until: "process-exit", process: chatty.result.process })
      assert.isTrue(told.result.exit.truncated)
      assert.match(told.result.exit.stdout, /^x{10}\n\[truncated: 4990 more bytes\]$/)
      const slow = yield* tool("shell_start", { command: "sh", args: ["-c", "sleep 30"] })
      const killed = yield* tool("wait_for", { until: "process-exit", process: slow.result.process })
      assert.deepInclude(killed.result.exit, { exitCode: null, timedOut: true })
      const missing = yield* tool("shell_start", { command: "no-such-program", args: [] })
      assert.isFalse(missing.isFailure)
      const failed = yield* tool("wait_for", { until: "process-exit", process: missing.result.process })
      assert.deepInclude(failed.result, { _tag: "IoFailed", operation: "spawn" })
    }).pipe(Effect.scoped, Effect.provide(nodeServices))
  )

  it.live(
    "keeps at most four programs, gives up a wait at timeoutSeconds, and kills what runs when the scope closes",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const { root, tool } = yield* tools([{ shell_start: { allow: ["sh"] } }, "wait_for"], scope)
        for (const n of [1, 2, 3, 4]) {
          const started = yield* tool("shell_start", { command: "sh", args: ["-c", `echo $$ > pid${n}; sleep 30`] })
          assert.strictEqual(started.result.process, `p${n}`)
        }
        assert.deepStrictEqual((yield* tool("shell_start", { command: "sh", args: ["-c", "true"] })).result, {
          _tag: "TooManyProcesses",
          limit: 4
        })
        const still = yield* tool("wait_for", { until: "process-exit", process: "p1", timeoutSeconds: 0.3 })
        assert.strictEqual(still.result.outcome, "timed-out")
        let pid: number | undefined
        while (pid === undefined || Number.isNaN(pid)) pid = Number.parseInt((yield* read(root, "pid1")) ?? "", 10)
        assert.isTrue(isAlive(pid))
        yield* Scope.close(scope, Effect.void as never)
        assert.isFalse(isAlive(pid))
      }).pipe(Effect.scoped, Effect.provide(nodeServices))
  )

  it.effect("wait_for process-exit needs shell_start and a process id", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const { tool } = yield* tools(["wait_for"], scope)
      const noTool = yield* tool("wait_for", { until: "process-exit", process: "p1" })
      assert.deepInclude(noTool.result, { _tag: "InvalidArgument", argument: "until" })
      const noId = yield* tool("wait_for", { until: "process-exit" })
      assert.deepInclude(noId.result, { _tag: "InvalidArgument", argument: "process" })
      const mixed = yield* tool("wait_for", { until: "process-exit", process: "p1", paths: ["**"] })
      assert.deepInclude(mixed.result, { _tag: "InvalidArgument", argument: "paths" })
    }).pipe(Effect.scoped)
  )
})
