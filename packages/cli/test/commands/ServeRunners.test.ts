import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ThrowawayPostgres } from "@troupe/cluster"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { daemon, requestWith } from "../daemon.ts"
import { lines, model, type RunnerProcess, recorder, startRunner } from "../recorder.ts"
import { clusterEnv, tempDir } from "../support.ts"

/**
 * The distributed mode end to end through the server: a throwaway PostgreSQL, three `troupe runner` processes and
 * `troupe serve --postgres` on 127.0.0.1, fifty agent goals submitted over HTTP, and one runner killed with SIGKILL
 * while a task's irreversible action is done but its run is not. Each goal records its key with an allowlisted
 * command that keeps a ledger, made idempotent by a marker file created exclusively, so the run that goes on
 * elsewhere records nothing twice.
 */

const token = "serve-runners-0123456789"

const recorderSpec = `name: recorder
memory: { enabled: false }
tools: [{ shell_run: { allow: [node] } }]
approvals: { tools: { shell_run: auto } }
limits: { maxSteps: 6 }
`

const request = requestWith(token)

describe("troupe serve --postgres with three runners", () => {
  it.live(
    "fifty goals through the server over three runners, one killed with SIGKILL mid-run: every job done with its own answer, each key recorded once",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("troupe-serve-runners-")
        const work = join(dir, "work")
        const specs = join(dir, "specs")
        mkdirSync(work)
        mkdirSync(specs)
        writeFileSync(join(work, "record.mjs"), recorder)
        writeFileSync(join(specs, "recorder.yaml"), recorderSpec)
        const fake = yield* model
        const postgres = yield* ThrowawayPostgres.make()
        const env = clusterEnv(dir, fake.url, { TROUPE_HOME: join(dir, "home"), TROUPE_TOKEN: token })
        const runners: Array<RunnerProcess> = []
        // One after the other: the first creates the cluster's tables.
        for (let i = 0; i < 3; i++) {
          const runner = yield* startRunner(["--postgres", postgres.url, "--workspace", work], env)
          runners.push(runner)
          const ready = yield* Deferred.await(runner.ready).pipe(Effect.timeoutOption("60 seconds"))
          assert.isTrue(ready._tag === "Some", `runner ${i} did not start: ${runner.output.stderr.slice(-2000)}`)
        }
        const server = yield* daemon(
          ["serve", "--port", "0", "--postgres", postgres.url, "--specs", specs, "--workspace", work],
          env,
          /listening on (http:\/\/[0-9.]+:\d+)/
        )
        const url = yield* Deferred.await(server.ready).pipe(Effect.timeout("60 seconds"))
        // Every runner sees the others before goals arrive, so that shards are spread over the three.
        yield* Effect.sleep("3 seconds")

        const keys = Array.from({ length: 50 }, (_, i) => `task-${i + 1}`)
        // The job's id is the task's id on the runners; the key is what its action records.
        const keyOfJob = new Map<string, string>()
        const jobs = yield* Effect.forEach(
          keys,
          (key) =>
            Effect.gen(function* () {
              const submitted = yield* request(`${url}/goals`, {
                method: "POST",
                body: { goal: `Please record the key ${key} once.`, agent: "recorder.yaml" }
              })
              assert.strictEqual(submitted.status, 202, submitted.body)
              const id = (JSON.parse(submitted.body) as { id: string }).id
              keyOfJob.set(id, key)
              return { key, id }
            }),
          { concurrency: 10 }
        )
        const results = yield* Effect.forEach(
          jobs,
          ({ id }) =>
            Effect.gen(function* () {
              yield* request(`${url}/jobs/${id}/events`)
              return JSON.parse((yield* request(`${url}/jobs/${id}`)).body) as {
                state: string
                answer?: string
              }
            }),
          { concurrency: "unbounded" }
        ).pipe(Effect.timeout("120 seconds"), Effect.forkChild)

        // The first runner found with a task whose irreversible action is done but whose run is not dies then and
        // there: the task must run again elsewhere, and its action must not count twice.
        const killMidRun = Effect.gen(function* () {
          while (true) {
            yield* Effect.sleep("10 millis")
            const attempted = new Set(lines(join(work, "attempts.log")))
            const target = runners.find((r) =>
              [...r.started].some((task) => !r.finished.has(task) && attempted.has(keyOfJob.get(task) ?? ""))
            )
            if (target === undefined) continue
            target.child.kill("SIGKILL")
            return target
          }
        })
        const dead = yield* killMidRun.pipe(Effect.timeoutOption("60 seconds"))
        if (dead._tag === "None") return assert.fail("no runner was ever caught between a task's action and its end")
        const victim = dead.value
        yield* Deferred.await(victim.exited)
        const unfinished = [...victim.started].filter((task) => !victim.finished.has(task))
        assert.isAbove(unfinished.length, 0)

        const done = yield* Fiber.join(results)
        // Every job done, with its own answer.
        assert.deepStrictEqual(
          done.map((job) => [job.state, job.answer]),
          keys.map((key) => ["done", `recorded ${key}`])
        )
        // The killed runner's unfinished tasks were finished by the others.
        const survivors = runners.filter((r) => r !== victim)
        for (const task of unfinished) {
          const finishedElsewhere = () => survivors.some((r) => r.finished.has(task))
          for (let i = 0; i < 200 && !finishedElsewhere(); i++) yield* Effect.sleep("50 millis")
          assert.isTrue(finishedElsewhere(), `${task} was not finished by another runner`)
        }
        // Tasks ran on more than one runner.
        assert.isAbove(runners.filter((r) => r.finished.size > 0).length, 1)
        // Each irreversible action exactly once: the ledger has every key once, whatever ran again.
        const ledger = lines(join(work, "ledger.log"))
        assert.strictEqual(ledger.length, 50)
        assert.deepStrictEqual([...ledger].sort(), [...keys].sort())
      }).pipe(Effect.scoped),
    180_000
  )
})
