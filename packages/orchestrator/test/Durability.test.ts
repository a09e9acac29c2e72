import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { AgentEvents, type AuditEntry, AuditLog, RunJournal } from "@troupe/agent"
import type { TeamSpec } from "@troupe/agent-spec"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import { skipRecorded } from "../src/internal/resumedTrail.ts"
import * as Orchestrator from "../src/Orchestrator.ts"
import type * as OrchestratorEvent from "../src/OrchestratorEvent.ts"
import * as TeamTrail from "../src/TeamTrail.ts"
import { manager, pooled, services, spec, subtask, team, tempDir } from "./support.ts"

/**
 * A member that plans nothing, answers and reflects done; while `hang.on`, its acting turn never answers (the run is
 * in flight when the orchestration stops).
 */
const member = (answer: string, hang: { on: boolean }) =>
  Scripted.make(
    [
      Scripted.dynamic((request) => {
        const name = request.responseFormat.type === "json" ? request.responseFormat.objectName : undefined
        if (name === "plan") return Scripted.text(JSON.stringify({ goals: [] }))
        if (name === "reflection") {
          return Scripted.text(JSON.stringify({ outcome: "done", reasoning: "finished", progress: [], answer }))
        }
        return hang.on ? Scripted.hang : Scripted.text(answer)
      })
    ],
    { cycle: true }
  )

// Each life is one process's: its own actors, event hub and journal engine over the same directory.
const lifeOf =
  (home: string, members: TeamSpec.Team, models: ReadonlyMap<string, LanguageModel.LanguageModel>) =>
  <A, E>(
    body: (orchestrator: Orchestrator.Orchestrator, audit: AuditLog.Service) => Effect.Effect<A, E, Scope.Scope>
  ) =>
    Effect.gen(function* () {
      const audit = yield* AuditLog.make({ home })
      const orchestrator = yield* Orchestrator.make(members, {
        audit,
        concurrency: 2,
        models: (s) => models.get(s.name)
      })
      return yield* body(orchestrator, audit)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.mergeAll(ActorSystem.layer(), AgentEvents.layer, RunJournal.layer({ directory: join(home, "runs") }))
      )
    )

/** A member that gives up in its first run; while `hang.on`, the acting turn of its later runs never answers. */
const retrying = (answer: string, hang: { on: boolean }) =>
  Effect.gen(function* () {
    let reflections = 0
    return yield* Scripted.make(
      [
        Scripted.dynamic((request) => {
          const name = request.responseFormat.type === "json" ? request.responseFormat.objectName : undefined
          if (name === "plan") return Scripted.text(JSON.stringify({ goals: [] }))
          if (name === "reflection") {
            return Scripted.text(
              JSON.stringify(
                reflections++ === 0
                  ? { outcome: "give-up", reasoning: "not yet", progress: [] }
                  : { outcome: "done", reasoning: "finished", progress: [], answer }
              )
            )
          }
          return hang.on && reflections > 0 ? Scripted.hang : Scripted.text(answer)
        })
      ],
      { cycle: true }
    )
  })

const goal = "Count to two"
const orchestrationId = "orch-20261130T120000-resume"

