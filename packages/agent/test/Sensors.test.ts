/**
 * An agent waiting on the world through `wait_for`, in a real run over a scripted model: it waits for a file to
 * change, is told which, and reads it; it waits for a program it started in the background to end and reads its
 * output; it waits for time to pass on the clock; every wait goes through `SensorWaits.Waiting`, where a loop can
 * leave it out of the run's working time.
 */
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { SensorWaits, Tools, Workspace } from "@troupe/tools"
import type * as Prompt from "effect/ai/Prompt"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/testing/TestClock"
import type * as AgentEvent from "../src/AgentEvent.ts"
import * as Approvals from "../src/Approvals.ts"
import * as Run from "../src/Run.ts"
import { callTurn, harness, planTurn, reflectTurn, spec } from "./support.ts"

const workspaceDir = Effect.acquireRelease(
  Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "troupe-sensors-")).then((dir) => Fs.realpath(dir))),
  (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)

const writeFile = (root: string, path: string, content: string) =>
  Effect.promise(async () => {
    await Fs.mkdir(Path.dirname(Path.join(root, path)), { recursive: true })
    await Fs.writeFile(Path.join(root, path), content)
  })

// The result of the last call of `tool` in a prompt, as the model reads it.
const lastResult = (prompt: Prompt.Prompt, tool: string): any => {
  for (const message of [...prompt.content].reverse()) {
    if (message.role !== "tool") continue
    for (const part of message.content) {
      if (part.type === "tool-result" && part.name === tool) return part.result
    }
  }
  return undefined
}

const toolResults = (events: ReadonlyArray<AgentEvent.AgentEvent>, tool: string) =>
  events.flatMap((e) => (e._tag === "AgentToolResult" && e.tool === tool ? [e] : []))

/** A harness whose toolkit is the one the spec's tools list builds, on a workspace at `root`. */
const sensing = (
  root: string,
  turns: ReadonlyArray<Scripted.Turn>,
  tools: ReadonlyArray<unknown>,
  options: { readonly approveAsk?: boolean; readonly limits?: Record<string, string> } = {}
) =>
  Effect.gen(function* () {
    const the = spec({ tools: tools as never, limits: (options.limits ?? {}) as never })
    const h = yield* harness(turns, { spec: the, tools: false, approveAsk: options.approveAsk ?? false })
    const workspace = yield* Workspace.make(root).pipe(Effect.orDie)
    const toolset = yield* Tools.toolkit(the.tools).pipe(
      Effect.provideService(Workspace.Workspace, workspace),
      Effect.provide(Tools.layerNode),
      Effect.orDie
    )
    const withHandlers = yield* toolset.toolkit.pipe(Effect.provide(toolset.layer))
    const context: Run.RunContext = {
      ...h.context,
      toolkit: Approvals.withPolicy(withHandlers, (tool) => h.context.policy(tool, undefined))
    }
    return { ...h, context }
  })

