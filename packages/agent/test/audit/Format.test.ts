import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import * as AuditLog from "../../src/AuditLog.ts"
import { readAll, withAudit } from "./support.ts"

// Every escape or control character a hostile tool output could use on a terminal, but newline and tab.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

const run = { runId: "run", agent: "backend", at: 0 }

describe("AuditLog.format", () => {
  it.effect("prints one timeline line per entry with a summary for each known type", () =>
    withAudit((audit) =>
      Effect.gen(function* () {
        const log = yield* audit.open("run", "backend")
        const events = [
          { _tag: "AgentRunStarted", ...run, goal: "add a health endpoint", specDigest: "abc" },
          { _tag: "AgentStepStarted", ...run, step: 1 },
          {
            _tag: "AgentModelCalled",
            ...run,
            step: 1,
            purpose: "act",
            provider: "openai",
            model: "gpt-5-mini",
            inputTokens: 1200,
            outputTokens: 80,
            costUsd: 0.00046,
            costEstimated: false,
            latencyMs: 840,
            finishReason: "tool-calls",
            text: "",
            toolCalls: [{ id: "c1", name: "fs_write" }]
          },
          { _tag: "AgentToolCalled", ...run, step: 1, toolCallId: "c1", tool: "fs_write", params: { path: "a.ts" } },
          {
            _tag: "AgentApprovalRequested",
            ...run,
            approvalId: "ap1",
            toolCallId: "c1",
            tool: "fs_write",
            params: {},
            reason: "write"
          },
          { _tag: "AgentApprovalDecided", ...run, approvalId: "ap1", approved: true, by: "ana" },
          {
            _tag: "ActorRestarted",
            path: "/team/backend",
            reason: { _tag: "Died", defect: "boom\nat line 3" },
            trigger: "/team/backend",
            delayMillis: 100,
            at: 0
          },
          {
            _tag: "MixtureFanOut",
            id: 3,
            strategy: "first-valid",
            startedAt: 0,
            durationMs: 812,
            winner: { provider: "anthropic", model: "claude-sonnet-4-5" },
            attempts: [
              { provider: "anthropic", model: "claude-sonnet-4-5", outcome: "won", latencyMs: 810, costUsd: 0.012 },
              { provider: "openai", model: "gpt-5-mini", outcome: "cancelled" }
            ]
          },
          { _tag: "SomethingNew", count: 2, label: "two words", nested: { a: [1, 2] } }
        ]
        for (const event of events) {
          yield* TestClock.adjust("1250 millis")
          yield* log.appendEvent(event)
        }
        const lines = AuditLog.format(yield* readAll(audit, "run"))
        assert.deepStrictEqual(lines, [
          " +0:00.000  #0  genesis                 audit trail v1 of run run, opened by backend at 1970-01-01T00:00:00.000Z",
          " +0:01.250  #1  AgentRunStarted         run started: goal add a health endpoint",
          " +0:02.500  #2  AgentStepStarted        step 1",
          " +0:03.750  #3  AgentModelCalled        step 1 openai/gpt-5-mini: 1200→80 tokens, $0.00046, 840ms, calls fs_write",
          ' +0:05.000  #4  AgentToolCalled         step 1 fs_write {"path":"a.ts"}',
          " +0:06.250  #5  AgentApprovalRequested  fs_write {} awaits approval ap1: write",
          " +0:07.500  #6  AgentApprovalDecided    approval ap1 approved by ana",
          " +0:08.750  #7  ActorRestarted          /team/backend restarts in 100ms after died: boom",
          " +0:10.000  #8  MixtureFanOut           mixture #3 first-valid: anthropic/claude-sonnet-4-5 won in 812ms (anthropic won 810ms, openai cancelled) $0.012",
          ' +0:11.250  #9  SomethingNew            count=2 label="two words" nested={"a":[1,2]}'
        ])
        const custom = AuditLog.format(yield* readAll(audit, "run"), {
          summarizers: { SomethingNew: (data) => `new thing: ${JSON.stringify(data)}` },
          width: 30
        })
        assert.strictEqual(custom[9], ' +0:11.250  #9  SomethingNew            new thing: {"count":2,"label"…')
      })
    )
  )

  it.effect("strips terminal escapes and control characters from everything it prints", () =>
    withAudit((audit) =>
      Effect.gen(function* () {
        const log = yield* audit.open("run", "backend\u001b[2J")
        yield* log.append("Evil\u001b]0;pwned\u0007\u001b[1A", { "\u001b[2Jkey": "\u009b1;1H" })
        yield* log.append("AgentToolResult", {
          step: 1,
          tool: "shell_run",
          isFailure: false,
          result:
            "ok\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[31mred\u001b[0m\r\nline two\u009b2Jc1\u202eevil\u0000\u001bc\tend"
        })
        const lines = AuditLog.format(yield* readAll(audit, "run"))
        assert.strictEqual(lines.length, 3)
        for (const line of lines) {
          assert.notMatch(line, unsafe, JSON.stringify(line))
          assert.notInclude(line, "\n")
        }
        assert.include(lines[0]!, "opened by backend at")
        assert.include(lines[1]!, "Evil             key=")
        assert.notInclude(lines[1]!, "pwned")
        assert.include(lines[2]!, "AgentToolResult  step 1 shell_run ok: okred↵line twoc1evil end")
      })
    )
  )

  it("sanitize keeps newlines and tabs and removes the rest", () => {
    assert.strictEqual(AuditLog.sanitize("a\u001b[1mb\u001b[0m\n\tc\r\u0007\u009d8;;http://x\u009cd"), "ab\n\tcd")
    assert.strictEqual(AuditLog.sanitize("plain text ✓"), "plain text ✓")
  })
})
