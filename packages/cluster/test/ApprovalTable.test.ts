import { assert, describe, it } from "@effect/vitest"
import type { Approvals } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as ApprovalTable from "../src/ApprovalTable.ts"
import * as ThrowawayPostgres from "../src/ThrowawayPostgres.ts"

const request = (approvalId: string, policy: Approvals.Request["policy"] = "ask"): Approvals.Request => ({
  approvalId,
  runId: "run-1",
  toolCallId: `call-${approvalId}`,
  tool: "shell_run",
  params: { command: "node", args: ["record.mjs", approvalId] },
  reason: "to record it",
  policy
})

/** Waits until `approvalId` is listed as pending. */
const pendingIn = (store: ApprovalTable.Store, approvalId: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      const listed = yield* store.list
      if (listed.some((s) => s.request.approvalId === approvalId && s.decision === undefined)) return true
      yield* Effect.sleep("20 millis")
    }
    return false
  })

describe("ApprovalTable", () => {
  it.live(
    "a gate's request waits in PostgreSQL until another connection decides it, once, with who and when; asked again (a task taken over) it finds the decision",
    () =>
      Effect.gen(function* () {
        const postgres = yield* ThrowawayPostgres.make()
        // Two stores, two pools: the runner's, and a shell elsewhere.
        const runner = yield* ApprovalTable.connect(postgres.url)
        const shell = yield* ApprovalTable.connect(postgres.url)
        assert.notInclude(runner.directory, postgres.url)
        const gate = runner.gate({ pollEvery: "20 millis" })

        const waiting = yield* Effect.forkChild(gate.decide(request("a-1")))
        assert.isTrue(yield* pendingIn(shell, "a-1"))
        assert.deepStrictEqual(
          (yield* gate.pending).map((r) => r.approvalId),
          ["a-1"]
        )
        assert.isTrue(yield* shell.decide("a-1", { approved: false, by: "ana", reason: "not today" }))
        // Decided once: another decision finds it taken, and an unknown id finds nothing.
        assert.isFalse(yield* shell.decide("a-1", { approved: true, by: "bob" }))
        assert.isFalse(yield* shell.decide("no-such", { approved: true, by: "bob" }))
        const decision = yield* Fiber.join(waiting)
        assert.deepStrictEqual(decision, { approved: false, by: "ana", reason: "not today" })
        const records = yield* shell.records
        assert.strictEqual(records.length, 1)
        assert.deepStrictEqual(records[0]!.request, request("a-1"))
        assert.isAbove(records[0]!.decidedAt ?? 0, records[0]!.requestedAt - 1)

        // The same request asked again (its task resumed on another runner): the decision stands, nothing waits.
        const again = yield* runner.gate().decide(request("a-1"))
        assert.deepStrictEqual(again, decision)
        assert.strictEqual((yield* shell.records).length, 1)

        // A decision made in the runner's process (resolve) is recorded in the table too.
        const local = yield* Effect.forkChild(gate.decide(request("a-2")))
        assert.isTrue(yield* pendingIn(shell, "a-2"))
        assert.isTrue(yield* gate.resolve("a-2", { approved: true, by: "runner-person" }))
        assert.deepStrictEqual(yield* Fiber.join(local), { approved: true, by: "runner-person" })
        const stored = (yield* shell.list).find((s) => s.request.approvalId === "a-2")
        assert.deepStrictEqual(stored?.decision, { approved: true, by: "runner-person" })

        // The policy's own decisions never wait and are not stored.
        assert.deepStrictEqual(yield* gate.decide(request("a-3", "deny")), {
          approved: false,
          by: "policy",
          reason: "the policy denies shell_run"
        })
        assert.isUndefined((yield* shell.list).find((s) => s.request.approvalId === "a-3"))
      }).pipe(Effect.scoped),
    60_000
  )
})
