import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import { Idempotency, Workspace } from "@troupe/tools"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Agent from "../src/Agent.ts"
import * as AgentEvents from "../src/AgentEvents.ts"
import * as AuditLog from "../src/AuditLog.ts"
import * as RunJournal from "../src/RunJournal.ts"
import { callTurn, planTurn, reflectTurn, spec } from "./support.ts"

// `bump` is the side effect counted; `wait` blocks until the test lets it go (the moment to "crash").
const Bump = Tool.make("bump", {
  description: "Increment the counter.",
  parameters: Schema.Struct({ by: Schema.Int }),
  success: Schema.String,
  failureMode: "return"
})
const Wait = Tool.make("wait", {
  description: "Wait.",
  parameters: Schema.Struct({}),
  success: Schema.String,
  failureMode: "return"
})
const Tools = Toolkit.make(Bump, Wait)

interface World {
  readonly counter: { value: number; keys: Array<string | undefined> }
  readonly reached: Deferred.Deferred<void>
}

const toolsFor = (world: World) =>
  Tools.pipe(
    Effect.provide(
      Tools.toLayer({
        bump: ({ by }) =>
          Effect.gen(function* () {
            world.counter.value += by
            // What the built-in tools read (`RunJournal.CurrentIdempotencyKey` is the same reference).
            world.counter.keys.push(yield* Idempotency.CurrentKey)
            return `counter at ${world.counter.value}`
          }),
        wait: () => Effect.andThen(Deferred.succeed(world.reached, undefined), Effect.never)
      })
    )
  )

const services = Layer.mergeAll(
  ActorSystem.layer(),
  AgentEvents.layer,
  ProviderPool.layer(),
  NodeHttpClient.layerUndici
)

/** One "process": an agent over the journal and trail in `home`, until the returned scope closes. */
const process = (home: string, turns: ReadonlyArray<Scripted.Turn>, world: World) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const layers = Layer.mergeAll(
      services,
      RunJournal.layer({ directory: join(home, "runs") }),
      AuditLog.layerTest(home, { durability: "written" })
    )
    const context = yield* Layer.buildWithScope(layers, scope)
    const model = yield* Scripted.make(turns)
    const audit = yield* AuditLog.AuditLog.pipe(Effect.provideContext(context))
    const agent = yield* Agent.make(spec(), {
      model: model.languageModel,
      toolkit: yield* toolsFor(world),
      audit
    }).pipe(Effect.provideContext(context), Scope.provide(scope))
    return { agent, model, scope, audit, context }
  })

