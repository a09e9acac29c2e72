import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { Jobs } from "../src/index.ts"
import { request, services, sseData, startServer, tempDirs, token } from "./support.ts"

describe("troupe serve --postgres: agent runs handed elsewhere", () => {
  it.live(
    "a named agent's goal goes to the remote runner with the job's id as its run id; a failure is the job's",
    () =>
      Effect.gen(function* () {
        const dirs = yield* tempDirs
        const calls: Array<{ readonly agent: string; readonly goal: string; readonly runId: string }> = []
        const remote: Jobs.Remote = {
          run: (spec, goal, runId) =>
            Effect.suspend(() => {
              calls.push({ agent: spec.name, goal, runId })
              return goal === "fail"
                ? Effect.fail({ _tag: "BudgetExceeded", message: "the run went over \u001b[31mits budget" })
                : Effect.succeed({
                    answer: `done remotely: ${goal}`,
                    spend: { steps: 2, inputTokens: 10, outputTokens: 5, costUsd: 0.001 }
                  })
            })
        }
        const server = yield* startServer(dirs, { remote }).pipe(Effect.provide(yield* services(dirs.work)))
        const submit = (goal: string) =>
          Effect.map(
            request(`${server.url}/goals`, { method: "POST", token, body: { goal, agent: "scribe.yaml" } }),
            (reply) => JSON.parse(reply.body)
          )
        const job = yield* submit("scribe remotely")
        const events = sseData((yield* request(`${server.url}/jobs/${job.id}/events`, { token })).body)
        assert.deepStrictEqual(
          events.map((e) => e.type),
          ["JobEnded"]
        )
        const done = JSON.parse((yield* request(`${server.url}/jobs/${job.id}`, { token })).body)
        assert.strictEqual(done.state, "done")
        assert.strictEqual(done.answer, "done remotely: scribe remotely")
        assert.deepStrictEqual(done.spend, { steps: 2, inputTokens: 10, outputTokens: 5, costUsd: 0.001 })
        assert.deepStrictEqual(calls, [{ agent: "scribe", goal: "scribe remotely", runId: job.id }])

        const failing = yield* submit("fail")
        yield* request(`${server.url}/jobs/${failing.id}/events`, { token })
        const failed = JSON.parse((yield* request(`${server.url}/jobs/${failing.id}`, { token })).body)
        assert.strictEqual(failed.state, "budget-exceeded")
        assert.deepStrictEqual(failed.error, { tag: "BudgetExceeded", message: "the run went over its budget" })
        // The server's own team still orchestrates in this process.
        const team = yield* request(`${server.url}/goals`, { method: "POST", token, body: { goal: "Write a note" } })
        assert.strictEqual(JSON.parse(team.body).kind, "team")
        assert.strictEqual(calls.length, 2)
      }).pipe(Effect.scoped)
  )
})
