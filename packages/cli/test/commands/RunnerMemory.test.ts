import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { AgentSpec } from "@troupe/agent-spec"
import { AgentTask, Client, ThrowawayPostgres } from "@troupe/cluster"
import { Memory } from "@troupe/memory"
import { LocalEmbedder } from "@troupe/providers"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { schemaName, startRunner } from "../recorder.ts"
import { troupe } from "../support.ts"

/**
 * Long-term memory on runners: two `troupe runner --memory DIR` processes sharing one LanceDB directory. Tasks that
 * learn a code word store it as a lesson from whichever runner they land on (both processes writing to the
 * directory at once); later tasks asking for the words recall them, including those remembered by the other runner.
 * The model never sees a code word unless it was recalled: it answers with what the recalled memories say.
 */

const projects = [
  "amber",
  "birch",
  "cedar",
  "delta",
  "ember",
  "fjord",
  "garnet",
  "harbor",
  "indigo",
  "juniper",
  "kestrel",
  "lagoon",
  "maple",
  "nectar",
  "onyx",
  "prairie"
]

// The code word only the learning task's reflection states: never in a goal.
const secretOf = (project: string) => `${[...project].reverse().join("")}-kw${project.length}`

const spec = Schema.decodeUnknownSync(
  AgentSpec.AgentSpec,
  AgentSpec.parseOptions
)({
  name: "keeper",
  // Every memory of the run fits in one recall, so the assertion does not depend on ranking.
  memory: { enabled: true, recall: 64 },
  limits: { maxSteps: 4 }
})

const messages = (request: FakeServer.Received) =>
  (request.body as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? []

// The task's own goal is its first user message; recalled memories come after it.
const goalOf = (request: FakeServer.Received) =>
  JSON.stringify(messages(request).find((m) => m.role === "user")?.content ?? "")

/**
 * The model: "Learn the code word of project P" reflects with the lesson naming P's word; "Tell me the code word of
 * project P" answers with the word the recalled memories give for P, or "unknown".
 */
const model = FakeOpenAi.make({
  turns: (request) => {
    const goal = goalOf(request)
    const name = schemaName(request)
    if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
    const learning = /Learn the code word of project (\w+)/.exec(goal)?.[1]
    const asked = /Tell me the code word of project (\w+)/.exec(goal)?.[1]
    const recalled = asked === undefined ? undefined : new RegExp(`The code word of project ${asked} is ([\\w-]+)`)
    const answer =
      learning !== undefined
        ? `learned ${learning}`
        : `code ${recalled?.exec(JSON.stringify(messages(request)))?.[1] ?? "unknown"}`
    if (name === "reflection") {
      return {
        text: JSON.stringify({
          outcome: "done",
          reasoning: "done",
          progress: [],
          answer,
          ...(learning === undefined
            ? {}
            : { lesson: `The code word of project ${learning} is ${secretOf(learning)}.` })
        })
      }
    }
    return { text: answer }
  }
})

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-runner-memory-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("troupe runner --memory", () => {
  it.live(
    "two runners share one memory directory: what a task learned on one runner is recalled by a task on the other",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const workspace = join(dir, "work")
        const memory = join(dir, "memory")
        mkdirSync(workspace)
        const server = yield* model
        const postgres = yield* ThrowawayPostgres.make()
        const env = {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: server.url,
          TROUPE_BUNDLE: "0",
          TROUPE_HOME: join(dir, "home"),
          HOME: dir
        }
        const args = ["--postgres", postgres.url, "--workspace", workspace, "--memory", memory]
        // One after the other: the first creates the cluster's tables.
        for (let i = 0; i < 2; i++) {
          const runner = yield* startRunner(args, env)
          const ready = yield* Deferred.await(runner.ready).pipe(Effect.timeoutOption("60 seconds"))
          assert.isTrue(ready._tag === "Some", `runner ${i} did not start: ${runner.output.stderr.slice(-2000)}`)
          assert.include(runner.output.stdout, `memory ${memory}`)
        }
        // Both runners see each other before tasks arrive, so that shards are spread over the two.
        yield* Effect.sleep("3 seconds")

        const submitAll = (goal: (project: string) => string, prefix: string) =>
          Effect.forEach(
            projects,
            (project) =>
              Effect.flatMap(Client.Client, (client) =>
                client.submit(AgentTask.task(`${prefix}-${project}`, spec, goal(project)))
              ),
            { concurrency: "unbounded" }
          )
        const [learned, told] = yield* Effect.gen(function* () {
          const learned = yield* submitAll((p) => `Learn the code word of project ${p}.`, "learn")
          const told = yield* submitAll((p) => `Tell me the code word of project ${p}.`, "tell")
          return [learned, told] as const
        }).pipe(Effect.provide(Client.layer({ postgres: postgres.url })), Effect.timeout("120 seconds"))

        assert.deepStrictEqual(
          learned.map((r) => r.answer),
          projects.map((p) => `learned ${p}`)
        )
        // Both processes wrote to the directory, and every lesson landed once.
        assert.strictEqual(new Set(learned.map((r) => r.runner)).size, 2)
        const lessons = yield* Effect.flatMap(Memory.Memory, (m) => m.list({ kinds: ["lesson"] }, 1_000)).pipe(
          Effect.provide(Memory.layer({ directory: memory }).pipe(Layer.provide(LocalEmbedder.layer())))
        )
        assert.deepStrictEqual(
          lessons.map((l) => l.text).sort(),
          projects.map((p) => `The code word of project ${p} is ${secretOf(p)}.`).sort()
        )

        // Every word was recalled, and at least one by a runner other than the one that learned it.
        assert.deepStrictEqual(
          told.map((r) => r.answer),
          projects.map((p) => `code ${secretOf(p)}`)
        )
        const crossed = projects.filter((_, i) => told[i]!.runner !== learned[i]!.runner)
        assert.isAbove(crossed.length, 0)
      }),
    180_000
  )

  it.live("refuses a --memory that names a file, before joining any cluster", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const file = join(dir, "notes.txt")
      writeFileSync(file, "not a directory")
      const port = yield* Effect.orDie(ThrowawayPostgres.freePort)
      const run = yield* troupe(["runner", "--postgres", `postgres://postgres@127.0.0.1:${port}/x`, "--memory", file], {
        TROUPE_BUNDLE: "0",
        HOME: dir
      })
      assert.strictEqual(run.code, 2, run.stderr)
      assert.include(run.stderr, `--memory ${file} is not a directory`)
      assert.notInclude(run.stdout, "ready")
    })
  )
})
