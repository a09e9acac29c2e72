import { assert, describe, it } from "@effect/vitest"
import * as LiveView from "../src/LiveView.ts"

const base = { runId: "r", agent: "a", at: 0 }

describe("LiveView", () => {
  it("follows steps, tokens, cost, the plan and waiting approvals", () => {
    let stats = LiveView.empty
    stats = LiveView.update(stats, { _tag: "AgentStepStarted", ...base, step: 3 })
    stats = LiveView.update(stats, {
      _tag: "AgentPlanMade",
      ...base,
      revision: 1,
      plan: {
        goals: [1, 2].map((i) => ({
          id: `g${i}`,
          title: "t",
          status: "pending",
          dependsOn: [],
          acceptance: "",
          subgoals: []
        }))
      }
    })
    for (const tokens of [1000, 234]) {
      stats = LiveView.update(stats, {
        _tag: "AgentModelCalled",
        ...base,
        step: 3,
        purpose: "act",
        provider: "openai",
        model: "m",
        inputTokens: tokens,
        outputTokens: 0,
        costUsd: 0.001,
        costEstimated: false,
        latencyMs: 1,
        finishReason: "stop",
        text: "",
        toolCalls: []
      })
    }
    stats = LiveView.update(stats, {
      _tag: "AgentApprovalRequested",
      ...base,
      approvalId: "x",
      toolCallId: "c",
      tool: "fs_delete",
      params: {},
      reason: ""
    })
    assert.strictEqual(LiveView.statusLine(stats), "[step 3 | 1,234 tokens | $0.0020 | 2 goals | 1 approval waiting]")
    stats = LiveView.update(stats, {
      _tag: "AgentApprovalDecided",
      ...base,
      approvalId: "x",
      approved: true,
      by: "ana"
    })
    assert.strictEqual(LiveView.statusLine(stats, 20), "[step 3 | 1,234 tok…")
  })
})