const temp = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-journal-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("RunJournal", () => {
  it.live("a finished run resumed replays from its journal: no model call, no tool call, the same answer", () =>
    Effect.gen(function* () {
      const home = yield* temp
      const world: World = { counter: { value: 0, keys: [] }, reached: Deferred.makeUnsafe() }
      const first = yield* process(
        home,
        [planTurn("count"), callTurn({ name: "bump", params: { by: 1 } }), Scripted.text("one"), reflectTurn("done")],
        world
      )
      const result = yield* first.agent.run("count to one")
      assert.strictEqual(result.answer, "one")
      assert.strictEqual(world.counter.value, 1)
      yield* Scope.close(first.scope, Exit.void)

      const second = yield* process(home, [], world)
      const again = yield* second.agent.run("count to one", { runId: result.runId })
      assert.strictEqual(again.answer, "one")
      assert.strictEqual(again.runId, result.runId)
      assert.strictEqual(world.counter.value, 1)
      assert.strictEqual((yield* second.model.requests).length, 0)
      const verification = yield* second.audit.verify(result.runId)
      assert.strictEqual(verification._tag, "Intact")
      // The replayed events are not written twice: one start, one end, then the resumption.
      const types = readFileSync(join(home, "runs", result.runId, "audit.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).type as string)
      assert.strictEqual(types.filter((t) => t === "AgentRunStarted").length, 1)
      assert.strictEqual(types.filter((t) => t === "AgentToolCalled").length, 1)
      assert.strictEqual(types.filter((t) => t === "AgentRunEnded").length, 1)
      assert.strictEqual(types.at(-1), "AuditResumed")
      yield* Scope.close(second.scope, Exit.void)
    }).pipe(Effect.scoped)
  )

  it.live("a run stopped mid-step resumes after its last completed call: nothing completed runs twice", () =>
    Effect.gen(function* () {
      const home = yield* temp
      const world: World = { counter: { value: 0, keys: [] }, reached: Deferred.makeUnsafe() }
      const first = yield* process(
        home,
        [
          planTurn("count"),
          callTurn({ name: "bump", params: { by: 1 } }),
          callTurn({ name: "bump", params: { by: 10 } }, { name: "wait", params: {} })
        ],
        world
      )
      const running = yield* Effect.forkChild(first.agent.run("count"))
      yield* Deferred.await(world.reached)
      const runId = (yield* first.agent.status).runId!
      // The process "dies": its scope closes with the run in the middle of `wait`.
      yield* Scope.close(first.scope, Exit.void)
      yield* Fiber.await(running)
      assert.strictEqual(world.counter.value, 11)
      assert.strictEqual((yield* first.model.requests).length, 3)

      // The resumed process is asked only what was never answered: the `wait` call runs again, then the rest.
      const resumedWorld: World = { counter: world.counter, reached: Deferred.makeUnsafe() }
      yield* Deferred.succeed(resumedWorld.reached, undefined)
      const second = yield* process(home, [Scripted.text("eleven"), reflectTurn("done", { answer: "11" })], {
        ...resumedWorld,
        reached: resumedWorld.reached
      })
      const waiting = yield* Effect.forkChild(second.agent.run("count", { runId }))
      // `wait` never returns: end it by cancelling; what matters is what ran before it.
      yield* Effect.sleep("200 millis")
      assert.strictEqual(world.counter.value, 11, "no completed bump ran again")
      assert.strictEqual((yield* second.model.requests).length, 0, "no completed model call was asked again")
      const keys = world.counter.keys
      assert.strictEqual(keys.length, 2)
      assert.notStrictEqual(keys[0], keys[1])
      assert.isString(keys[0])
      yield* second.agent.cancel
      yield* Fiber.await(waiting)
      yield* Scope.close(second.scope, Exit.void)
      const verification = yield* second.audit.verify(runId).pipe(Effect.provide(AuditLog.layerTest(home)))
      assert.strictEqual(verification._tag, "Intact")
    }).pipe(Effect.scoped)
  )

  it.live("two live agents of one name share an engine: each run goes to its own agent", () =>
    Effect.gen(function* () {
      const home = yield* temp
      const world: World = { counter: { value: 0, keys: [] }, reached: Deferred.makeUnsafe() }
      const script = [planTurn("x"), Scripted.text("done"), reflectTurn("done", { answer: "done" })]
      const first = yield* process(home, script, world)
      const model = yield* Scripted.make(script)
      // Another actor system (one system holds one agent of a name), the same engine.
      const system = yield* Layer.buildWithScope(ActorSystem.layer(), first.scope)
      const second = yield* Agent.make(spec({ name: "tester" }), { model: model.languageModel }).pipe(
        Effect.provideContext(Context.merge(first.context, system)),
        Scope.provide(first.scope)
      )
      const [a, b] = yield* Effect.all([first.agent.run("one"), second.run("two")], { concurrency: 2 })
      assert.strictEqual(a.answer, "done")
      assert.strictEqual(b.answer, "done")
      assert.notStrictEqual(a.runId, b.runId)
      yield* Scope.close(first.scope, Exit.void)
    }).pipe(Effect.scoped)
  )

  it.live("a question pending at a crash is asked again after it; once answered, never again", () =>
    Effect.gen(function* () {
      const home = yield* temp
      const asker = (turns: ReadonlyArray<Scripted.Turn>) =>
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const context = yield* Layer.buildWithScope(
            Layer.mergeAll(services, RunJournal.layer({ directory: join(home, "runs") }), Workspace.layer(home)),
            scope
          )
          const model = yield* Scripted.make(turns)
          const agent = yield* Agent.make(spec({ name: "asker", tools: ["ask_human"] }), {
            model: model.languageModel
          }).pipe(Effect.provideContext(context), Scope.provide(scope))
          return { agent, model, scope }
        })
      const question = (agent: Agent.Agent) =>
        Effect.gen(function* () {
          while (true) {
            const status = yield* agent.status
            if (status.pendingQuestions.length > 0) return status.pendingQuestions[0]!
            yield* Effect.sleep("5 millis")
          }
        })
      const first = yield* asker([
        planTurn("ask"),
        callTurn({ name: "ask_human", params: { question: "Which branch?" } })
      ])
      const running = yield* Effect.forkChild(first.agent.run("pick a branch"))
      yield* question(first.agent)
      const runId = (yield* first.agent.status).runId!
      yield* Scope.close(first.scope, Exit.void)
      yield* Fiber.await(running)

      const second = yield* asker([Scripted.text("Using main"), reflectTurn("done", { answer: "main" })])
      const resumed = yield* Effect.forkChild(second.agent.run("pick a branch", { runId }))
      const asked = yield* question(second.agent)
      assert.strictEqual(asked.question, "Which branch?")
      yield* second.agent.answer(asked.questionId, "main")
      assert.strictEqual((yield* Fiber.join(resumed)).answer, "main")
      // The plan and the call were not asked again.
      assert.strictEqual((yield* second.model.requests).length, 2)
      yield* Scope.close(second.scope, Exit.void)

      const third = yield* asker([])
      assert.strictEqual((yield* third.agent.run("pick a branch", { runId })).answer, "main")
      assert.strictEqual((yield* third.agent.status).pendingQuestions.length, 0)
      yield* Scope.close(third.scope, Exit.void)
    }).pipe(Effect.scoped)
  )
})
