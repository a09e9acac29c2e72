import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { counter, countingModel, decompositions, entries, teamYaml } from "../counters.ts"
import { troupe } from "../support.ts"

/**
 * `troupe orchestrate --resume`: an orchestration killed with SIGKILL at several points, then resumed. Each member's
 * one tool call appends its name to `counter.txt` (the side effects, one line each); the fake server counts the
 * model calls.
 */

// The second subtask builds on the first: the calls come in one order, which the kills below count on.
const subtasks = [
  {
    id: "first",
    title: "Count first",
    task: "Bump the counter",
    dependsOn: [],
    capabilities: ["shell_run"],
    agent: "alpha"
  },
  {
    id: "second",
    title: "Count second",
    task: "Bump the counter again",
    dependsOn: ["first"],
    capabilities: ["shell_run"],
    agent: "beta"
  }
]

const setup = (betaAuto: boolean) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "troupe-orchestrate-resume-"))
      const workspace = join(dir, "work")
      mkdirSync(workspace)
      writeFileSync(join(dir, "team.yaml"), teamYaml(betaAuto))
      return { dir, workspace, home: join(dir, "home"), team: join(dir, "team.yaml") }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split("\n").at(-1)!)

const runDirs = (home: string) => (existsSync(join(home, "runs")) ? readdirSync(join(home, "runs")) : [])

