import { assert, describe, it } from "@effect/vitest"
import { ToolSpec } from "@troupe/agent-spec"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/testing/TestClock"
import * as Reversibility from "../src/Reversibility.ts"
import * as SensorWaits from "../src/SensorWaits.ts"
import * as Tools from "../src/Tools.ts"
import * as WaitTool from "../src/WaitTool.ts"
import * as Workspace from "../src/Workspace.ts"
import { caller, type Outcome, sandbox, write } from "./support.ts"

// `wait_for` over `workspace`, called as the model's call would go.
const waitTool = (workspace: Workspace.Service, options: WaitTool.Options = {}) =>
  caller(WaitTool.toolkit, Layer.provide(WaitTool.layer(options), Layer.succeed(Workspace.Workspace, workspace)))

const decode = (entries: ReadonlyArray<unknown>) => Schema.decodeUnknownSync(Schema.Array(ToolSpec.ToolEntry))(entries)

describe("wait_for", () => {
  // The watch starts when the call runs, a moment after the fork: the changes are made again until one is seen.
  it.live("reports the changed paths the spec allows and the call asked for, once per burst", () =>
    Effect.gen(function* () {
      const { root, outside, workspace } = yield* sandbox
      // The directories exist before the watch: creating one is a change of its own.
      for (const dir of ["src", "secret", "docs", ".git/src"]) yield* write(root, `${dir}/.keep`, "")
      const tool = waitTool(workspace, { paths: ["src/**", "docs/**"], debounce: "300 millis" })
      const next = yield* Effect.forkChild(
        tool("wait_for", { until: "file-change", paths: ["src/**", "secret/**"], timeoutSeconds: 60 })
      )
      let outcome: Outcome | undefined
      for (let attempt = 0; attempt < 10 && outcome === undefined; attempt++) {
        yield* write(root, "src/a.ts", "1")
        yield* write(root, "src/a.ts", "2")
        yield* write(root, "secret/key.txt", "not allowed by the spec")
        yield* write(root, "docs/guide.md", "not asked for")
        yield* write(root, ".git/src/x", "never reported")
        yield* write(outside, "src/b.ts", "outside the workspace")
        outcome = Option.getOrUndefined(yield* Fiber.join(next).pipe(Effect.timeoutOption(Duration.seconds(1))))
      }
      assert.isDefined(outcome)
      assert.isFalse(outcome!.isFailure)
      assert.deepInclude(outcome!.result, { outcome: "changed", paths: ["src/a.ts"], more: 0 })
      assert.isAtLeast(outcome!.result.waitedSeconds, 0)
    }).pipe(Effect.scoped)
  )

  it.live("lists at most maxReportedPaths paths, counting the others", () =>
    Effect.gen(function* () {
      const { root, workspace } = yield* sandbox
      const tool = waitTool(workspace, { maxReportedPaths: 2, debounce: "300 millis" })
      const next = yield* Effect.forkChild(tool("wait_for", { until: "file-change" }))
      let outcome: Outcome | undefined
      for (let attempt = 0; attempt < 10 && outcome === undefined; attempt++) {
        for (const name of ["a", "b", "c", "d", "e"]) yield* write(root, `${name}.txt`, String(attempt))
        outcome = Option.getOrUndefined(yield* Fiber.join(next).pipe(Effect.timeoutOption(Duration.seconds(1))))
      }
      assert.deepInclude(outcome!.result, { outcome: "changed", paths: ["a.txt", "b.txt"], more: 3 })
    }).pipe(Effect.scoped)
  )

  it.live("tells the model to narrow paths when more directories than allowed would be watched", () =>
    Effect.gen(function* () {
      const { root, workspace } = yield* sandbox
      for (const dir of ["a/b", "c/d"]) yield* write(root, `${dir}/.keep`, "")
      const tool = waitTool(workspace, { maxDirectories: 3 })
      const refused = yield* tool("wait_for", { until: "file-change" })
      assert.deepStrictEqual(refused, {
        isFailure: true,
        result: { _tag: "IoFailed", operation: "watch", reason: "more than 3 directories to watch: narrow the paths" }
      })
      const narrow = yield* Effect.forkChild(
        tool("wait_for", { until: "file-change", paths: ["a/**"], timeoutSeconds: 0.5 })
      )
      assert.strictEqual((yield* Fiber.join(narrow)).result.outcome, "timed-out")
    }).pipe(Effect.scoped)
  )

  it.effect("waits the seconds asked for, on the clock, and refuses a wait longer than maxWait", () =>
    Effect.gen(function* () {
      const { workspace } = yield* sandbox
      const tool = waitTool(workspace, { maxWait: Duration.minutes(5) })
      const sleeping = yield* Effect.forkChild(tool("wait_for", { until: "time", seconds: 90 }))
      yield* TestClock.adjust("89 seconds")
      assert.isUndefined(sleeping.pollUnsafe())
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.join(sleeping), {
        isFailure: false,
        result: { outcome: "elapsed", paths: [], more: 0, waitedSeconds: 90 }
      })
      const tooLong = yield* tool("wait_for", { until: "time", seconds: 301 })
      assert.deepInclude(tooLong.result, { _tag: "InvalidArgument", argument: "seconds" })
      assert.match(tooLong.result.reason, /at most 300/)
    }).pipe(Effect.scoped)
  )

  it.effect("a wait for a change gives up at timeoutSeconds, and never later than maxWait", () =>
    Effect.gen(function* () {
      const { workspace } = yield* sandbox
      const tool = waitTool(workspace, { maxWait: Duration.minutes(2) })
      const short = yield* Effect.forkChild(tool("wait_for", { until: "file-change", timeoutSeconds: 30 }))
      yield* TestClock.adjust("30 seconds")
      assert.deepStrictEqual((yield* Fiber.join(short)).result, {
        outcome: "timed-out",
        paths: [],
        more: 0,
        waitedSeconds: 30
      })
      const capped = yield* Effect.forkChild(tool("wait_for", { until: "file-change", timeoutSeconds: 3600 }))
      yield* TestClock.adjust("119 seconds")
      assert.isUndefined(capped.pollUnsafe())
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(capped)).result.waitedSeconds, 120)
      const unbounded = yield* Effect.forkChild(tool("wait_for", { until: "file-change" }))
      yield* TestClock.adjust("120 seconds")
      assert.strictEqual((yield* Fiber.join(unbounded)).result.outcome, "timed-out")
    }).pipe(Effect.scoped)
  )

  it.effect("refuses parameters that do not go together or leave the workspace, as results the model reads", () =>
    Effect.gen(function* () {
      const { workspace } = yield* sandbox
      const tool = waitTool(workspace)
      const refused = (params: unknown) =>
        Effect.map(tool("wait_for", params), (o) => {
          assert.isTrue(o.isFailure)
          return `${o.result._tag} ${o.result.argument}`
        })
      assert.strictEqual(yield* refused({ until: "time" }), "InvalidArgument seconds")
      assert.strictEqual(yield* refused({ until: "time", seconds: -1 }), "InvalidArgument seconds")
      assert.strictEqual(yield* refused({ until: "time", seconds: 5, paths: ["a"] }), "InvalidArgument paths")
      assert.strictEqual(
        yield* refused({ until: "time", seconds: 5, timeoutSeconds: 9 }),
        "InvalidArgument timeoutSeconds"
      )
      assert.strictEqual(yield* refused({ until: "file-change", seconds: 5 }), "InvalidArgument seconds")
      assert.strictEqual(yield* refused({ until: "file-change", timeoutSeconds: 0 }), "InvalidArgument timeoutSeconds")
      assert.strictEqual(yield* refused({ until: "file-change", paths: [] }), "InvalidArgument paths")
      assert.strictEqual(yield* refused({ until: "file-change", paths: ["../**"] }), "InvalidArgument paths")
      assert.strictEqual(yield* refused({ until: "file-change", paths: ["/etc/**"] }), "InvalidArgument paths")
      assert.strictEqual(yield* refused({ until: "file-change", paths: ["x".repeat(600)] }), "InvalidArgument paths")
      assert.strictEqual(
        yield* refused({ until: "file-change", paths: Array.from({ length: 65 }, (_, i) => `${i}/**`) }),
        "InvalidArgument paths"
      )
    }).pipe(Effect.scoped)
  )

  it.effect("runs every wait through SensorWaits.Waiting, so a loop can leave it out of working time", () =>
    Effect.gen(function* () {
      const { workspace } = yield* sandbox
      const tracker = yield* SensorWaits.make
      const tool = waitTool(workspace)
      const fiber = yield* Effect.forkChild(
        tool("wait_for", { until: "time", seconds: 45 }).pipe(
          Effect.provideService(SensorWaits.Waiting, tracker.waiting)
        )
      )
      yield* TestClock.adjust("45 seconds")
      assert.strictEqual((yield* Fiber.join(fiber)).result.outcome, "elapsed")
      assert.strictEqual(yield* tracker.waited, 45_000)
    }).pipe(Effect.scoped)
  )

  it.effect("comes from the spec's tools list with its options, reversible", () =>
    Effect.gen(function* () {
      const { workspace } = yield* sandbox
      const toolset = yield* Tools.toolkit(decode([{ wait_for: { paths: ["src/**"], maxWait: "1m" } }])).pipe(
        Effect.provideService(Workspace.Workspace, workspace)
      )
      assert.deepStrictEqual(Object.keys(toolset.toolkit.tools), ["wait_for"])
      assert.strictEqual(toolset.tools.get("wait_for")!.reversibility({ until: "time", seconds: 1 }), "reversible")
      assert.strictEqual(Reversibility.of("wait_for"), "reversible")
      assert.isFalse(ToolSpec.isIrreversible("wait_for"))
      const tool = caller(toolset.toolkit, toolset.layer)
      const refused = yield* tool("wait_for", { until: "time", seconds: 61 })
      assert.match(refused.result.reason, /at most 60/)
    }).pipe(Effect.scoped)
  )
})
