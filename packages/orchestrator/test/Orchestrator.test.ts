import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { AuditLog } from "@troupe/agent"
import { Memory } from "@troupe/memory"
import { ProviderPool } from "@troupe/providers"
import { ActorSystem } from "@troupe/runtime"
import { Workspace } from "@troupe/tools"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Orchestrator from "../src/Orchestrator.ts"
import type * as OrchestratorEvent from "../src/OrchestratorEvent.ts"
import * as TeamTrail from "../src/TeamTrail.ts"
import { manager, pooled, services, spec, subtask, team, tempDir, userText, worker } from "./support.ts"

/** Every orchestrator event published while `effect` runs. */
const collecting = <A, E, R>(orchestrator: Orchestrator.Orchestrator, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const subscription = yield* orchestrator.subscribe
    const outcome = yield* Effect.result(effect)
    const events = (yield* PubSub.takeAll(subscription)) as ReadonlyArray<OrchestratorEvent.OrchestratorEvent>
    return { outcome, events }
  })

const ofTag = <T extends OrchestratorEvent.OrchestratorEvent["_tag"]>(
  events: ReadonlyArray<OrchestratorEvent.OrchestratorEvent>,
  tag: T
) => events.filter((e): e is Extract<OrchestratorEvent.OrchestratorEvent, { _tag: T }> => e._tag === tag)

// A three-member team whose manager plans design → api → review.
const webTeam = Effect.gen(function* () {
  const architect = spec({ name: "architect", description: "Designs", tools: [{ fs_write: { paths: ["docs/**"] } }] })
  const backend = spec({
    name: "backend",
    description: "Writes services",
    tools: [{ fs_write: { paths: ["src/**"] } }]
  })
  const reviewer = spec({ name: "reviewer", description: "Reviews", tools: ["fs_read"] })
  const boss = spec({ name: "manager", persona: "Engineering manager" })
  const plan = [
    subtask("design", { capabilities: ["fs_write"], agent: "architect", task: "Write the design." }),
    subtask("api", { capabilities: ["fs_write"], agent: "backend", dependsOn: ["design"], task: "Write the API." }),
    subtask("review", { capabilities: ["fs_read"], dependsOn: ["api"], task: "Review the API." })
  ]
  const scripted = {
    manager: yield* manager(plan),
    architect: yield* worker({
      writes: { path: "docs/design.md", content: "# Design\nOne endpoint: GET /todos" },
      answer: "Design written to docs/design.md: one endpoint, GET /todos"
    }),
    backend: yield* worker({
      writes: { path: "src/api.ts", content: "export const todos = () => []\n" },
      answer: "API written to src/api.ts"
    }),
    reviewer: yield* worker({ answer: "Reviewed: the API matches the design" })
  }
  const models = new Map<string, LanguageModel.LanguageModel>()
  for (const [name, s] of Object.entries(scripted)) models.set(name, yield* pooled(s.languageModel))
  return { team: team([architect, backend, reviewer], { manager: boss }), scripted, models }
})

