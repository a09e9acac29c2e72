import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { Jobs } from "../src/index.ts"
import { eventually, request, services, startServer, tempDirs, token } from "./support.ts"

// A live process that is not this one, to hold a lock as another server would.
const otherProcess = Effect.acquireRelease(
  Effect.sync(() => spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" })),
  (child: ChildProcess) => Effect.sync(() => child.kill("SIGKILL"))
)

const record = (records: string, id: string) => {
  mkdirSync(join(records, id), { recursive: true })
  writeFileSync(
    join(records, id, "job.json"),
    `${JSON.stringify({ spec: "scribe.yaml", goal: "finish the notes", submittedBy: "ana", ended: false })}\n`
  )
}

describe("a recorded job runs in one process at a time", () => {
  it.live("a job another live process holds is not resumed; once that process is gone it is, under its id", () =>
    Effect.gen(function* () {
      const dirs = yield* tempDirs
      const records = join(dirs.home, "runs")
      const id = "run-0001-held-elsewhere"
      record(records, id)
      const other = yield* otherProcess
      const lock = join(records, id, "run.lock")
      writeFileSync(lock, `${other.pid}\n`)
      const calls: Array<string> = []
      const finish = yield* Deferred.make<void>()
      const remote: Jobs.Remote = {
        run: (_spec, goal, runId) =>
          Effect.suspend(() => {
            calls.push(runId)
            return Effect.as(Deferred.await(finish), {
              answer: `done: ${goal}`,
              spend: { steps: 1, inputTokens: 1, outputTokens: 1, costUsd: 0 }
            })
          })
      }
      const jobsOf = (url: string) =>
        Effect.map(request(`${url}/jobs`, { token }), (reply) =>
          (JSON.parse(reply.body) as ReadonlyArray<{ readonly id: string }>).map((job) => job.id)
        )

      // Started while the other process holds the job: not resumed, its record and the other's lock left alone.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* startServer(dirs, { remote, records }).pipe(Effect.provide(yield* services(dirs.work)))
          assert.deepStrictEqual(yield* jobsOf(server.url), [])
        })
      )
      assert.deepStrictEqual(calls, [])
      assert.strictEqual(readFileSync(lock, "utf8").trim(), String(other.pid))
      assert.include(readFileSync(join(records, id, "job.json"), "utf8"), '"ended":false')

      // The other process died: the next server takes the job over and holds its lock while it runs.
      other.kill("SIGKILL")
      yield* eventually(Effect.sync(() => (other.exitCode !== null || other.signalCode !== null ? true : undefined)))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* startServer(dirs, { remote, records }).pipe(Effect.provide(yield* services(dirs.work)))
          assert.deepStrictEqual(yield* jobsOf(server.url), [id])
          yield* eventually(Effect.sync(() => (calls.length > 0 ? true : undefined)))
          assert.deepStrictEqual(calls, [id])
          assert.strictEqual(readFileSync(lock, "utf8").trim(), String(process.pid))
          yield* Deferred.succeed(finish, undefined)
          const ended = yield* eventually(
            Effect.map(request(`${server.url}/jobs/${id}`, { token }), (reply) => {
              const job = JSON.parse(reply.body)
              return job.state === "running" ? undefined : job
            })
          )
          assert.strictEqual(ended.state, "done")
          assert.strictEqual(ended.answer, "done: finish the notes")
          // Its end recorded, then its lock released.
          yield* eventually(Effect.sync(() => (existsSync(lock) ? undefined : true)))
          assert.include(readFileSync(join(records, id, "job.json"), "utf8"), '"ended":true')
        })
      )
    }).pipe(Effect.scoped)
  )
})
