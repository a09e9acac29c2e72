import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { AgentSpec } from "@troupe/agent-spec"
import { AgentTask, Client, ThrowawayPostgres } from "@troupe/cluster"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { keyOf, lines, model, type RunnerProcess, recorder, schemaName, startRunner } from "../recorder.ts"
import { troupe } from "../support.ts"

/**
 * The distributed mode end to end: a throwaway PostgreSQL, three `troupe runner` processes on 127.0.0.1, fifty agent
 * tasks submitted through a cluster client, and one runner killed with SIGKILL while it runs some of them. Each task
 * records its key with an allowlisted command that keeps a ledger: the irreversible action, made idempotent by the
 * key (a marker file created exclusively), so a call in flight at the kill that runs again records nothing twice.
 * Every call is also logged in `attempts.log`. Runs are workflows journalled in PostgreSQL: a moved task replays its
 * completed model calls instead of asking them again.
 */

const spec = Schema.decodeUnknownSync(
  AgentSpec.AgentSpec,
  AgentSpec.parseOptions
)({
  name: "recorder",
  memory: { enabled: false },
  tools: [{ shell_run: { allow: ["node"] } }],
  approvals: { tools: { shell_run: "auto" } },
  limits: { maxSteps: 6 }
})

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-runner-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("troupe runner", () => {
  it.live(
    "three runners share fifty tasks; one killed with SIGKILL mid-run, one stopped with SIGTERM: every task completes, each key recorded once",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        writeFileSync(join(workspace, "record.mjs"), recorder)
        const server = yield* model
        const postgres = yield* ThrowawayPostgres.make()
        const env = {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: server.url,
          TROUPE_BUNDLE: "0",
          TROUPE_HOME: join(dir, "home"),
          HOME: dir
        }
        const runners: Array<RunnerProcess> = []
        const attempted = () => new Set(lines(join(workspace, "attempts.log")))
        // The first runner found with a task whose irreversible action is done but whose run is not dies then and
        // there: the task must run again elsewhere, and its action must not count twice.
        const killMidRun = Effect.gen(function* () {
          while (true) {
            yield* Effect.sleep("10 millis")
            const done = attempted()
            const target = runners.find((r) => [...r.started].some((task) => !r.finished.has(task) && done.has(task)))
            if (target === undefined) continue
            target.child.kill("SIGKILL")
            return { target, attemptedBefore: done }
          }
        })
        // One after the other: the first creates the cluster's tables.
        for (let i = 0; i < 3; i++) {
          const runner = yield* startRunner(["--postgres", postgres.url, "--workspace", workspace], env)
          runners.push(runner)
          const ready = yield* Deferred.await(runner.ready).pipe(Effect.timeoutOption("60 seconds"))
          assert.isTrue(ready._tag === "Some", `runner ${i} did not start: ${runner.output.stderr.slice(-2000)}`)
        }
        // Every runner sees the others before tasks arrive, so that shards are spread over the three.
        yield* Effect.sleep("3 seconds")

        const keys = Array.from({ length: 50 }, (_, i) => `task-${i + 1}`)
        const results = yield* Effect.forEach(
          keys,
          (key) =>
            Effect.gen(function* () {
              const client = yield* Client.Client
              return yield* client.submit(AgentTask.task(key, spec, `Please record the key ${key} once.`))
            }),
          { concurrency: "unbounded" }
        ).pipe(
          Effect.provide(Client.layer({ postgres: postgres.url })),
          Effect.timeout("100 seconds"),
          Effect.forkChild
        )

        const dead = yield* killMidRun.pipe(Effect.timeoutOption("60 seconds"))
        if (dead._tag === "None") return assert.fail("no runner was ever caught between a task's action and its end")
        const victim = dead.value.target
        yield* Deferred.await(victim.exited)
        const unfinished = [...victim.started].filter((task) => !victim.finished.has(task))
        // The tasks whose action the killed runner had done: they went on elsewhere.
        const repeated = unfinished.filter((task) => dead.value.attemptedBefore.has(task))
        const done = yield* Fiber.join(results)

        // Every task completed, with its own answer, by a runner that was alive to finish it.
        assert.strictEqual(done.length, 50)
        assert.deepStrictEqual(
          done.map((r) => r.answer),
          keys.map((key) => `recorded ${key}`)
        )
        const victimAddress = yield* Deferred.await(victim.ready)
        for (const task of unfinished) {
          const result = done.find((r) => r.taskId === task)!
          assert.notStrictEqual(result.runner, victimAddress, `${task} was reported by the killed runner`)
        }
        assert.isAbove(unfinished.length, 0)
        // Tasks ran on more than one runner.
        assert.isAbove(new Set(done.map((r) => r.runner)).size, 1)

        // Each irreversible action exactly once: the ledger has every key once, whatever ran again.
        const ledger = lines(join(workspace, "ledger.log"))
        assert.strictEqual(ledger.length, 50)
        assert.deepStrictEqual([...ledger].sort(), [...keys].sort())
        // A moved task went on from its journal: the calls completed before the kill were not asked again.
        assert.isAbove(repeated.length, 0)
        for (const task of repeated) {
          const plans = server.requests.filter((r) => schemaName(r) === "plan" && keyOf(r) === task)
          assert.strictEqual(plans.length, 1, `${task}'s plan was asked again`)
        }

        // Every run's trail verifies, the moved tasks' too: started on the killed runner, continued by another, which
        // does not write again what the replay repeats.
        for (const task of [...repeated, "task-50"]) {
          const verified = yield* troupe(["audit", task, "--verify"], env)
          assert.strictEqual(verified.code, 0, `${task}: ${verified.stdout}${verified.stderr}`)
        }
        const moved = readFileSync(join(dir, "home", "runs", repeated[0]!, "audit.jsonl"), "utf8")
        assert.strictEqual(moved.split("AgentRunStarted").length - 1, 1)
        assert.include(moved, "AgentRunEnded")

        // Submitting a task again waits for the same ending: nothing runs twice.
        const again = yield* Effect.gen(function* () {
          const client = yield* Client.Client
          return yield* client.submit(AgentTask.task("task-1", spec, "Please record the key task-1 once."))
        }).pipe(Effect.provide(Client.layer({ postgres: postgres.url })))
        assert.strictEqual(again.answer, "recorded task-1")
        assert.strictEqual(lines(join(workspace, "ledger.log")).length, 50)

        // Stopped with SIGTERM (as Ctrl-C would), a runner hands the tasks it is running to the one left.
        const survivors = runners.filter((r) => r !== victim)
        const late = Array.from({ length: 10 }, (_, i) => `late-${i + 1}`)
        const lateResults = yield* Effect.forEach(
          late,
          (key) =>
            Effect.flatMap(Client.Client, (client) =>
              client.submit(AgentTask.task(key, spec, `Please record the key ${key} once.`))
            ),
          { concurrency: "unbounded" }
        ).pipe(Effect.provide(Client.layer({ postgres: postgres.url })), Effect.timeout("60 seconds"), Effect.forkChild)
        const stopping = yield* Effect.gen(function* () {
          while (true) {
            yield* Effect.sleep("10 millis")
            const target = survivors.find((r) => late.some((task) => r.started.has(task) && !r.finished.has(task)))
            if (target !== undefined) return target
          }
        }).pipe(Effect.timeoutOption("30 seconds"))
        if (stopping._tag === "None") return assert.fail("no runner was running a late task")
        stopping.value.child.kill("SIGTERM")
        const code = yield* Deferred.await(stopping.value.exited).pipe(Effect.timeoutOption("30 seconds"))
        assert.deepStrictEqual(code, Option.some(130))
        const handedOver = late.filter((task) => stopping.value.started.has(task) && !stopping.value.finished.has(task))
        const lateDone = yield* Fiber.join(lateResults)
        assert.deepStrictEqual(
          lateDone.map((r) => r.answer),
          late.map((key) => `recorded ${key}`)
        )
        const last = yield* Deferred.await(survivors.find((r) => r !== stopping.value)!.ready)
        for (const task of handedOver) {
          assert.strictEqual(lateDone.find((r) => r.taskId === task)!.runner, last, `${task} was not handed over`)
        }
        assert.isAbove(handedOver.length, 0)
        assert.deepStrictEqual([...lines(join(workspace, "ledger.log"))].sort(), [...keys, ...late].sort())
      }),
    180_000
  )

  it.live(
    "with --wait, a call the policy asks about waits in the cluster's PostgreSQL for troupe approvals --postgres, then runs",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        writeFileSync(join(workspace, "record.mjs"), recorder)
        const server = yield* model
        const postgres = yield* ThrowawayPostgres.make()
        const env = {
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: server.url,
          TROUPE_BUNDLE: "0",
          TROUPE_HOME: join(dir, "home"),
          HOME: dir
        }
        const runner = yield* startRunner(["--postgres", postgres.url, "--workspace", workspace, "--wait"], env)
        const ready = yield* Deferred.await(runner.ready).pipe(Effect.timeoutOption("60 seconds"))
        assert.isTrue(ready._tag === "Some", runner.output.stderr.slice(-2000))
        // The spec's policy asks before running a program.
        const asking = Schema.decodeUnknownSync(
          AgentSpec.AgentSpec,
          AgentSpec.parseOptions
        )({ name: "asker", memory: { enabled: false }, tools: [{ shell_run: { allow: ["node"] } }] })
        const result = yield* Effect.flatMap(Client.Client, (client) =>
          client.submit(AgentTask.task("asked-1", asking, "Please record the key asked-1 once."))
        ).pipe(Effect.provide(Client.layer({ postgres: postgres.url })), Effect.forkChild)
        let pending: string | undefined
        for (let i = 0; i < 300 && pending === undefined; i++) {
          yield* Effect.sleep("200 millis")
          const listed = yield* troupe(["approvals", "list", "--postgres", postgres.url], env)
          pending = listed.stdout
            .split("\n")
            .find((l) => l.includes("pending") && l.includes("shell_run"))
            ?.split(/\s+/)[0]
        }
        if (pending === undefined) return assert.fail("no approval was ever pending")
        assert.deepStrictEqual(lines(join(workspace, "ledger.log")), [])
        // From another shell with another $TROUPE_HOME: all it shares with the runner is the database.
        const approved = yield* troupe(["approvals", "approve", pending, "--postgres", postgres.url], {
          ...env,
          TROUPE_HOME: join(dir, "elsewhere")
        })
        assert.strictEqual(approved.code, 0, approved.stderr)
        const done = yield* Fiber.join(result).pipe(Effect.timeout("60 seconds"))
        assert.strictEqual(done.answer, "recorded asked-1")
        assert.deepStrictEqual(lines(join(workspace, "ledger.log")), ["asked-1"])
      }),
    120_000
  )

  it.live("a PostgreSQL it cannot reach stops the runner in one line naming the server, never the password", () =>
    Effect.gen(function* () {
      const port = yield* Effect.orDie(ThrowawayPostgres.freePort)
      const run = yield* troupe(["runner", "--postgres", `postgres://postgres:s3cret-pw@127.0.0.1:${port}/cluster`], {
        TROUPE_BUNDLE: "0"
      })
      assert.strictEqual(run.code, 1, run.stderr)
      assert.include(run.stderr, `could not join the cluster at 127.0.0.1:${port}/cluster`)
      assert.notInclude(`${run.stdout}${run.stderr}`, "s3cret")
      assert.strictEqual(run.stderr.trim().split("\n").length, 1, run.stderr)
    })
  )

  it.live("refuses a --postgres that is not a PostgreSQL URL, without echoing it", () =>
    Effect.gen(function* () {
      const run = yield* troupe(["runner", "--postgres", "mysql://root:hunter2@db/x"], { TROUPE_BUNDLE: "0" })
      assert.strictEqual(run.code, 2, run.stderr)
      assert.include(run.stderr, "--postgres must be a PostgreSQL URL")
      assert.notInclude(run.stderr, "hunter2")
    })
  )
})