describe("an agent's sensors", () => {
  // The watch starts when the tool runs, a moment after the model's call: the file is written again until the run
  // has seen it.
  it.live("waits for a file to change, is told which, reads it and goes on", () =>
    Effect.gen(function* () {
      const root = yield* workspaceDir
      yield* writeFile(root, "reports/.keep", "")
      const h = yield* sensing(
        root,
        [
          planTurn("summarise"),
          callTurn({ name: "wait_for", params: { until: "file-change", paths: ["reports/*.md"], timeoutSeconds: 60 } }),
          Scripted.dynamic((request) => {
            const seen = lastResult(request.prompt, "wait_for")
            return Scripted.toolCalls([{ name: "fs_read", params: { path: seen.paths[0] } }])
          }),
          Scripted.dynamic((request) =>
            Scripted.text(`The report says: ${lastResult(request.prompt, "fs_read").content}`)
          ),
          reflectTurn("done", { answer: "summarised", progress: [{ id: "summarise", status: "done" }] })
        ],
        [{ wait_for: { paths: ["reports/**"], maxWait: "5m" } }, "fs_read"]
      )
      const run = yield* Effect.forkChild(Run.execute(h.context, h.control))
      for (let attempt = 0; attempt < 20 && toolResults(h.events, "wait_for").length === 0; attempt++) {
        yield* writeFile(root, "reports/weekly.md", "all green")
        yield* Effect.sleep(Duration.millis(500))
      }
      const result = yield* Fiber.join(run).pipe(Effect.timeoutOption(Duration.seconds(20)))
      assert.isTrue(Option.isSome(result))
      assert.strictEqual(Option.getOrThrow(result).answer, "summarised")
      const [waited] = toolResults(h.events, "wait_for")
      assert.isFalse(waited!.isFailure)
      assert.deepInclude(waited!.result as object, { outcome: "changed", paths: ["reports/weekly.md"], more: 0 })
      const prompts = yield* h.model.prompts
      assert.strictEqual(lastResult(prompts[3]!, "fs_read").content, "all green")
      // Reflection was shown the answer made from the file the wait pointed to.
      assert.include(JSON.stringify(prompts[4]!.content), "The report says: all green")
    }).pipe(Effect.scoped)
  )

  it.live("starts a program in the background once approved, waits for it to end and reads its output", () =>
    Effect.gen(function* () {
      const root = yield* workspaceDir
      const h = yield* sensing(
        root,
        [
          planTurn("build"),
          callTurn({ name: "shell_start", params: { command: "sh", args: ["-c", "sleep 0.2; echo built; exit 0"] } }),
          Scripted.dynamic((request) =>
            Scripted.toolCalls([
              {
                name: "wait_for",
                params: { until: "process-exit", process: lastResult(request.prompt, "shell_start").process }
              }
            ])
          ),
          Scripted.dynamic((request) => {
            const ended = lastResult(request.prompt, "wait_for")
            return Scripted.text(`The build exited with ${ended.exit.exitCode}: ${ended.exit.stdout.trim()}`)
          }),
          reflectTurn("done", { answer: "built", progress: [{ id: "build", status: "done" }] })
        ],
        [{ shell_start: { allow: ["sh"] } }, "wait_for"],
        { approveAsk: true }
      )
      const result = yield* Run.execute(h.context, h.control)
      assert.strictEqual(result.answer, "built")
      // shell_start can do anything its program does: it went through the approval gate first.
      const decided = h.events.flatMap((e) => (e._tag === "AgentApprovalDecided" ? [[e.approved, e.by]] : []))
      assert.deepStrictEqual(decided, [[true, "auto-approve"]])
      const [waited] = toolResults(h.events, "wait_for")
      assert.deepInclude(waited!.result as object, { outcome: "exited" })
      const prompts = yield* h.model.prompts
      assert.include(JSON.stringify(prompts[4]!.content), "The build exited with 0: built")
    }).pipe(Effect.scoped)
  )

  it.effect("waits for time to pass on the clock, and reports the wait to SensorWaits.Waiting", () =>
    Effect.gen(function* () {
      const root = yield* workspaceDir
      const h = yield* sensing(
        root,
        [
          planTurn("later"),
          callTurn({ name: "wait_for", params: { until: "time", seconds: 90 } }),
          Scripted.dynamic((request) =>
            Scripted.text(`Waited ${lastResult(request.prompt, "wait_for").waitedSeconds} seconds.`)
          ),
          reflectTurn("done", { answer: "checked again later" })
        ],
        ["wait_for"]
      )
      const tracker = yield* SensorWaits.make
      const run = yield* Effect.forkChild(
        Run.execute(h.context, h.control).pipe(Effect.provideService(SensorWaits.Waiting, tracker.waiting))
      )
      let seconds = 0
      while (toolResults(h.events, "wait_for").length === 0 && seconds < 200) {
        yield* TestClock.adjust("1 second")
        seconds++
      }
      // The model was not asked again until the wait was over.
      const called = h.events.find((e) => e._tag === "AgentToolCalled" && e.tool === "wait_for")!
      const [waited] = toolResults(h.events, "wait_for")
      assert.strictEqual(waited!.at - called.at, 90_000)
      assert.deepStrictEqual(waited!.result, { outcome: "elapsed", paths: [], more: 0, waitedSeconds: 90 })
      const result = yield* Fiber.join(run)
      assert.strictEqual(result.answer, "checked again later")
      const prompts = yield* h.model.prompts
      assert.strictEqual(prompts.length, 4)
      assert.include(JSON.stringify(prompts[3]!.content), "Waited 90 seconds.")
      assert.strictEqual(yield* tracker.waited, 90_000)
    }).pipe(Effect.scoped)
  )

  it.effect("a sensor wait counts against neither stepTimeout nor timeout; the work around it still does", () =>
    Effect.gen(function* () {
      const root = yield* workspaceDir
      const limits = { stepTimeout: "1m", timeout: "2m" }
      const waitThen = (last: Scripted.Turn) =>
        sensing(
          root,
          [
            planTurn("later"),
            callTurn({ name: "wait_for", params: { until: "time", seconds: 300 } }),
            last,
            reflectTurn("done", { answer: "waited" })
          ],
          [{ wait_for: { maxWait: "10m" } }],
          { limits }
        )
      const patient = yield* waitThen(Scripted.text("waited five minutes"))
      const fiber = yield* Effect.forkChild(Run.execute(patient.context, patient.control).pipe(Effect.exit))
      for (let seconds = 0; seconds < 400 && fiber.pollUnsafe() === undefined; seconds++) {
        yield* TestClock.adjust("1 second")
      }
      const [waited] = toolResults(patient.events, "wait_for")
      assert.deepInclude(waited!.result as object, { outcome: "elapsed", waitedSeconds: 300 })
      const ended = yield* Fiber.join(fiber)
      assert.strictEqual(ended._tag, "Success")

      // After the wait, a model turn that never answers is still stopped by stepTimeout, one minute of work later.
      const hung = yield* waitThen(Scripted.hang)
      const stuck = yield* Effect.forkChild(Effect.flip(Run.execute(hung.context, hung.control)))
      for (let seconds = 0; seconds < 400 && stuck.pollUnsafe() === undefined; seconds++) {
        yield* TestClock.adjust("1 second")
      }
      const error = yield* Fiber.join(stuck)
      assert.strictEqual(error._tag, "BudgetExceeded")
      assert.strictEqual(error._tag === "BudgetExceeded" ? error.limit : undefined, "step-time")
      const end = hung.events.find((e) => e._tag === "AgentRunEnded")!
      const [woke] = toolResults(hung.events, "wait_for")
      assert.strictEqual(end.at - woke!.at, 60_000)
    }).pipe(Effect.scoped)
  )
})