/** Every file under the runs' directory with its content: records, journals, trails, locks. */
const runFiles = (home: string) =>
  Object.fromEntries(
    readdirSync(join(home, "runs"), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort()
      .map((path) => [path, readFileSync(path, "utf8")])
  )

/** How many entries the trail `id` has. */
const trailLength = (home: string, id: string) =>
  readFileSync(join(home, "runs", id, "audit.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "").length

describe("troupe orchestrate --resume", () => {
  const points = [
    { name: "after the decomposition, the first plan in flight", at: 1, counted: [] as Array<string> },
    { name: "with one subtask done and the other in flight after its tool call", at: 7, counted: ["alpha", "beta"] }
  ]
  for (const point of points) {
    it.live(
      `killed with SIGKILL ${point.name}: resumed, no tool or model call twice, the trail goes on and verifies`,
      () =>
        Effect.gen(function* () {
          const t = yield* setup(true)
          const hang = { at: point.at as number | undefined }
          const server = yield* countingModel(subtasks, hang)
          const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
          const first = yield* Effect.forkChild(
            troupe(["orchestrate", "--goal", "count twice", "--team", t.team, "--workspace", t.workspace], env, {
              onStart: (child) => {
                const timer = setInterval(() => {
                  if (server.requests.length > point.at) {
                    clearInterval(timer)
                    child.kill("SIGKILL")
                  }
                }, 5)
              }
            })
          )
          const killed = yield* Fiber.join(first)
          assert.strictEqual(killed.code, -1, killed.stderr)
          assert.deepStrictEqual(counter(t.workspace), point.counted)
          assert.strictEqual(server.requests.length, point.at + 1)
          const orchestrationId = runDirs(t.home).find((d) => d.startsWith("orch-"))!
          assert.isDefined(orchestrationId)
          const runsBefore = runDirs(t.home).filter((d) => d !== orchestrationId)

          hang.at = undefined
          const resumed = yield* troupe(["orchestrate", "--resume", orchestrationId, "--json"], env)
          assert.strictEqual(resumed.code, 0, resumed.stderr)
          const result = lastJson(resumed.stdout)
          assert.strictEqual(result.status, "done")
          assert.strictEqual(result.orchestrationId, orchestrationId)
          assert.deepStrictEqual(
            result.subtasks.map((s: { id: string; agent: string; answer: string }) => [s.id, s.agent, s.answer]),
            [
              ["first", "alpha", "alpha counted"],
              ["second", "beta", "beta counted"]
            ]
          )
          // Each tool call ran once; the decomposition was asked once; only the call in flight was asked again.
          assert.deepStrictEqual(counter(t.workspace), ["alpha", "beta"])
          assert.strictEqual(decompositions(server), 1)
          assert.strictEqual(server.requests.length, 10)
          // The runs started before the kill are the ones that finished: resumed from their journals, not begun anew.
          for (const runId of runsBefore) {
            assert.isTrue(
              result.subtasks.some((s: { runIds: Array<string> }) => s.runIds.includes(runId)),
              `run ${runId} resumed`
            )
          }
          assert.strictEqual(runDirs(t.home).length, 3)
          // The team budget carries what was spent before the kill: the same steps as a run never stopped.
          assert.strictEqual(result.steps, 4)
          assert.isAbove(result.costUsd, 0)
          // One trail, continued: started and planned once, each subtask done once, and it verifies with its runs.
          assert.strictEqual(result.audit, "intact")
          assert.strictEqual(entries(t.home, orchestrationId, "OrchestrationStarted").length, 1)
          assert.strictEqual(entries(t.home, orchestrationId, "OrchestrationPlanned").length, 1)
          assert.strictEqual(entries(t.home, orchestrationId, "OrchestrationSubtaskSucceeded").length, 2)
          const verify = yield* troupe(["audit", orchestrationId, "--verify"], env)
          assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr)

          // Ended: resumed again, it tells the same end without asking, running or writing anything.
          const trail = trailLength(t.home, orchestrationId)
          const files = runFiles(t.home)
          const again = yield* troupe(["orchestrate", "--resume", orchestrationId, "--json"], env)
          assert.strictEqual(again.code, 0, again.stderr)
          assert.deepStrictEqual(lastJson(again.stdout), result)
          assert.strictEqual(server.requests.length, 10)
          assert.deepStrictEqual(counter(t.workspace), ["alpha", "beta"])
          assert.strictEqual(trailLength(t.home, orchestrationId), trail)
          assert.deepStrictEqual(runFiles(t.home), files)
          const verifyAgain = yield* troupe(["audit", orchestrationId, "--verify"], env)
          assert.strictEqual(verifyAgain.code, 0, verifyAgain.stdout + verifyAgain.stderr)
        }),
      120_000
    )
  }

  it.live(
    "killed with SIGKILL while an approval is pending: the approval survives, decided from another process, then resumed",
    () =>
      Effect.gen(function* () {
        const t = yield* setup(false)
        const server = yield* countingModel(subtasks, { at: undefined })
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
        let process: { kill: (signal: NodeJS.Signals) => boolean } | undefined
        const first = yield* Effect.forkChild(
          troupe(
            ["orchestrate", "--goal", "count twice", "--team", t.team, "--workspace", t.workspace, "--wait"],
            env,
            {
              onStart: (child) => {
                process = child
              }
            }
          )
        )
        let pending: string | undefined
        while (pending === undefined) {
          yield* Effect.sleep("200 millis")
          const listed = yield* troupe(["approvals", "list"], env)
          pending = listed.stdout
            .split("\n")
            .filter((l) => l.includes("pending"))
            .map((l) => l.split(/\s+/)[0]!)[0]
        }
        const orchestrationId = runDirs(t.home).find((d) => d.startsWith("orch-"))!
        // While it runs, a second process may not replay the same journal.
        const twice = yield* troupe(["orchestrate", "--resume", orchestrationId], env)
        assert.strictEqual(twice.code, 2, twice.stderr)
        assert.include(twice.stderr, `orchestration ${orchestrationId} is running in process`)
        process!.kill("SIGKILL")
        const killed = yield* Fiber.join(first)
        assert.strictEqual(killed.code, -1, killed.stderr)
        assert.deepStrictEqual(counter(t.workspace), ["alpha"])
        const asked = server.requests.length
        assert.strictEqual(asked, 7, "decomposition, alpha's four calls, beta's plan and its call")

        // Resumed before anyone decided: it waits for the same approval again, asking the model nothing.
        const still = yield* troupe(["orchestrate", "--resume", orchestrationId, "--json"], env)
        assert.strictEqual(still.code, 3, still.stderr)
        assert.strictEqual(lastJson(still.stdout).status, "awaiting-approval")
        assert.include(still.stderr, `approvals approve ${pending}`)
        assert.include(still.stderr, `troupe orchestrate --resume ${orchestrationId}`)
        assert.strictEqual(server.requests.length, asked)
        assert.deepStrictEqual(counter(t.workspace), ["alpha"])

        const approve = yield* troupe(["approvals", "approve", pending], env)
        assert.strictEqual(approve.code, 0, approve.stderr)
        const finished = yield* troupe(["orchestrate", "--resume", orchestrationId, "--json"], env)
        assert.strictEqual(finished.code, 0, finished.stderr)
        const result = lastJson(finished.stdout)
        assert.strictEqual(result.status, "done")
        assert.strictEqual(result.audit, "intact")
        assert.strictEqual(result.steps, 4)
        assert.deepStrictEqual(counter(t.workspace), ["alpha", "beta"])
        // Every call asked once: the decomposition, then four for each member.
        assert.strictEqual(server.requests.length, 9)
        assert.strictEqual(decompositions(server), 1)
        const verify = yield* troupe(["audit", orchestrationId, "--verify"], env)
        assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr)
      }),
    120_000
  )

  // An orchestration that has ended, resumed: the same end told again, as `troupe run --resume` of a finished run.
  const ends = [
    { status: "done", flags: [] as Array<string>, code: 0 },
    { status: "budget-exceeded", flags: ["--max-steps", "1"], code: 4 }
  ]
  for (const end of ends) {
    it.live(
      `ended ${end.status}, resumed: its outcome printed again with exit ${end.code}, nothing asked, run or written`,
      () =>
        Effect.gen(function* () {
          const t = yield* setup(true)
          const server = yield* countingModel(subtasks, { at: undefined })
          const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, TROUPE_HOME: t.home, HOME: t.dir }
          const first = yield* troupe(
            ["orchestrate", "--goal", "count twice", "--team", t.team, "--workspace", t.workspace, ...end.flags],
            env
          )
          assert.strictEqual(first.code, end.code, first.stderr)
          const orchestrationId = runDirs(t.home).find((d) => d.startsWith("orch-"))!
          const asked = server.requests.length
          const counted = counter(t.workspace)
          const trail = trailLength(t.home, orchestrationId)
          const files = runFiles(t.home)

          const again = yield* troupe(["orchestrate", "--resume", orchestrationId], env)
          assert.strictEqual(again.code, end.code, again.stderr)
          assert.strictEqual(again.stderr, first.stderr)
          // The report (when done), the trail's verdict and the summary: what the first run ended with, word for word.
          const [heading, ...told] = again.stdout.split("\n")
          assert.strictEqual(heading, `resuming orchestration ${orchestrationId}`)
          assert.isTrue(first.stdout.endsWith(told.join("\n")), `${first.stdout}\n---\n${again.stdout}`)
          assert.include(told.join("\n"), `orchestration ${orchestrationId}: ${end.status},`)
          if (end.status === "done") {
            assert.include(told.join("\n"), "Goal: count twice")
            assert.include(told.join("\n"), "- second (beta): Count second — beta counted")
          }

          const json = yield* troupe(["orchestrate", "--resume", orchestrationId, "--json"], env)
          assert.strictEqual(json.code, end.code, json.stderr)
          const result = lastJson(json.stdout)
          assert.strictEqual(result.orchestrationId, orchestrationId)
          assert.strictEqual(result.status, end.status)
          assert.strictEqual(result.audit, "intact")
          assert.deepStrictEqual(
            result.subtasks.map((s: { id: string }) => s.id),
            end.status === "done" ? ["first", "second"] : []
          )
          if (end.status !== "done") assert.strictEqual(result.error.tag, "TeamBudgetExceeded")
          // Its figures are the ones the first run's summary gave.
          assert.include(
            first.stdout,
            `${result.subtasks.length} subtasks, ${result.steps} steps, ${result.usage.inputTokens + result.usage.outputTokens} tokens, $${result.costUsd.toFixed(4)}`
          )

          // Its members ran here, so it is told without the cluster it would need to go on.
          const record = join(t.home, "runs", orchestrationId, "orchestration.json")
          writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, "utf8")), cluster: true }))
          const clustered = yield* troupe(["orchestrate", "--resume", orchestrationId, "--json"], env)
          assert.strictEqual(clustered.code, end.code, clustered.stderr)
          assert.deepStrictEqual(lastJson(clustered.stdout), result)

          assert.strictEqual(server.requests.length, asked)
          assert.deepStrictEqual(counter(t.workspace), counted)
          assert.strictEqual(trailLength(t.home, orchestrationId), trail)
          assert.deepStrictEqual(runFiles(t.home), { ...files, [record]: readFileSync(record, "utf8") })
          const verify = yield* troupe(["audit", orchestrationId, "--verify"], env)
          assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr)
        }),
      120_000
    )
  }

  it.live("--resume of an unknown id is bad input; --help shows --resume", () =>
    Effect.gen(function* () {
      const t = yield* setup(true)
      const env = { OPENAI_API_KEY: "sk-test", TROUPE_HOME: t.home, HOME: t.dir }
      const hostile = yield* troupe(["orchestrate", "--resume", "../../etc"], env)
      assert.strictEqual(hostile.code, 2)
      assert.include(hostile.stderr, "not an orchestration id")
      const absent = yield* troupe(["orchestrate", "--resume", "orch-20261130T000000-absent"], env)
      assert.strictEqual(absent.code, 2)
      assert.include(absent.stderr, "no orchestration orch-20261130T000000-absent")
      // One whose members ran on a cluster resumes only there (its record keeps no URL: it may hold a password).
      mkdirSync(join(t.home, "runs", "orch-20261130T000000-remote"), { recursive: true })
      writeFileSync(
        join(t.home, "runs", "orch-20261130T000000-remote", "orchestration.json"),
        JSON.stringify({
          team: t.team,
          teamDigest: createHash("sha256").update(readFileSync(t.team)).digest("hex"),
          workspace: t.workspace,
          goal: "count",
          cluster: true
        })
      )
      const remote = yield* troupe(["orchestrate", "--resume", "orch-20261130T000000-remote"], env)
      assert.strictEqual(remote.code, 2)
      assert.include(remote.stderr, "resume it with --postgres URL")
      const neither = yield* troupe(["orchestrate", "--team", t.team], env)
      assert.strictEqual(neither.code, 2)
      assert.include(neither.stderr, "needs --goal (or --resume ORCH_ID)")
      const help = yield* troupe(["orchestrate", "--help"], env)
      assert.strictEqual(help.code, 0, help.stderr)
      assert.include(help.stdout, "--resume")
    })
  )
})
