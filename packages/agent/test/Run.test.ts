import { assert, describe, it } from "@effect/vitest"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import * as AiError from "effect/ai/AiError"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/testing/TestClock"
import * as Run from "../src/Run.ts"
import { callTurn, harness, planTurn, reflectTurn, spec, tags } from "./support.ts"

describe("Run", () => {
  it.effect("plans, calls tools over several steps, reflects, and ends with the answer", () =>
    Effect.gen(function* () {
      const h = yield* harness([
        planTurn("greet"),
        callTurn({ name: "echo", params: { text: "one" } }),
        callTurn({ name: "echo", params: { text: "two" } }),
        Scripted.text("Said one and two."),
        reflectTurn("done", { answer: "one, two", progress: [{ id: "greet", status: "done" }] })
      ])
      const result = yield* Run.execute(h.context, h.control)
      assert.strictEqual(result.answer, "one, two")
      assert.strictEqual(result.spend.steps, 3)
      assert.strictEqual(result.spend.modelCalls, 5)
      assert.strictEqual(result.plan?.goals[0]?.status, "done")
      assert.deepStrictEqual(tags(h.events), [
        "AgentRunStarted",
        "AgentModelCalled",
        "AgentPlanMade",
        "AgentStepStarted",
        "AgentToolCalled",
        "AgentToolResult",
        "AgentModelCalled",
        "AgentStepStarted",
        "AgentToolCalled",
        "AgentToolResult",
        "AgentModelCalled",
        "AgentStepStarted",
        "AgentModelCalled",
        "AgentModelCalled",
        "AgentReflected",
        "AgentRunEnded"
      ])
      const results = h.events.flatMap((e) => (e._tag === "AgentToolResult" ? [e.result] : []))
      assert.deepStrictEqual(results, ["one", "two"])
      // The second tool turn was sent the first call and its result, right after it.
      const prompts = yield* h.model.prompts
      const third = prompts[2]!.content.map((m) => m.role)
      assert.deepStrictEqual(third, ["system", "user", "user", "assistant", "tool"])
    })
  )

  it.effect("tool arguments that do not match go back to the model as a failed result; it corrects itself", () =>
    Effect.gen(function* () {
      const h = yield* harness([
        planTurn("greet"),
        callTurn({ name: "echo", params: { text: 42 } }),
        reflectTurn("retry", { reasoning: "the text must be a string" }),
        callTurn({ name: "echo", params: { text: "42" } }),
        Scripted.text("done"),
        reflectTurn("done", { answer: "42" })
      ])
      const result = yield* Run.execute(h.context, h.control)
      assert.strictEqual(result.answer, "42")
      const prompts = yield* h.model.prompts
      const told = prompts[3]!.content.at(-1)!
      assert.strictEqual(told.role, "user")
      assert.match(JSON.stringify(told.content), /Try the last step again, differently: the text must be a string/)
      // The invalid call came back to the model as a failed result naming the problem.
      const afterMistake = prompts[2]!.content.at(-2)!
      assert.strictEqual(afterMistake.role, "tool")
      const reported = JSON.stringify(afterMistake.content)
      assert.match(reported, /"isFailure":true/)
      assert.match(reported, /ToolParameterValidationError/)
      assert.match(reported, /Expected string/)
    })
  )

  it.effect("a failing tool is reported back and followed by a reflected retry", () =>
    Effect.gen(function* () {
      const h = yield* harness([
        planTurn("work"),
        callTurn({ name: "fail", params: {} }),
        reflectTurn("retry", { reasoning: "use echo instead" }),
        callTurn({ name: "echo", params: { text: "ok" } }),
        Scripted.text("it worked"),
        reflectTurn("done", { answer: "ok" })
      ])
      yield* Run.execute(h.context, h.control)
      const failed = h.events.find((e) => e._tag === "AgentToolResult" && e.tool === "fail")
      assert.strictEqual(failed?._tag === "AgentToolResult" && failed.isFailure, true)
      const reflected = h.events.filter((e) => e._tag === "AgentReflected").map((e) => e.outcome)
      assert.deepStrictEqual(reflected, ["retry", "done"])
    })
  )

  it.effect("a reflection may revise the plan", () =>
    Effect.gen(function* () {
      const h = yield* harness([
        planTurn("a"),
        Scripted.text("I cannot do a this way."),
        reflectTurn("replan", { reasoning: "a needs b first" }),
        planTurn("b", "a"),
        Scripted.text("did b then a"),
        reflectTurn("done", { answer: "b, a" })
      ])
      const result = yield* Run.execute(h.context, h.control)
      const plans = h.events.flatMap((e) => (e._tag === "AgentPlanMade" ? [[e.revision, e.reason]] : []))
      assert.deepStrictEqual(plans, [
        [1, undefined],
        [2, "a needs b first"]
      ])
      assert.deepStrictEqual(
        result.plan?.goals.map((g) => g.id),
        ["b", "a"]
      )
    })
  )

  describe("a spec may leave out the plan and the reflection before the answer", () => {
    const lean = { planning: { enabled: false }, reflection: { everySteps: 0, beforeAnswer: false } }

    it.effect("planning.enabled false: the first model call is the first step's", () =>
      Effect.gen(function* () {
        const h = yield* harness(
          [
            callTurn({ name: "echo", params: { text: "one" } }),
            Scripted.text("Said one."),
            reflectTurn("done", { answer: "one" })
          ],
          { spec: spec({ planning: { enabled: false } }) }
        )
        const result = yield* Run.execute(h.context, h.control)
        assert.strictEqual(result.answer, "one")
        assert.strictEqual(result.plan, undefined)
        assert.strictEqual(result.spend.modelCalls, 3)
        assert.isFalse(h.events.some((e) => e._tag === "AgentPlanMade"))
        const prompts = yield* h.model.prompts
        assert.notMatch(JSON.stringify(prompts[0]!.content), /Make a plan/)
        // The answer was still reflected on (beforeAnswer defaults to true).
        assert.deepStrictEqual(
          h.events.flatMap((e) => (e._tag === "AgentReflected" ? [e.outcome] : [])),
          ["done"]
        )
      })
    )

    it.effect("no plan, no cadence, no reflection before the answer: one model call a step, the model's answer", () =>
      Effect.gen(function* () {
        const steps = Array.from({ length: 6 }, (_, i) => callTurn({ name: "echo", params: { text: `${i}` } }))
        const h = yield* harness([...steps, Scripted.text("Echoed 0 to 5.")], { spec: spec(lean) })
        const result = yield* Run.execute(h.context, h.control)
        assert.strictEqual(result.answer, "Echoed 0 to 5.")
        assert.strictEqual(result.spend.steps, 7)
        assert.strictEqual(result.spend.modelCalls, 7)
        assert.isFalse(h.events.some((e) => e._tag === "AgentReflected" || e._tag === "AgentPlanMade"))
        const ended = h.events.at(-1)!
        assert.strictEqual(ended._tag === "AgentRunEnded" && ended.status, "done")
        assert.strictEqual(ended._tag === "AgentRunEnded" && ended.answer, "Echoed 0 to 5.")
      })
    )

    it.effect("a failure is still reflected on, and a replan makes the first plan", () =>
      Effect.gen(function* () {
        const h = yield* harness(
          [
            callTurn({ name: "fail", params: {} }),
            reflectTurn("replan", { reasoning: "the tool is down; plan around it" }),
            planTurn("around"),
            callTurn({ name: "echo", params: { text: "ok" } }),
            Scripted.text("worked around it")
          ],
          { spec: spec(lean) }
        )
        const result = yield* Run.execute(h.context, h.control)
        assert.strictEqual(result.answer, "worked around it")
        const plans = h.events.flatMap((e) => (e._tag === "AgentPlanMade" ? [[e.revision, e.reason]] : []))
        assert.deepStrictEqual(plans, [[1, "the tool is down; plan around it"]])
        assert.deepStrictEqual(
          result.plan?.goals.map((g) => g.id),
          ["around"]
        )
        const prompts = yield* h.model.prompts
        const asked = JSON.stringify(prompts[2]!.content.at(-1))
        assert.match(asked, /A plan is needed: the tool is down/)
        assert.notMatch(asked, /needs revising/)
      })
    )

    it.effect("an answer after a looping stretch is still reflected on", () =>
      Effect.gen(function* () {
        const same = callTurn({ name: "echo", params: { text: "again" } })
        const h = yield* harness(
          [same, same, same, same, reflectTurn("continue"), Scripted.text("gave up looping"), reflectTurn("done")],
          { spec: spec(lean) }
        )
        const result = yield* Run.execute(h.context, h.control)
        assert.strictEqual(result.answer, "gave up looping")
        assert.deepStrictEqual(
          h.events.flatMap((e) => (e._tag === "AgentReflected" ? [e.step] : [])),
          [4, 5]
        )
      })
    )
  })

  it.effect("an unparsable reflection is asked again, then fails typed: never taken for success", () =>
    Effect.gen(function* () {
      const h = yield* harness([
        planTurn("a"),
        Scripted.text("all done"),
        Scripted.text("I think it went well"),
        Scripted.text("{ not json")
      ])
      const error = yield* Effect.flip(Run.execute(h.context, h.control))
      assert.strictEqual(error._tag, "OutputUnparsable")
      assert.strictEqual(error._tag === "OutputUnparsable" && error.attempts, 2)
      const ended = h.events.at(-1)!
      assert.strictEqual(ended._tag === "AgentRunEnded" && ended.status, "failed")
    })
  )

  it.effect("give-up ends the run failed with the reasoning", () =>
    Effect.gen(function* () {
      const h = yield* harness([planTurn("a"), Scripted.text("impossible"), reflectTurn("give-up")])
      const error = yield* Effect.flip(Run.execute(h.context, h.control))
      assert.strictEqual(error._tag, "GaveUp")
      assert.strictEqual(error.message, "the agent gave up: because give-up")
    })
  )

  it.effect("a provider failure ends the run with ModelFailed and what was spent", () =>
    Effect.gen(function* () {
      const h = yield* harness([planTurn("a"), Scripted.fail(new AiError.AuthenticationError({ kind: "InvalidKey" }))])
      const error = yield* Effect.flip(Run.execute(h.context, h.control))
      assert.strictEqual(error._tag, "ModelFailed")
      if (error._tag !== "ModelFailed") return
      assert.strictEqual(error.reason, "AuthenticationError")
      assert.strictEqual(error.purpose, "act")
      assert.strictEqual(error.partial.spend.modelCalls, 1)
      assert.strictEqual(error.partial.plan?.goals[0]?.id, "a")
    })
  )

  describe("limits", () => {
    const looping = (n: number) =>
      Array.from({ length: n }, (_, i) => callTurn({ name: "echo", params: { text: `step ${i}` } }))

    it.effect("maxSteps", () =>
      Effect.gen(function* () {
        const h = yield* harness([planTurn("a"), ...looping(5)], {
          spec: spec({ limits: { maxSteps: 5 }, reflection: { everySteps: 100 } })
        })
        const error = yield* Effect.flip(Run.execute(h.context, h.control))
        assert.strictEqual(error._tag, "BudgetExceeded")
        if (error._tag !== "BudgetExceeded") return
        assert.deepStrictEqual([error.limit, error.used, error.max], ["steps", 5, 5])
        assert.strictEqual(error.partial.spend.steps, 5)
        const warning = h.events.find((e) => e._tag === "AgentBudgetWarning")
        assert.strictEqual(warning?._tag === "AgentBudgetWarning" && warning.limit, "steps")
      })
    )

    it.effect("maxTokens", () =>
      Effect.gen(function* () {
        const turns = [
          Scripted.text(JSON.stringify({ goals: [] }), { usage: { inputTokens: 400, outputTokens: 100 } }),
          Scripted.toolCalls([{ name: "echo", params: { text: "x" } }], {
            usage: { inputTokens: 400, outputTokens: 200 }
          })
        ]
        const h = yield* harness(turns, { spec: spec({ limits: { maxTokens: 1000 } }) })
        const error = yield* Effect.flip(Run.execute(h.context, h.control))
        assert.strictEqual(error._tag === "BudgetExceeded" && error.limit, "tokens")
        assert.strictEqual(error._tag === "BudgetExceeded" && error.used, 1100)
      })
    )

    it.effect("maxCostUsd, at list prices through the pool", () =>
      Effect.gen(function* () {
        // gpt-5-mini: 1M input tokens cost $0.25; two calls of 1M each pass $0.4.
        const big = { usage: { inputTokens: 1_000_000, outputTokens: 0 } }
        const h = yield* harness(
          [
            Scripted.text(JSON.stringify({ goals: [] }), big),
            Scripted.toolCalls([{ name: "echo", params: { text: "x" } }], big)
          ],
          { spec: spec({ limits: { maxCostUsd: 0.4, maxTokens: 10_000_000 } }), pooled: true }
        )
        const error = yield* Effect.flip(Run.execute(h.context, h.control))
        assert.strictEqual(error._tag === "BudgetExceeded" && error.limit, "cost")
        assert.strictEqual(error._tag === "BudgetExceeded" && error.used, 0.5)
        assert.strictEqual(error._tag === "BudgetExceeded" && error.partial.spend.costEstimated, false)
      })
    )

    it.effect("stepTimeout and timeout", () =>
      Effect.gen(function* () {
        const h = yield* harness([planTurn("a"), Scripted.hang], { spec: spec({ limits: { stepTimeout: "30s" } }) })
        const fiber = yield* Effect.forkChild(Effect.flip(Run.execute(h.context, h.control)))
        yield* TestClock.adjust("31 seconds")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag === "BudgetExceeded" && error.limit, "step-time")

        const whole = yield* harness([planTurn("a"), Scripted.hang], {
          spec: spec({ limits: { stepTimeout: "2m", timeout: "1m" } })
        })
        const run = yield* Effect.forkChild(Effect.flip(Run.execute(whole.context, whole.control)))
        yield* TestClock.adjust("61 seconds")
        const late = yield* Fiber.join(run)
        assert.strictEqual(late._tag === "BudgetExceeded" && late.limit, "time")
      })
    )
  })

  it.effect("cancellation interrupts the step in progress and ends the run as cancelled", () =>
    Effect.gen(function* () {
      const h = yield* harness([planTurn("a"), Scripted.hang])
      const fiber = yield* Effect.forkChild(Effect.flip(Run.execute(h.context, h.control)))
      yield* Effect.yieldNow
      while ((yield* h.model.requests).length < 2) yield* TestClock.adjust("1 millis")
      yield* Deferred.succeed(h.control.cancel, undefined)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RunCancelled")
      assert.strictEqual(yield* h.model.interruptions, 1)
      const ended = h.events.at(-1)!
      assert.strictEqual(ended._tag === "AgentRunEnded" && ended.status, "cancelled")
    })
  )

  describe("loop detection", () => {
    it.effect("the same tool call over and over triggers a reflection, then a typed stop", () =>
      Effect.gen(function* () {
        const same = callTurn({ name: "echo", params: { text: "again" } })
        const h = yield* harness(
          [planTurn("a"), same, same, same, same, reflectTurn("continue"), same, reflectTurn("continue")],
          { spec: spec({ reflection: { everySteps: 100 } }) }
        )
        const error = yield* Effect.flip(Run.execute(h.context, h.control))
        assert.strictEqual(error._tag, "LoopDetected")
        assert.match(error.message, /the same tool call was made more than 3 times/)
        // After the first detection the model was told to change approach.
        const prompts = yield* h.model.prompts
        assert.match(JSON.stringify(prompts[6]!.content.at(-1)), /repeating yourself/)
      })
    )

    it.effect("the same call told something new each time is progress, not a loop", () =>
      Effect.gen(function* () {
        // Running the tests again after each change: same arguments, a different outcome every time.
        const RunTests = Tool.make("run_tests", { parameters: Schema.Struct({}), success: Schema.String })
        const Kit = Toolkit.make(RunTests)
        let runs = 0
        const kit = yield* Kit.pipe(
          Effect.provide(Kit.toLayer({ run_tests: () => Effect.sync(() => `${5 - ++runs} tests failing`) }))
        )
        const again = callTurn({ name: "run_tests", params: {} })
        const h = yield* harness(
          [planTurn("a"), again, again, again, again, again, Scripted.text("all green"), reflectTurn("done")],
          { spec: spec({ reflection: { everySteps: 100 } }), tools: false }
        )
        const result = yield* Run.execute({ ...h.context, toolkit: kit }, h.control)
        assert.strictEqual(runs, 5)
        assert.strictEqual(result.answer, "all green")
      })
    )

    it.effect("no plan progress over several steps, likewise", () =>
      Effect.gen(function* () {
        const steps = Array.from({ length: 12 }, (_, i) => callTurn({ name: "echo", params: { text: `${i}` } }))
        const h = yield* harness(
          [planTurn("a"), ...steps.slice(0, 10), reflectTurn("continue"), steps[10]!, reflectTurn("continue")],
          { spec: spec({ reflection: { everySteps: 100 } }) }
        )
        const error = yield* Effect.flip(Run.execute(h.context, h.control))
        assert.strictEqual(error._tag, "LoopDetected")
        assert.match(error.message, /no progress on the plan in 10 steps/)
      })
    )
  })
})
