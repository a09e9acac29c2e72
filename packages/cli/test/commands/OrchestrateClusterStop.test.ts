import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ThrowawayPostgres } from "@troupe/cluster"
import { FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { daemon } from "../daemon.ts"
import { agentOf, messages, schemaName, teamTurns } from "../recorder.ts"
import { clusterEnv, tempDir, troupe } from "../support.ts"

/**
 * `troupe orchestrate --postgres` stopped with SIGTERM while a member's task is in flight on a runner, then resumed:
 * the task goes on where it runs and the resumed orchestration waits for it, so no model call is made twice and the
 * runner starts the task once.
 */

const teamYaml = [
  "name: one-member",
  "manager: { name: lead, memory: { enabled: false } }",
  "agents:",
  "  - { name: alpha, description: Writes, memory: { enabled: false } }"
].join("\n")

const subtasks = [
  { id: "only", title: "Write", task: "Write the note", dependsOn: [], capabilities: [], agent: "alpha" }
]

/** A request told apart from any other of the run: who made it, for what, and how far the conversation was. */
const stepOf = (request: FakeServer.Received) =>
  `${agentOf(request) ?? "?"}/${schemaName(request) ?? "step"}/${messages(request).length}`

/**
 * Requests in order: the decomposition (0), then alpha's plan (1), its step (2) and its reflection (3). The step's
 * answer is held until `release` opens: the task is in flight on its runner until then.
 */
const model = (release: FakeServer.Gate) =>
  FakeOpenAi.make({
    turns: teamTurns({
      subtasks,
      reflection: () => ({ outcome: "done", reasoning: "written", progress: [], answer: "alpha wrote" }),
      act: () => ({ text: "alpha wrote" })
    }),
    faults: (index) => (index === 2 ? FakeServer.hold(0, release) : undefined)
  })

describe("troupe orchestrate --postgres stopped with SIGTERM", () => {
  it.live(
    "a member's task in flight goes on on its runner: the resume waits for it, no task started or model call made twice",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("troupe-orchestrate-stop-")
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        writeFileSync(join(dir, "team.yaml"), teamYaml)
        const release = FakeServer.gate()
        const fake = yield* model(release)
        const postgres = yield* ThrowawayPostgres.make()
        const env = clusterEnv(dir, fake.url, { TROUPE_HOME: join(dir, "home") })
        const runner = yield* daemon(
          ["runner", "--postgres", postgres.url, "--workspace", workspace, "--wait"],
          env,
          /^runner (\S+) ready/m
        )
        yield* Deferred.await(runner.ready).pipe(Effect.timeout("60 seconds"))

        const args = ["--team", join(dir, "team.yaml"), "--workspace", workspace, "--postgres", postgres.url, "--json"]
        // Nothing waits for its output: it is stopped below, and only its exit is awaited.
        const first = yield* daemon(["orchestrate", "--goal", "write the note", ...args], env, /(?!)/)
        // The task started on the runner and its model call is held there.
        const taskStarted = /^task (\S+)\.only\.1 started$/m
        yield* Effect.gen(function* () {
          while (taskStarted.exec(runner.output.stdout) === null) yield* Effect.sleep("100 millis")
        }).pipe(Effect.timeout("60 seconds"))
        const orchestrationId = taskStarted.exec(runner.output.stdout)![1]!
        yield* fake.waitFor((requests) => requests.length >= 3).pipe(Effect.timeout("60 seconds"))
        assert.match(stepOf(fake.requests[2]!), /^alpha\/step\//)

        first.child.kill("SIGTERM")
        yield* Deferred.await(first.exited).pipe(Effect.timeout("60 seconds"))
        release.open.pipe(Effect.runSync)

        const resumed = yield* troupe(["orchestrate", "--resume", orchestrationId, ...args], env)
        assert.strictEqual(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`)
        const result = JSON.parse(resumed.stdout.trimEnd().split("\n").at(-1)!)
        assert.strictEqual(result.status, "done")
        assert.strictEqual(result.orchestrationId, orchestrationId)
        assert.deepStrictEqual(
          result.subtasks.map((s: { answer: string }) => s.answer),
          ["alpha wrote"]
        )
        assert.strictEqual(result.audit, "intact")

        // The runner started the member's task once: the resume waited for it rather than starting another.
        const started = [...runner.output.stdout.matchAll(/^task (\S+) started$/gm)].map((m) => m[1])
        assert.deepStrictEqual(started, [`${orchestrationId}.only.1`])
        // Each model call was made once: the decomposition, alpha's plan, step and reflection.
        const steps = fake.requests.map(stepOf)
        assert.deepStrictEqual(
          steps.map((s) => s.replace(/\/\d+$/, "")),
          ["lead/decomposition", "alpha/plan", "alpha/step", "alpha/reflection"],
          steps.join("\n")
        )
        assert.strictEqual(new Set(steps).size, steps.length, steps.join("\n"))

        const verify = yield* troupe(["audit", orchestrationId, "--verify"], env)
        assert.strictEqual(verify.code, 0, `${verify.stdout}\n${verify.stderr}`)
      }),
    180_000
  )
})
