import { assert, describe, it } from "@effect/vitest"
import { AuditLog } from "@troupe/agent"
import { Orchestrator } from "@troupe/orchestrator"
import * as Effect from "effect/Effect"
import * as TeamGoal from "../src/internal/teamGoal.ts"
import { models, services, team, tempDirs } from "./support.ts"

describe("TeamGoal", () => {
  it.live("a goal offered to a busy team is refused on return; the one taken ends under the id it was given", () =>
    Effect.gen(function* () {
      const dirs = yield* tempDirs
      const audit = yield* AuditLog.make({ home: dirs.home, durability: "written" })
      const orchestrator = yield* Effect.gen(function* () {
        return yield* Orchestrator.make(team, { models: yield* models, audit })
      }).pipe(Effect.provide(yield* services(dirs.work)))
      const taken = yield* TeamGoal.offer(orchestrator, "Write a note", "orch-20261130T000000-taken")
      const refused = yield* TeamGoal.offer(orchestrator, "Write another", "orch-20261130T000000-other")
      assert.strictEqual(refused, "busy")
      if (typeof taken === "string") return assert.fail(`the idle team refused the goal: ${taken}`)
      const report = yield* taken
      assert.strictEqual(report.orchestrationId, "orch-20261130T000000-taken")
      assert.isTrue(yield* TeamGoal.hasEnded(audit, "orch-20261130T000000-taken"))
      assert.isFalse(yield* TeamGoal.hasEnded(audit, "orch-20261130T000000-other"))
    }).pipe(Effect.scoped)
  )

  it.effect("the digest of a team is the same for the same team and changes with its members", () =>
    Effect.sync(() => {
      const digest = TeamGoal.digestOf(team)
      assert.match(digest, /^[0-9a-f]{64}$/)
      assert.strictEqual(TeamGoal.digestOf({ ...team }), digest)
      assert.notStrictEqual(TeamGoal.digestOf({ ...team, agents: team.agents.slice(0, 1) }), digest)
    })
  )
})