describe("Orchestrator", () => {
  it.live("decomposes a goal, delegates each subtask by capability in dependency order, and reports", () =>
    Effect.gen(function* () {
      const workspace = yield* Workspace.Workspace
      const web = yield* webTeam
      const orchestrator = yield* Orchestrator.make(web.team, { models: (s) => web.models.get(s.name) })
      const { outcome, events } = yield* collecting(orchestrator, orchestrator.orchestrate("Build a tiny todo API"))
      assert.strictEqual(outcome._tag, "Success")
      const report = outcome._tag === "Success" ? outcome.success : undefined!
      assert.deepStrictEqual(
        report.subtasks.map((s) => [s.id, s.agent, s.attempts]),
        [
          ["design", "architect", 1],
          ["api", "backend", 1],
          ["review", "reviewer", 1]
        ]
      )
      assert.strictEqual(report.subtasks[1]!.answer, "API written to src/api.ts")
      // Real files, written by the members' own tools in the workspace.
      assert.strictEqual(
        readFileSync(join(workspace.root, "docs/design.md"), "utf8"),
        "# Design\nOne endpoint: GET /todos"
      )
      assert.isTrue(existsSync(join(workspace.root, "src/api.ts")))
      // A subtask receives the results of those it depends on.
      const backendAsked = (yield* web.scripted.backend.requests).map(userText).join("\n")
      assert.include(backendAsked, "design (architect): Design written to docs/design.md")
      // The manager was asked with its own prompt and the roster.
      const managerAsked = (yield* web.scripted.manager.requests)[0]!
      assert.include(userText(managerAsked), "- backend: Writes services. Capabilities: backend, fs_write")
      // One pool accounted for the whole team: the decomposition, and each member's plan, turns and reflection
      // (the writers take two turns: the tool call, then the answer).
      const usage = yield* (yield* ProviderPool.ProviderPool).usage
      assert.strictEqual(usage.find((u) => u.provider === "openai")?.successes, 12)
      assert.strictEqual(report.spend.modelCalls, 12)
      assert.strictEqual(report.spend.steps, 5)
      assert.isAbove(report.spend.costUsd, 0)
      assert.include(report.summary, "- api (backend): do api — API written to src/api.ts")
      assert.deepStrictEqual(
        events.map((e) => e._tag).filter((t, i, all) => all.indexOf(t) === i),
        [
          "OrchestrationStarted",
          "OrchestrationPlanned",
          "OrchestrationSubtaskAssigned",
          "OrchestrationSubtaskSucceeded",
          "OrchestrationEnded"
        ]
      )
      assert.strictEqual(ofTag(events, "OrchestrationEnded")[0]!.status, "done")
      const status = yield* orchestrator.status
      assert.strictEqual(status.state, "idle")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("runs independent subtasks at once, never more than the concurrency limit", () =>
    Effect.gen(function* () {
      const limit = 2
      const names = ["w1", "w2", "w3", "w4"]
      let running = 0
      let peak = 0
      const enough = Deferred.makeUnsafe<void>()
      const models = new Map<string, LanguageModel.LanguageModel>()
      for (const name of names) {
        const scripted = yield* worker({ answer: `${name} done` })
        const model = scripted.languageModel
        // A run is in flight from its plan to its reflection; each waits until `limit` are in flight (bounded, so
        // that a limiter admitting fewer shows as a lower peak rather than a hang).
        models.set(name, {
          ...model,
          generateObject: ((options: { readonly objectName?: string }) =>
            Effect.gen(function* () {
              if (options.objectName === "plan") {
                running++
                peak = Math.max(peak, running)
                if (running >= limit) yield* Deferred.succeed(enough, undefined)
                yield* Effect.timeout(Deferred.await(enough), "2 seconds").pipe(Effect.ignore)
                // Holding the slot a moment, so that a run the limit should hold back would show in the peak.
                yield* Effect.sleep("100 millis")
              }
              const answer = yield* (model.generateObject as (o: unknown) => Effect.Effect<unknown, never>)(options)
              if (options.objectName === "reflection") running--
              return answer
            })) as never
        })
      }
      const boss = yield* manager(names.map((name) => subtask(`task-${name}`, { agent: name })))
      models.set("manager", boss.languageModel)
      const orchestrator = yield* Orchestrator.make(
        team(
          names.map((name) => spec({ name })),
          {
            manager: spec({ name: "manager" })
          }
        ),
        { concurrency: limit, models: (s) => models.get(s.name) }
      )
      const report = yield* orchestrator.orchestrate("four independent things")
      assert.strictEqual(peak, limit)
      assert.deepStrictEqual(
        report.subtasks.map((s) => s.agent),
        names
      )
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("a failed subtask is retried on its member, then reassigned to another capable one", () =>
    Effect.gen(function* () {
      const flaky = yield* worker({ answer: "never", endings: ["give-up"] })
      const steady = yield* worker({ answer: "fixed by steady" })
      const boss = yield* manager([subtask("fix", { agent: "flaky" })])
      const models = new Map([
        ["flaky", flaky.languageModel],
        ["steady", steady.languageModel],
        ["manager", boss.languageModel]
      ])
      const orchestrator = yield* Orchestrator.make(
        team([spec({ name: "flaky" }), spec({ name: "steady" })], { manager: spec({ name: "manager" }) }),
        { retries: 1, models: (s) => models.get(s.name) }
      )
      const { outcome, events } = yield* collecting(orchestrator, orchestrator.orchestrate("fix it"))
      assert.strictEqual(outcome._tag, "Success")
      const report = outcome._tag === "Success" ? outcome.success : undefined!
      assert.deepStrictEqual(
        ofTag(events, "OrchestrationSubtaskAssigned").map((e) => [e.agent, e.attempt]),
        [
          ["flaky", 1],
          ["flaky", 2],
          ["steady", 3]
        ]
      )
      assert.deepStrictEqual(
        ofTag(events, "OrchestrationSubtaskFailed").map((e) => [e.error.tag, e.next]),
        [
          ["GaveUp", "retry"],
          ["GaveUp", "reassign"]
        ]
      )
      assert.strictEqual(report.subtasks[0]!.agent, "steady")
      assert.strictEqual(report.subtasks[0]!.attempts, 3)
      assert.strictEqual(report.subtasks[0]!.runIds.length, 3)
      assert.strictEqual(report.subtasks[0]!.answer, "fixed by steady")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("with no capable member left, the goal fails naming the subtask, every attempt and why", () =>
    Effect.gen(function* () {
      const flaky = yield* worker({ answer: "never", endings: ["give-up"] })
      const steady = yield* worker({ answer: "not asked" })
      const boss = yield* manager([subtask("first", { agent: "steady" }), subtask("fix", { capabilities: ["flaky"] })])
      const models = new Map([
        ["flaky", flaky.languageModel],
        ["steady", steady.languageModel],
        ["manager", boss.languageModel]
      ])
      const orchestrator = yield* Orchestrator.make(
        team([spec({ name: "flaky" }), spec({ name: "steady" })], { manager: spec({ name: "manager" }) }),
        { retries: 2, models: (s) => models.get(s.name) }
      )
      const error = yield* Effect.flip(orchestrator.orchestrate("fix it"))
      assert.strictEqual(error._tag, "SubtaskFailed")
      if (error._tag !== "SubtaskFailed") return
      assert.strictEqual(error.subtask, "fix")
      assert.deepStrictEqual(
        error.attempts.map((a) => [a.agent, a.error.tag]),
        [
          ["flaky", "GaveUp"],
          ["flaky", "GaveUp"],
          ["flaky", "GaveUp"]
        ]
      )
      assert.include(error.message, "subtask fix failed after 3 attempts (flaky): the agent gave up")
      assert.include(error.partial.done, "first")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("an agent that crashes is restarted by its supervisor and the subtask retried on it", () =>
    Effect.gen(function* () {
      const scripted = yield* worker({ answer: "done after a restart" })
      let calls = 0
      const crashing: LanguageModel.LanguageModel = {
        ...scripted.languageModel,
        generateText: ((options: unknown) =>
          calls++ === 0
            ? Effect.die("the model adapter has a bug")
            : (scripted.languageModel.generateText as (o: unknown) => Effect.Effect<unknown>)(options)) as never
      }
      const boss = yield* manager([subtask("only")])
      const models = new Map([
        ["crashy", crashing],
        ["manager", boss.languageModel]
      ])
      const orchestrator = yield* Orchestrator.make(
        team([spec({ name: "crashy" })], { manager: spec({ name: "manager" }) }),
        {
          models: (s) => models.get(s.name)
        }
      )
      const { outcome, events } = yield* collecting(orchestrator, orchestrator.orchestrate("survive a crash"))
      assert.strictEqual(outcome._tag, "Success")
      assert.deepStrictEqual(
        ofTag(events, "OrchestrationSubtaskFailed").map((e) => [e.agent, e.error.tag, e.next]),
        [["crashy", "RunCrashed", "retry"]]
      )
      assert.strictEqual(outcome._tag === "Success" ? outcome.success.subtasks[0]!.answer : "", "done after a restart")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  // A member whose own spec allows no restart crashes once; the team's supervisor restarts it (and, one-for-all, its
  // teammate too), and the subtask goes on with the new incarnation.
  const givesUp = (strategy: "one-for-one" | "one-for-all") =>
    Effect.gen(function* () {
      const scripted = yield* worker({ answer: "done by the new incarnation" })
      let calls = 0
      const crashing: LanguageModel.LanguageModel = {
        ...scripted.languageModel,
        generateText: ((options: unknown) =>
          calls++ === 0
            ? Effect.die("the model adapter has a bug")
            : (scripted.languageModel.generateText as (o: unknown) => Effect.Effect<unknown>)(options)) as never
      }
      const boss = yield* manager([subtask("only", { agent: "fragile" })])
      const bystander = yield* worker({ answer: "not asked" })
      const models = new Map([
        ["fragile", crashing],
        ["bystander", bystander.languageModel],
        ["manager", boss.languageModel]
      ])
      const fragile = spec({ name: "fragile", supervision: { restart: "transient", maxRestarts: 0, within: "5s" } })
      const lifecycle = yield* (yield* ActorSystem.ActorSystem).subscribe
      const orchestrator = yield* Orchestrator.make(
        team([fragile, spec({ name: "bystander" })], { manager: spec({ name: "manager" }), strategy }),
        { models: (s) => models.get(s.name) }
      )
      const report = yield* orchestrator.orchestrate("survive a crash")
      assert.strictEqual(report.subtasks[0]!.answer, "done by the new incarnation")
      assert.strictEqual(report.subtasks[0]!.attempts, 2)
      const seen = (yield* PubSub.takeAll(lifecycle)) as ReadonlyArray<{
        readonly _tag: string
        readonly path?: string
      }>
      assert.isTrue(seen.some((e) => e._tag === "SupervisorGaveUp" && e.path === "/team-test/agents/fragile"))
      assert.isTrue(seen.some((e) => e._tag === "ActorRestarted" && e.path === "/team-test/agents/fragile"))
      return seen.some((e) => e._tag === "ActorRestarted" && e.path === "/team-test/agents/bystander")
    })

  it.live(
    "an agent whose own supervisor gives up is restarted by the team's, one-for-one, and the subtask goes on",
    () =>
      Effect.gen(function* () {
        assert.isFalse(yield* givesUp("one-for-one"))
      }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("with the team's one-for-all strategy, its teammates are restarted with it", () =>
    Effect.gen(function* () {
      assert.isTrue(yield* givesUp("one-for-all"))
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("a decomposition that cannot run is asked for again with what was wrong, then fails the goal typed", () =>
    Effect.gen(function* () {
      const w = yield* worker({ answer: "never asked" })
      const boss = yield* manager([subtask("x", { dependsOn: ["y"] }), subtask("y", { dependsOn: ["x"] })])
      const models = new Map([
        ["w", w.languageModel],
        ["manager", boss.languageModel]
      ])
      const orchestrator = yield* Orchestrator.make(
        team([spec({ name: "w" })], { manager: spec({ name: "manager" }) }),
        {
          models: (s) => models.get(s.name)
        }
      )
      const error = yield* Effect.flip(orchestrator.orchestrate("go round in circles"))
      assert.strictEqual(error._tag, "DecompositionFailed")
      assert.include(error.message, "no usable decomposition after 2 attempts: the subtasks' dependencies form a cycle")
      const asked = (yield* boss.requests).map(userText)
      assert.strictEqual(asked.length, 2)
      assert.include(asked[1]!, "Your previous answer could not be used: the subtasks' dependencies form a cycle")
      assert.strictEqual((yield* w.requests).length, 0)
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("a team without a manager is planned by its first member's model with the planner's prompt", () =>
    Effect.gen(function* () {
      const solo = yield* worker({ answer: "done alone", decomposition: [subtask("one")] })
      const orchestrator = yield* Orchestrator.make(team([spec({ name: "solo" })]), {
        models: (s) => (s.name === "solo" ? solo.languageModel : undefined)
      })
      const { outcome, events } = yield* collecting(orchestrator, orchestrator.orchestrate("do it"))
      assert.strictEqual(outcome._tag === "Success" ? outcome.success.subtasks[0]!.answer : "", "done alone")
      assert.strictEqual(ofTag(events, "OrchestrationPlanned")[0]!.by, "planner")
      const system = (yield* solo.requests)[0]!.prompt.content[0]!
      assert.include(system.role === "system" ? system.content : "", "You are the planner of team team-test")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("status while it runs, one goal at a time, and Cancel stops the goal and its agents' runs", () =>
    Effect.gen(function* () {
      const slow = yield* worker({ answer: "never", hangs: true })
      const boss = yield* manager([subtask("wait", { title: "wait forever" })])
      const models = new Map([
        ["slow", slow.languageModel],
        ["manager", boss.languageModel]
      ])
      const orchestrator = yield* Orchestrator.make(
        team([spec({ name: "slow" })], { manager: spec({ name: "manager" }) }),
        {
          models: (s) => models.get(s.name)
        }
      )
      const running = yield* Effect.forkChild(Effect.flip(orchestrator.orchestrate("wait")))
      let member = yield* orchestrator.members[0]!.status
      while (member.state !== "running") {
        yield* Effect.sleep("5 millis")
        member = yield* orchestrator.members[0]!.status
      }
      const status = yield* orchestrator.status
      assert.strictEqual(status.state, "running")
      assert.deepStrictEqual(
        status.subtasks.map((s) => [s.id, s.title, s.status, s.agent]),
        [["wait", "wait forever", "running", "slow"]]
      )
      const busy = yield* Effect.flip(orchestrator.orchestrate("another goal"))
      assert.strictEqual(busy._tag, "OrchestratorBusy")
      yield* orchestrator.cancel
      const error = yield* Fiber.join(running)
      assert.strictEqual(error._tag, "OrchestrationCancelled")
      while (member.state !== "idle") {
        yield* Effect.sleep("5 millis")
        member = yield* orchestrator.members[0]!.status
      }
      assert.strictEqual((yield* orchestrator.status).state, "idle")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("the manager plans with what the team's memory holds, never another agent's private memories", () =>
    Effect.gen(function* () {
      const memory = yield* Memory.Memory
      yield* memory.remember({ agent: "w", kind: "lesson", namespace: "team", text: "Always write the tests first" })
      yield* memory.remember({ agent: "w", kind: "lesson", namespace: "w", text: "Private notes about the tests" })
      const w = yield* worker({ answer: "done" })
      const boss = yield* manager([subtask("one")])
      const models = new Map([
        ["w", w.languageModel],
        ["manager", boss.languageModel]
      ])
      const lead = spec({ name: "manager", memory: { enabled: true, recall: 5 } })
      const orchestrator = yield* Orchestrator.make(team([spec({ name: "w" })], { manager: lead }), {
        memory,
        models: (s) => models.get(s.name)
      })
      yield* orchestrator.orchestrate("write the tests")
      const asked = userText((yield* boss.requests)[0]!)
      assert.include(asked, "Always write the tests first")
      assert.notInclude(asked, "Private notes")
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.unwrap(Effect.map(tempDir("troupe-orchestrator-memory-"), (dir) => Memory.layerTest(dir)))),
      Effect.provide(services)
    )
  )

  it.live("the team budget spans every agent: going past it cancels the run in progress and fails the goal", () =>
    Effect.gen(function* () {
      const w = yield* worker({ answer: "step done" })
      const boss = yield* manager([
        subtask("a"),
        subtask("b", { dependsOn: ["a"] }),
        subtask("c", { dependsOn: ["b"] })
      ])
      const models = new Map([
        ["w", w.languageModel],
        ["manager", boss.languageModel]
      ])
      const orchestrator = yield* Orchestrator.make(
        team([spec({ name: "w" })], { manager: spec({ name: "manager" }) }),
        {
          budget: { maxSteps: 2 },
          models: (s) => models.get(s.name)
        }
      )
      const { outcome, events } = yield* collecting(orchestrator, orchestrator.orchestrate("three steps"))
      assert.strictEqual(outcome._tag, "Failure")
      const error = outcome._tag === "Failure" ? outcome.failure : undefined!
      assert.strictEqual(error._tag, "TeamBudgetExceeded")
      if (error._tag !== "TeamBudgetExceeded") return
      assert.deepStrictEqual([error.limit, error.used, error.max], ["steps", 3, 2])
      assert.deepStrictEqual(error.partial.done, ["a", "b"])
      assert.deepStrictEqual(
        ofTag(events, "OrchestrationBudgetWarning").map((e) => [e.limit, e.used]),
        [["steps", 2]]
      )
      assert.strictEqual(ofTag(events, "OrchestrationEnded")[0]!.status, "budget-exceeded")
      // The run in progress was cancelled: the member is free again.
      let status = yield* orchestrator.members[0]!.status
      while (status.state !== "idle") {
        yield* Effect.sleep("5 millis")
        status = yield* orchestrator.members[0]!.status
      }
      assert.strictEqual(status.runId, undefined)
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("one audit trail per orchestration links its agents' runs; a run's trail edited later is caught", () =>
    Effect.gen(function* () {
      const home = yield* tempDir("troupe-orchestrator-home-")
      const web = yield* webTeam
      const audit = yield* AuditLog.make({ home })
      const orchestrator = yield* Orchestrator.make(web.team, { audit, models: (s) => web.models.get(s.name) })
      const report = yield* orchestrator.orchestrate("Build a tiny todo API")
      const verdict = yield* TeamTrail.verify(audit, report.orchestrationId)
      assert.isTrue(verdict.intact, TeamTrail.describe(verdict).join("\n"))
      assert.deepStrictEqual(
        verdict.runs.map((r) => [r.subtaskId, r.agent, r.runId]),
        report.subtasks.map((s) => [s.id, s.agent, s.runIds[0]!])
      )
      const trail = readFileSync(join(home, "runs", report.orchestrationId, "audit.jsonl"), "utf8")
      assert.include(trail, '"type":"OrchestrationRunLinked"')
      assert.include(trail, '"type":"OrchestrationEnded"')
      // Someone edits the backend's trail after the fact: the orchestration's verdict names that run.
      const backendRun = report.subtasks[1]!.runIds[0]!
      const path = join(home, "runs", backendRun, "audit.jsonl")
      writeFileSync(path, readFileSync(path, "utf8").replace("API written to src/api.ts", "API written elsewhere"))
      const after = yield* TeamTrail.verify(audit, report.orchestrationId)
      assert.isFalse(after.intact)
      const broken = after.runs.filter((r) => r.verification?._tag !== "Intact")
      assert.deepStrictEqual(
        broken.map((r) => r.runId),
        [backendRun]
      )
    }).pipe(Effect.scoped, Effect.provide(services))
  )
})
