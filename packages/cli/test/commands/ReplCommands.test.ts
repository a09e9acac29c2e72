import { assert, describe, it } from "@effect/vitest"
import * as ReplCommands from "../../src/commands/ReplCommands.ts"
import * as ReplConversation from "../../src/commands/ReplConversation.ts"
import * as ReplCost from "../../src/commands/ReplCost.ts"

describe("ReplCommands", () => {
  it("understands prompts and every slash command, and says how to use one used wrongly", () => {
    const parse = ReplCommands.parse
    assert.deepStrictEqual(parse("  what is in README.md?  "), { _tag: "Prompt", text: "what is in README.md?" })
    assert.deepStrictEqual(parse("   "), { _tag: "Empty" })
    assert.deepStrictEqual(parse("//etc/hosts is what file?"), { _tag: "Prompt", text: "/etc/hosts is what file?" })
    assert.deepStrictEqual(parse("/help"), { _tag: "Help" })
    assert.deepStrictEqual(parse("/CLEAR"), { _tag: "Clear" })
    assert.deepStrictEqual(parse("/agent"), { _tag: "Agent", name: undefined })
    assert.deepStrictEqual(parse("/agent  ./my agent.yaml "), { _tag: "Agent", name: "./my agent.yaml" })
    assert.deepStrictEqual(parse("/model"), { _tag: "Model", ref: undefined })
    assert.deepStrictEqual(parse("/model anthropic/claude-sonnet-4-5"), {
      _tag: "Model",
      ref: "anthropic/claude-sonnet-4-5"
    })
    assert.strictEqual(parse("/model a b")._tag, "Invalid")
    assert.deepStrictEqual(parse("/mixture"), { _tag: "Mixture", on: undefined })
    assert.deepStrictEqual(parse("/mixture ON"), { _tag: "Mixture", on: true })
    assert.deepStrictEqual(parse("/mixture off"), { _tag: "Mixture", on: false })
    assert.strictEqual(parse("/mixture maybe")._tag, "Invalid")
    assert.deepStrictEqual(parse("/memory why did the build fail"), { _tag: "Memory", query: "why did the build fail" })
    assert.strictEqual(parse("/memory")._tag, "Invalid")
    assert.deepStrictEqual(parse("/approvals"), { _tag: "Approvals" })
    assert.deepStrictEqual(parse("/audit"), { _tag: "Audit" })
    assert.deepStrictEqual(parse("/cost"), { _tag: "Cost" })
    assert.deepStrictEqual(parse("/exit"), { _tag: "Exit" })
    assert.deepStrictEqual(parse("/quit"), { _tag: "Exit" })
    const unknown = parse(`/${"x".repeat(500)}`)
    assert.isTrue(unknown._tag === "Invalid" && unknown.message.length < 200)
  })
})

describe("ReplConversation", () => {
  it("puts the person's line first and carries only the last exchanges, each cut", () => {
    assert.strictEqual(ReplConversation.goalOf(ReplConversation.empty, "hello"), "hello")
    let conversation = ReplConversation.empty
    for (let i = 0; i < 10; i++) {
      conversation = ReplConversation.add(conversation, { prompt: `question ${i}`, answer: "a".repeat(5_000) })
    }
    assert.strictEqual(conversation.length, ReplConversation.maxExchanges)
    const goal = ReplConversation.goalOf(conversation, "and now?")
    assert.isTrue(goal.startsWith("and now?\n"))
    assert.notInclude(goal, "question 3\n")
    assert.include(goal, "Person: question 4\n")
    assert.include(goal, "Person: question 9\n")
    assert.notInclude(goal, "a".repeat(ReplConversation.maxAnswer + 1))
  })
})

describe("ReplCost", () => {
  it("sums runs by provider", () => {
    const spend = (provider: string, costUsd: number, estimated = false) => ({
      steps: 2,
      modelCalls: 3,
      inputTokens: 1_000,
      outputTokens: 100,
      costUsd,
      costEstimated: estimated,
      byProvider: [{ provider, calls: 3, inputTokens: 1_000, outputTokens: 100, costUsd }]
    })
    const cost = [spend("openai", 0.001), spend("anthropic", 0.01, true), spend("openai", 0.002)].reduce(
      ReplCost.add,
      ReplCost.empty
    )
    assert.deepStrictEqual(ReplCost.lines(cost), [
      "this session: 3 runs, 6 steps, 9 model calls, 3,000 tokens in, 300 out, $0.013000 (partly estimated)",
      "  openai: 6 calls, 2,000 in, 200 out, $0.003000",
      "  anthropic: 3 calls, 1,000 in, 100 out, $0.010000"
    ])
    assert.deepStrictEqual(ReplCost.lines(ReplCost.empty), [
      "this session: 0 runs, 0 steps, 0 model calls, 0 tokens in, 0 out, $0.000000"
    ])
  })
})
