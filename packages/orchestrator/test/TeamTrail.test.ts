import { assert, describe, it } from "@effect/vitest"
import { AuditLog } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as TeamTrail from "../src/TeamTrail.ts"
import { tempDir } from "./support.ts"

/**
 * The verdict on runs made elsewhere (a cluster's runners) that ended without a head their runner read: an attempt
 * interrupted before it answered. Their trail is verified without an anchor when it is here, named as to be verified
 * on its runner when it is not; a run made here with no head recorded is a problem.
 */

const orchestrationId = "orch-test"
const base = { orchestrationId, team: "t", at: 1, agent: "alpha" }

const link = (runId: string, extra: { readonly runner?: string; readonly broken?: string }) => ({
  _tag: "OrchestrationRunLinked" as const,
  ...base,
  subtaskId: "only",
  runId,
  ...extra
})

describe("TeamTrail.verify", () => {
  it.live("a run interrupted elsewhere is verified without an anchor here, or left to its runner", () =>
    Effect.gen(function* () {
      const home = yield* tempDir("troupe-team-trail-")
      const audit = yield* AuditLog.make({ home })
      // The interrupted attempt's trail is here (a shared home), intact.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const run = yield* audit.open(`${orchestrationId}.only.1`, "alpha")
          yield* run.append("AgentRunStarted", { runId: `${orchestrationId}.only.1` })
        })
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const trail = yield* audit.open(orchestrationId, "orchestrator")
          yield* trail.appendEvent(
            link(`${orchestrationId}.only.1`, { runner: "unknown", broken: "no trail was read on runner unknown" })
          )
          yield* trail.appendEvent(
            link(`${orchestrationId}.only.2`, { runner: "10.0.0.2:4001", broken: "no trail was read" })
          )
        })
      )
      const verdict = yield* TeamTrail.verify(audit, orchestrationId)
      assert.isTrue(verdict.intact, TeamTrail.describe(verdict).join("\n"))
      assert.deepStrictEqual(
        verdict.runs.map((r) => [r.runId, r.verification?._tag, r.elsewhere]),
        [
          [`${orchestrationId}.only.1`, "Intact", undefined],
          [`${orchestrationId}.only.2`, undefined, "10.0.0.2:4001"]
        ]
      )

      // A run made here whose head was never recorded is a problem of the verdict.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const trail = yield* audit.open(orchestrationId, "orchestrator")
          yield* trail.appendEvent(link(`${orchestrationId}.only.3`, { broken: "its trail could not be read" }))
        })
      )
      const after = yield* TeamTrail.verify(audit, orchestrationId)
      assert.isFalse(after.intact)
      assert.include(after.runs[2]!.problem ?? "", "no head was recorded")
    }).pipe(Effect.scoped)
  )
})
