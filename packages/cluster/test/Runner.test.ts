import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as AgentTask from "../src/AgentTask.ts"
import * as Client from "../src/Client.ts"
import * as Support from "./support.ts"

const recorder = `import { appendFileSync } from "node:fs"
appendFileSync("recorded.log", process.argv[2] + "\\n")
`

const submit = (task: AgentTask.Task) => Effect.flatMap(Client.Client, (client) => client.submit(task))

layer(Support.layer, { excludeTestServices: true, timeout: 120_000 })("a runner and a client in one process", (it) => {
  it.effect("runs an agent task and returns its answer, naming the runner", () =>
    Effect.gen(function* () {
      const cluster = yield* Support.TestCluster
      const result = yield* submit(AgentTask.task("t-answer", Support.spec(cluster.model.url), "Answer the key alpha."))
      assert.strictEqual(result.answer, "answered alpha")
      assert.strictEqual(result.taskId, "t-answer")
      assert.strictEqual(result.runId, "t-answer")
      assert.isAbove(result.steps, 0)
      assert.match(result.runner, /^127\.0\.0\.1:\d+$/)
    })
  )

  it.effect("a task submitted twice runs once: both callers get the first ending", () =>
    Effect.gen(function* () {
      const cluster = yield* Support.TestCluster
      const before = cluster.model.requests.length
      const first = yield* submit(AgentTask.task("t-twice", Support.spec(cluster.model.url), "Answer the key one."))
      const calls = cluster.model.requests.length - before
      const again = yield* submit(AgentTask.task("t-twice", Support.spec(cluster.model.url), "Answer the key two."))
      assert.strictEqual(first.answer, "answered one")
      assert.strictEqual(again.answer, "answered one")
      assert.strictEqual(cluster.model.requests.length - before, calls)
    })
  )

  it.effect("a run's typed ending comes back as TaskFailed with its tag", () =>
    Effect.gen(function* () {
      const cluster = yield* Support.TestCluster
      const error = yield* Effect.flip(
        submit(AgentTask.task("t-give-up", Support.spec(cluster.model.url), "Please give up on the key beta."))
      )
      assert.strictEqual(error._tag, "TaskFailed")
      assert.strictEqual((error as AgentTask.TaskFailed).tag, "GaveUp")
    })
  )

  it.effect("a spec that does not decode on the runner fails the task as SpecInvalid, running nothing", () =>
    Effect.gen(function* () {
      const cluster = yield* Support.TestCluster
      const before = cluster.model.requests.length
      const error = yield* Effect.flip(
        submit({ taskId: "t-bad-spec", spec: { name: "Not A Name!", limits: { maxSteps: -1 } }, goal: "anything" })
      )
      assert.strictEqual(error._tag, "TaskFailed")
      assert.strictEqual((error as AgentTask.TaskFailed).tag, "SpecInvalid")
      assert.strictEqual(cluster.model.requests.length, before)
    })
  )

  it.effect("a task id that could not name a run's directory is refused before anything runs", () =>
    Effect.gen(function* () {
      const cluster = yield* Support.TestCluster
      const before = cluster.model.requests.length
      const error = yield* Effect.flip(
        submit(AgentTask.task("../../etc/escape", Support.spec(cluster.model.url), "Answer the key delta."))
      )
      assert.strictEqual(error._tag, "TaskFailed")
      assert.strictEqual((error as AgentTask.TaskFailed).tag, "TaskIdInvalid")
      assert.strictEqual(cluster.model.requests.length, before)
    })
  )

  it.effect("no one at a runner approves: a call the policy asks about is denied, and the model is told", () =>
    Effect.gen(function* () {
      const cluster = yield* Support.TestCluster
      writeFileSync(join(cluster.workspace, "record.mjs"), recorder)
      const spec = Support.spec(cluster.model.url, { tools: [{ shell_run: { allow: ["node"] } }] })
      const before = cluster.model.requests.length
      const result = yield* submit(AgentTask.task("t-ask", spec, "Please run the key gamma."))
      assert.strictEqual(result.answer, "answered gamma")
      assert.isFalse(existsSync(join(cluster.workspace, "recorded.log")))
      const told = cluster.model.requests
        .slice(before)
        .flatMap(Support.messages)
        .filter((m) => m.role === "tool")
        .map((m) => JSON.stringify(m.content))
      assert.isTrue(
        told.some((text) => text.includes("no one at the runner")),
        told.join("\n")
      )
    })
  )
})
