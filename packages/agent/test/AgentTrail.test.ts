import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Agent from "../src/Agent.ts"
import * as AgentEvents from "../src/AgentEvents.ts"
import * as ApprovalStore from "../src/ApprovalStore.ts"
import * as AuditLog from "../src/AuditLog.ts"
import { callTurn, planTurn, reflectTurn, spec, toolkit } from "./support.ts"

const home = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-agent-trail-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const services = Layer.mergeAll(
  ActorSystem.layer(),
  AgentEvents.layer,
  ProviderPool.layer(),
  NodeHttpClient.layerUndici
)

describe("an agent's trail and approvals on disk", () => {
  it.live("every event of a run lands in its audit trail, which verifies; an approval decided from the store", () =>
    Effect.gen(function* () {
      const dir = yield* home
      const audit = yield* AuditLog.AuditLog
      const approvals = yield* ApprovalStore.make(join(dir, "approvals"))
      const model = yield* Scripted.make([
        planTurn("a"),
        callTurn({ name: "note", params: { text: "ship" } }),
        Scripted.text("shipped"),
        reflectTurn("done", { answer: "shipped" })
      ])
      const notes: Array<string> = []
      const agent = yield* Agent.make(spec({ approvals: { default: "ask" } }), {
        model: model.languageModel,
        toolkit: yield* toolkit(notes),
        audit,
        approvals
      })
      const running = yield* Effect.forkChild(agent.run("ship it"))
      // Another process sees the request in the store and decides it there.
      const other = yield* ApprovalStore.make(join(dir, "approvals"))
      let pending: ReadonlyArray<ApprovalStore.Stored> = []
      while (pending.length === 0) {
        pending = (yield* other.list).filter((s) => s.decision === undefined)
        yield* Effect.sleep("20 millis")
      }
      assert.strictEqual(pending[0]!.request.tool, "note")
      assert.isTrue(yield* other.decide(pending[0]!.request.approvalId, { approved: true, by: "ana" }))
      assert.isFalse(yield* other.decide(pending[0]!.request.approvalId, { approved: false, by: "bob" }))
      const result = yield* Fiber.join(running)
      assert.deepStrictEqual(notes, ["ship"])
      const types = yield* audit.read(result.runId).pipe(
        Stream.map((entry) => entry.type),
        Stream.runCollect
      )
      assert.deepStrictEqual(
        [...types].filter((t) => t !== "AgentModelCalled" && t !== "AgentStepStarted"),
        [
          "genesis",
          "AgentRunStarted",
          "AgentPlanMade",
          "AgentApprovalRequested",
          "AgentApprovalDecided",
          "AgentToolCalled",
          "AgentToolResult",
          "AgentReflected",
          "AgentRunEnded"
        ]
      )
      const verified = yield* audit.verify(result.runId)
      assert.strictEqual(verified._tag, "Intact")
      const decided = (yield* other.list)[0]!
      assert.deepStrictEqual(decided.decision, { approved: true, by: "ana" })
    }).pipe(
      Effect.scoped,
      Effect.provide(services),
      Effect.provide(Layer.unwrap(Effect.map(home, (dir) => AuditLog.layerTest(join(dir, "trails")))))
    )
  )
})
