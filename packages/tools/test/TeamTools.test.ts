import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TeamTools from "../src/TeamTools.ts"
import * as TestDelegation from "../src/testing/TestDelegation.ts"
import * as TestHuman from "../src/testing/TestHuman.ts"
import { caller } from "./support.ts"

const team = (human: TestHuman.TestHuman, delegation: TestDelegation.TestDelegation, agents: Array<string>) =>
  caller(
    TeamTools.toolkit,
    TeamTools.toolkit.toLayer({
      ask_human: TeamTools.askHuman(human.service),
      delegate: TeamTools.delegate(delegation.service, { agents })
    })
  )

describe("TeamTools", () => {
  it.effect("asks the person and returns the answers in order, then reports nobody left", () =>
    Effect.gen(function* () {
      const human = TestHuman.make(["yes, deploy", "no"])
      const tool = team(human, TestDelegation.make({}), [])
      assert.deepStrictEqual((yield* tool("ask_human", { question: "Deploy now?" })).result, { answer: "yes, deploy" })
      assert.deepStrictEqual((yield* tool("ask_human", { question: "Also staging?" })).result, { answer: "no" })
      const none = yield* tool("ask_human", { question: "And?" })
      assert.deepStrictEqual(none, {
        isFailure: true,
        result: { _tag: "HumanUnavailable", reason: "no scripted answer left" }
      })
      assert.deepStrictEqual(human.questions, ["Deploy now?", "Also staging?", "And?"])
      assert.deepInclude((yield* tool("ask_human", { question: " " })).result, { _tag: "InvalidArgument" })
    })
  )

  it.effect("delegates to the listed agents only, and reports one the team does not have", () =>
    Effect.gen(function* () {
      const delegation = TestDelegation.make({ tester: (task) => `tested: ${task}`, writer: () => "written" })
      const tool = team(TestHuman.make([]), delegation, ["tester", "ghost"])
      const ok = yield* tool("delegate", { agent: "tester", task: "run the suite" })
      assert.deepStrictEqual(ok.result, { agent: "tester", result: "tested: run the suite" })
      const refused = yield* tool("delegate", { agent: "writer", task: "x" })
      assert.deepStrictEqual(refused.result, { _tag: "AgentNotAllowed", agent: "writer", allowed: ["tester", "ghost"] })
      const missing = yield* tool("delegate", { agent: "ghost", task: "x" })
      assert.deepStrictEqual(missing.result, {
        _tag: "DelegationFailed",
        agent: "ghost",
        reason: "no such agent in the team"
      })
      assert.deepStrictEqual(delegation.delegations, [
        { agent: "tester", task: "run the suite" },
        { agent: "ghost", task: "x" }
      ])
      const anyone = team(TestHuman.make([]), delegation, [])
      assert.strictEqual((yield* anyone("delegate", { agent: "writer", task: "y" })).result.result, "written")
    })
  )
})
