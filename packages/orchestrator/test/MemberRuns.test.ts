import { assert, describe, it } from "@effect/vitest"
import { AuditLog, Spend } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as MemberRuns from "../src/MemberRuns.ts"
import * as Orchestrator from "../src/Orchestrator.ts"
import type * as OrchestratorEvent from "../src/OrchestratorEvent.ts"
import { manager, services, spec, subtask, team, tempDir, worker } from "./support.ts"

/**
 * The seam where a subtask's run is made: a `MemberRuns` layer standing in for a cluster's runners (its runs never touch
 * the members' actors). Its typed failures are retried and reassigned as local ones are, what its runs spent counts
 * into the team's budget, and its runs are linked into the orchestration's trail with the runner that made them.
 */

const runner = "127.0.0.1:4001"

/** Runs made "elsewhere": the attempts it is asked for, and how each ends, by member. */
const elsewhere = (ending: (request: MemberRuns.Request) => "done" | "not-delivered" | "failed") => {
  const asked: Array<MemberRuns.Request> = []
  const service: MemberRuns.Service = {
    exclusive: false,
    run: (request) =>
      Effect.suspend((): Effect.Effect<MemberRuns.Done, MemberRuns.Failure> => {
        asked.push(request)
        const runId = `${request.orchestrationId}.${request.subtaskId}.${request.attempt}`
        const named = { subtaskId: request.subtaskId, agent: request.member.name, runId }
        switch (ending(request)) {
          case "not-delivered":
            return Effect.fail(new MemberRuns.RunNotDelivered({ ...named, reason: "MailboxFull" }))
          case "failed":
            return Effect.fail(new MemberRuns.RemoteRunFailed({ ...named, tag: "GaveUp", reason: "lost", runner }))
          case "done":
            return Effect.succeed<MemberRuns.Done>({
              result: {
                runId,
                answer: `${request.member.name} did ${request.subtaskId}`,
                spend: { ...Spend.zero, steps: 3, inputTokens: 10, outputTokens: 5, costUsd: 0.25 },
                durationMs: 1
              },
              elsewhere: { runner, head: { seq: 4, hash: "a".repeat(64) } }
            })
        }
      })
  }
  return { asked, layer: Layer.succeed(MemberRuns.MemberRuns, service) }
}

const ofTag = <T extends OrchestratorEvent.OrchestratorEvent["_tag"]>(
  events: ReadonlyArray<OrchestratorEvent.OrchestratorEvent>,
  tag: T
) => events.filter((e): e is Extract<OrchestratorEvent.OrchestratorEvent, { _tag: T }> => e._tag === tag)

const twoMembers = Effect.gen(function* () {
  const boss = yield* manager([subtask("one", { agent: "near" }), subtask("two", { agent: "near" })])
  const idle = yield* worker({ answer: "never asked" })
  return {
    team: team([spec({ name: "near" }), spec({ name: "far" })], { manager: spec({ name: "manager" }) }),
    models: (s: { readonly name: string }) => (s.name === "manager" ? boss.languageModel : idle.languageModel)
  }
})

describe("MemberRuns", () => {
  it.live(
    "runs made elsewhere: a delivery failure is retried, then reassigned; their spending counts; each is linked with its runner",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir("troupe-member-runs-")
        const audit = yield* AuditLog.make({ home })
        const setup = yield* twoMembers
        const runs = elsewhere((r) => (r.member.name === "near" && r.subtaskId === "two" ? "not-delivered" : "done"))
        const orchestrator = yield* Orchestrator.make(setup.team, { models: setup.models, retries: 1, audit }).pipe(
          Effect.provide(runs.layer)
        )
        const subscription = yield* orchestrator.subscribe
        const report = yield* orchestrator.orchestrate("both")
        const events = (yield* PubSub.takeAll(subscription)) as ReadonlyArray<OrchestratorEvent.OrchestratorEvent>

        assert.deepStrictEqual(
          report.subtasks.map((s) => [s.id, s.agent, s.attempts, s.answer]),
          [
            ["one", "near", 1, "near did one"],
            ["two", "far", 3, "far did two"]
          ]
        )
        // Each attempt asked for with its orchestration, subtask and number, on the member the orchestration chose.
        assert.deepStrictEqual(
          runs.asked.filter((r) => r.subtaskId === "two").map((r) => [r.member.name, r.attempt]),
          [
            ["near", 1],
            ["near", 2],
            ["far", 3]
          ]
        )
        assert.isTrue(runs.asked.every((r) => r.orchestrationId === report.orchestrationId))
        assert.deepStrictEqual(
          ofTag(events, "OrchestrationSubtaskFailed").map((e) => [e.agent, e.error.tag, e.next]),
          [
            ["near", "RunNotDelivered", "retry"],
            ["near", "RunNotDelivered", "reassign"]
          ]
        )
        assert.include(ofTag(events, "OrchestrationSubtaskFailed")[0]!.error.message, "subtask two")
        // The two runs made elsewhere spent 3 steps and $0.25 each; the team's budget counted them.
        assert.strictEqual(report.spend.steps, 6)
        assert.isAtLeast(report.spend.costUsd, 0.5)
        // Linked by run id, with the runner and the head it read; a run never delivered is not linked.
        const links = ofTag(events, "OrchestrationRunLinked")
        assert.deepStrictEqual(links.map((l) => [l.subtaskId, l.runId, l.runner, l.head?.seq]).sort(), [
          ["one", `${report.orchestrationId}.one.1`, runner, 4],
          ["two", `${report.orchestrationId}.two.3`, runner, 4]
        ])
        assert.strictEqual(ofTag(events, "OrchestrationSubtaskSucceeded").length, 2)
      }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live(
    "a run failing elsewhere on every member fails the goal naming the subtask, each attempt and the runner",
    () =>
      Effect.gen(function* () {
        const setup = yield* twoMembers
        const runs = elsewhere((r) => (r.subtaskId === "two" ? "failed" : "done"))
        const orchestrator = yield* Orchestrator.make(setup.team, { models: setup.models, retries: 0 }).pipe(
          Effect.provide(runs.layer)
        )
        const error = yield* Effect.flip(orchestrator.orchestrate("both"))
        assert.strictEqual(error._tag, "SubtaskFailed")
        if (error._tag !== "SubtaskFailed") return
        assert.strictEqual(error.subtask, "two")
        assert.deepStrictEqual(
          error.attempts.map((a) => [a.agent, a.error.tag, a.runId]),
          [
            ["near", "RemoteRunFailed", `${error.partial.orchestrationId}.two.1`],
            ["far", "RemoteRunFailed", `${error.partial.orchestrationId}.two.2`]
          ]
        )
        assert.include(error.attempts[1]!.error.message, `failed on ${runner} (GaveUp): lost`)
      }).pipe(Effect.scoped, Effect.provide(services))
  )
})