describe("Orchestrator (durable)", () => {
  it.live(
    "stopped with one subtask done and one in flight, it resumes under its id: no call asked twice, the same runs, one trail",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir("troupe-orchestrator-durable-")
        const hang = { on: true }
        const alpha = yield* member("one counted", { on: false })
        const beta = yield* member("two counted", hang)
        const boss = yield* manager([subtask("one", { agent: "alpha" }), subtask("two", { agent: "beta" })])
        const models = new Map<string, LanguageModel.LanguageModel>([
          ["alpha", yield* pooled(alpha.languageModel)],
          ["beta", yield* pooled(beta.languageModel)],
          ["lead", yield* pooled(boss.languageModel)]
        ])
        const counters = team(
          [spec({ name: "alpha", description: "Counts" }), spec({ name: "beta", description: "Counts" })],
          { manager: spec({ name: "lead" }), name: "counters" }
        )
        const phase = lifeOf(home, counters, models)

        // First life: stopped once "one" is done and beta's answer is being asked for.
        yield* phase((orchestrator) =>
          Effect.gen(function* () {
            const events = yield* orchestrator.subscribe
            yield* Effect.forkChild(orchestrator.orchestrate(goal, { orchestrationId }))
            while (true) {
              const event = yield* PubSub.take(events)
              if (event._tag === "OrchestrationSubtaskSucceeded" && event.subtaskId === "one") break
            }
            while ((yield* beta.requests).length < 2) yield* Effect.sleep("5 millis")
          })
        )
        const managerAsked = (yield* boss.requests).length
        const alphaAsked = (yield* alpha.requests).length
        assert.strictEqual(managerAsked, 1)
        assert.strictEqual(alphaAsked, 3)
        const runsBefore = readdirSync(join(home, "runs")).filter((d) => d !== orchestrationId)
        assert.strictEqual(runsBefore.length, 2)

        // Second life: the same id resumes.
        hang.on = false
        const { report, verdict } = yield* phase((orchestrator, audit) =>
          Effect.gen(function* () {
            const report = yield* orchestrator.orchestrate(goal, { orchestrationId })
            return { report, verdict: yield* TeamTrail.verify(audit, orchestrationId) }
          })
        )
        assert.deepStrictEqual(
          report.subtasks.map((s) => [s.id, s.agent, s.answer]),
          [
            ["one", "alpha", "one counted"],
            ["two", "beta", "two counted"]
          ]
        )
        // The manager and alpha were asked nothing more; beta's run went on from its journal: asked again only for
        // the answer in flight, then its reflection.
        assert.strictEqual((yield* boss.requests).length, managerAsked)
        assert.strictEqual((yield* alpha.requests).length, alphaAsked)
        assert.strictEqual((yield* beta.requests).length, 4)
        assert.sameMembers(
          report.subtasks.flatMap((s) => s.runIds),
          runsBefore
        )
        // The budget carries the first life's spending: two steps, and every answered call billed once.
        assert.strictEqual(report.spend.steps, 2)
        assert.strictEqual(report.spend.modelCalls, 7)
        assert.isTrue(verdict.intact, TeamTrail.describe(verdict).join("\n"))
        const types = readFileSync(join(home, "runs", orchestrationId, "audit.jsonl"), "utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => (JSON.parse(l) as { type: string }).type)
        assert.strictEqual(types.filter((t) => t === "OrchestrationStarted").length, 1)
        assert.strictEqual(types.filter((t) => t === "OrchestrationSubtaskSucceeded").length, 2)
        assert.strictEqual(types.filter((t) => t === "OrchestrationEnded").length, 1)
      }).pipe(Effect.scoped, Effect.provide(services)),
    60_000
  )

  it.live("an attempt that failed for good is not tried again after a resume; the retry in flight goes on", () =>
    Effect.gen(function* () {
      const home = yield* tempDir("troupe-orchestrator-durable-")
      const hang = { on: true }
      const beta = yield* retrying("two counted", hang)
      const boss = yield* manager([subtask("two", { agent: "beta" })])
      const models = new Map<string, LanguageModel.LanguageModel>([
        ["beta", yield* pooled(beta.languageModel)],
        ["lead", yield* pooled(boss.languageModel)]
      ])
      const life = lifeOf(
        home,
        team([spec({ name: "beta", description: "Counts" })], { manager: spec({ name: "lead" }), name: "retriers" }),
        models
      )
      // First life: the first attempt gives up; stopped while the retry's answer is asked for.
      yield* life((orchestrator) =>
        Effect.gen(function* () {
          yield* Effect.forkChild(orchestrator.orchestrate(goal, { orchestrationId }))
          while ((yield* beta.requests).length < 5) yield* Effect.sleep("5 millis")
        })
      )
      const runsBefore = readdirSync(join(home, "runs")).filter((d) => d !== orchestrationId)
      assert.strictEqual(runsBefore.length, 2)
      hang.on = false
      const report = yield* life((orchestrator) => orchestrator.orchestrate(goal, { orchestrationId }))
      assert.strictEqual(report.subtasks[0]!.answer, "two counted")
      assert.strictEqual(report.subtasks[0]!.attempts, 2)
      assert.sameMembers([...report.subtasks[0]!.runIds], runsBefore)
      // Plan, answer, give-up; then plan, answer (in flight at the stop, asked again) and reflection: nothing else.
      assert.strictEqual((yield* beta.requests).length, 7)
      assert.strictEqual((yield* boss.requests).length, 1)
      const types = readFileSync(join(home, "runs", orchestrationId, "audit.jsonl"), "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => (JSON.parse(l) as { type: string }).type)
      assert.strictEqual(types.filter((t) => t === "OrchestrationSubtaskFailed").length, 1)
      assert.strictEqual(types.filter((t) => t === "OrchestrationSubtaskAssigned").length, 2)
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.effect("a resumed trail skips what it holds by what it is about, in whatever order the replay emits it", () =>
    Effect.gen(function* () {
      const entry = (type: string, data: object) => ({ type, data }) as unknown as AuditEntry.AuditEntry
      const base = { orchestrationId: "o", team: "t", at: 1 }
      const written: Array<string> = []
      const emit = skipRecorded(
        [
          entry("OrchestrationSubtaskAssigned", { ...base, subtaskId: "a", agent: "x", attempt: 1 }),
          entry("OrchestrationSubtaskAssigned", { ...base, subtaskId: "b", agent: "y", attempt: 1 })
        ],
        (event) => Effect.sync(() => void written.push(`${event._tag}:${"subtaskId" in event ? event.subtaskId : ""}`))
      )
      const assigned = (subtaskId: string, attempt: number): OrchestratorEvent.OrchestratorEvent => ({
        _tag: "OrchestrationSubtaskAssigned",
        ...base,
        at: 2,
        subtaskId,
        agent: "x",
        attempt
      })
      // b before a this time, then a's second attempt and a repeat of b: only those two are new.
      yield* emit(assigned("b", 1))
      yield* emit(assigned("a", 1))
      yield* emit(assigned("a", 2))
      yield* emit(assigned("b", 1))
      assert.deepStrictEqual(written, ["OrchestrationSubtaskAssigned:a", "OrchestrationSubtaskAssigned:b"])
    })
  )
})
