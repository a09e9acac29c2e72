/**
 * The recording agent of the distributed tests: a program that records a key once whatever runs it again (its
 * irreversible action, made idempotent by a marker file created exclusively), the model that has an agent call it
 * with its goal's key, and `troupe runner` processes with the tasks they started and finished.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { root } from "./support.ts"

/** `record.mjs`: appends its key to `attempts.log` at every call, and to `ledger.log` once. */
export const recorder = `import { appendFileSync, closeSync, mkdirSync, openSync } from "node:fs"
const key = process.argv[2] ?? ""
if (!/^[a-z0-9-]+$/.test(key)) { console.error("bad key"); process.exit(2) }
appendFileSync("attempts.log", key + "\\n")
mkdirSync("keys", { recursive: true })
let fresh = true
try { closeSync(openSync("keys/" + key, "wx")) } catch { fresh = false }
if (fresh) appendFileSync("ledger.log", key + "\\n")
console.log(fresh ? "recorded " + key : "already recorded " + key)
`

export const schemaName = (request: FakeServer.Received) =>
  (request.body as { response_format?: { json_schema?: { name?: string } } }).response_format?.json_schema?.name

export const messages = (request: FakeServer.Received) =>
  (request.body as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? []

/** The agent a request is for, from the first line of its system prompt. */
export const agentOf = (request: FakeServer.Received) => {
  const system = messages(request).find((m) => m.role === "system")
  return /^You are ([a-z0-9-]+)/.exec(typeof system?.content === "string" ? system.content : "")?.[1]
}

/**
 * A team's fake model, request by request: the manager's decomposition into `subtasks`, no plan, the reflection
 * `reflection(agent)` gives, and `act(request, agent)` for every member's step.
 */
export const teamTurns =
  <Turn>(options: {
    readonly subtasks: ReadonlyArray<unknown>
    readonly reflection: (agent: string) => unknown
    readonly act: (request: FakeServer.Received, agent: string) => Turn
  }) =>
  (request: FakeServer.Received): Turn | { readonly text: string } => {
    const agent = agentOf(request) ?? "unknown"
    switch (schemaName(request)) {
      case "decomposition":
        return { text: JSON.stringify({ subtasks: options.subtasks }) }
      case "plan":
        return { text: JSON.stringify({ goals: [] }) }
      case "reflection":
        return { text: JSON.stringify(options.reflection(agent)) }
      default:
        return options.act(request, agent)
    }
  }

export const keyOf = (request: FakeServer.Received) =>
  /record the key ([a-z0-9-]+)/.exec(JSON.stringify(messages(request)))?.[1] ?? "unknown"

/** The model: no plan, one call of the recorder with the goal's key, an answer, a reflection saying done. */
export const model = FakeOpenAi.make({
  turns: (request) => {
    const key = keyOf(request)
    const name = schemaName(request)
    if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
    if (name === "reflection") {
      return {
        text: JSON.stringify({ outcome: "done", reasoning: "recorded", progress: [], answer: `recorded ${key}` })
      }
    }
    return messages(request).some((m) => m.role === "tool")
      ? { text: `recorded ${key}` }
      : { toolCalls: [{ name: "shell_run", arguments: { command: "node", args: ["record.mjs", key] } }] }
  },
  // Slow enough that a runner is caught between a task's action and its end (two more model calls).
  latency: { fixedMs: 200 }
})

/** A runner process and what it printed: its address once ready, the tasks it started and finished. */
export interface RunnerProcess {
  readonly child: ChildProcess
  readonly ready: Deferred.Deferred<string>
  readonly started: Set<string>
  readonly finished: Set<string>
  readonly output: { stdout: string; stderr: string }
  readonly exited: Deferred.Deferred<number | null>
}

const node = `${root}node_modules/.bin/node`

export const startRunner = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync((): RunnerProcess => {
      const child = spawn(node, ["packages/cli/src/bin.ts", "runner", ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      const runner: RunnerProcess = {
        child,
        ready: Deferred.makeUnsafe<string>(),
        started: new Set(),
        finished: new Set(),
        output: { stdout: "", stderr: "" },
        exited: Deferred.makeUnsafe<number | null>()
      }
      let pending = ""
      child.stdout!.on("data", (chunk: Buffer) => {
        runner.output.stdout += chunk.toString("utf8")
        pending += chunk.toString("utf8")
        const lines = pending.split("\n")
        pending = lines.pop() ?? ""
        for (const line of lines) {
          const ready = /^runner (\S+) ready/.exec(line)
          if (ready !== null) Deferred.doneUnsafe(runner.ready, Effect.succeed(ready[1]!))
          const task = /^task (\S+) (started|done|failed)$/.exec(line)
          if (task?.[2] === "started") runner.started.add(task[1]!)
          else if (task !== null) runner.finished.add(task[1]!)
        }
      })
      child.stderr!.on("data", (chunk: Buffer) => {
        runner.output.stderr += chunk.toString("utf8")
      })
      // "close": after the exit and once everything it printed has been read.
      child.on("close", (code) => Deferred.doneUnsafe(runner.exited, Effect.succeed(code)))
      return runner
    }),
    (runner) =>
      Effect.gen(function* () {
        runner.child.kill("SIGTERM")
        const stopped = yield* Deferred.await(runner.exited).pipe(Effect.timeoutOption("15 seconds"))
        if (stopped._tag === "None") runner.child.kill("SIGKILL")
      })
  )

export const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [])
