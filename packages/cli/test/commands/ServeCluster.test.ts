import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ThrowawayPostgres } from "@troupe/cluster"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { daemon, requestWith } from "../daemon.ts"
import { schemaName } from "../recorder.ts"
import { clusterEnv, tempDir } from "../support.ts"

/**
 * `troupe serve --postgres`: a goal for an agent spec submitted over HTTP runs on a `troupe runner` sharing a
 * throwaway PostgreSQL, and its answer, spending and trail come back through the server.
 */

const token = "serve-cluster-0123456789"

const usedTool = (request: FakeServer.Received) =>
  ((request.body as { messages?: Array<{ role: string }> }).messages ?? []).some((m) => m.role === "tool")

const model = FakeOpenAi.make({
  turns: (request) => {
    switch (schemaName(request)) {
      case "plan":
        return { text: JSON.stringify({ goals: [] }) }
      case "reflection":
        return { text: JSON.stringify({ outcome: "done", reasoning: "written", progress: [], answer: "Wrote far.md" }) }
      default:
        return usedTool(request)
          ? { text: "Wrote far.md" }
          : { toolCalls: [{ name: "fs_write", arguments: { path: "far.md", content: "From a runner." } }] }
    }
  }
})

const request = requestWith(token)

describe("troupe serve --postgres", () => {
  it.live(
    "an agent's goal submitted over HTTP runs on a runner of the cluster and its answer and trail come back",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("troupe-serve-cluster-")
        const work = join(dir, "work")
        const specs = join(dir, "specs")
        mkdirSync(work)
        mkdirSync(specs)
        writeFileSync(
          join(specs, "far.yaml"),
          "name: far\nmemory: { enabled: false }\ntools: [fs_write]\napprovals: { tools: { fs_write: auto } }\n"
        )
        const fake = yield* model
        const postgres = yield* ThrowawayPostgres.make()
        const env = clusterEnv(dir, fake.url, { TROUPE_HOME: join(dir, "home"), TROUPE_TOKEN: token })
        const runner = yield* daemon(
          ["runner", "--postgres", postgres.url, "--workspace", work],
          env,
          /^runner (\S+) ready/m
        )
        yield* Deferred.await(runner.ready).pipe(Effect.timeout("60 seconds"))
        const server = yield* daemon(
          ["serve", "--port", "0", "--postgres", postgres.url, "--specs", specs, "--workspace", work],
          env,
          /listening on (http:\/\/[0-9.]+:\d+)/
        )
        const url = yield* Deferred.await(server.ready).pipe(Effect.timeout("60 seconds"))
        assert.match(server.output.stdout, /agents run on the cluster's runners/)
        assert.notInclude(server.output.stdout + server.output.stderr, postgres.url)

        const submitted = yield* request(`${url}/goals`, {
          method: "POST",
          body: { goal: "Write far.md", agent: "far.yaml" }
        })
        assert.strictEqual(submitted.status, 202, submitted.body)
        const job = JSON.parse(submitted.body)
        yield* request(`${url}/jobs/${job.id}/events`)
        const done = JSON.parse((yield* request(`${url}/jobs/${job.id}`)).body)
        assert.strictEqual(done.state, "done", JSON.stringify(done))
        assert.strictEqual(done.answer, "Wrote far.md")
        assert.isAbove(done.spend.steps, 0)
        assert.strictEqual(readFileSync(join(work, "far.md"), "utf8"), "From a runner.")
        // It ran on the runner, as the task whose id is the job's (the runner prints its line once the reply is stored).
        const ranThere = new RegExp(`^task ${job.id} done$`, "m")
        for (let i = 0; i < 200 && !ranThere.test(runner.output.stdout); i++) yield* Effect.sleep("50 millis")
        assert.match(runner.output.stdout, ranThere, runner.output.stdout)
        // The runner wrote the run's trail under the job's id; the server reads and verifies it.
        const verdict = JSON.parse((yield* request(`${url}/runs/${job.id}/audit/verify`)).body)
        assert.isTrue(verdict.intact, JSON.stringify(verdict))
      }).pipe(Effect.scoped),
    180_000
  )
})
