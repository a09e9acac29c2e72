import { mkdirSync, writeFileSync } from "node:fs"
import { userInfo } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ThrowawayPostgres } from "@troupe/cluster"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { agentOf, lines, messages, schemaName, startRunner } from "../recorder.ts"
import { clusterEnv, tempDir, troupe } from "../support.ts"

/**
 * The orchestrated mode on a cluster: `troupe orchestrate --postgres` plans here and runs every member's subtask on two
 * `troupe runner --wait` processes sharing a throwaway PostgreSQL. One member gives up on its first try and is tried
 * again; another's calls wait on its runner for approvals that a third process, sharing nothing with the runners but
 * the database, approves and denies with `troupe approvals --postgres`.
 */

const teamYaml = [
  "name: far-team",
  "manager: { name: lead, memory: { enabled: false } }",
  "agents:",
  "  - { name: writer, description: Writes, memory: { enabled: false } }",
  "  - { name: flaky, description: Counts, memory: { enabled: false } }",
  '  - { name: asker, description: Records, memory: { enabled: false }, tools: [{ shell_run: { allow: ["node"] } }] }'
].join("\n")

const recorder = `import { appendFileSync } from "node:fs"
const key = process.argv[2] ?? ""
if (!/^[a-z0-9]+$/.test(key)) process.exit(2)
appendFileSync("ledger.log", key + "\\n")
console.log("recorded " + key)
`

const writing = ["a1", "a2", "a3", "a4", "a5"]

const subtasks = [
  ...writing.map((key) => ({
    id: key,
    title: `Write ${key}`,
    task: `Write about the key ${key}`,
    dependsOn: [],
    capabilities: [],
    agent: "writer"
  })),
  { id: "beta", title: "Count", task: "Count the key beta", dependsOn: [], capabilities: [], agent: "flaky" },
  {
    id: "gamma",
    title: "Record gamma",
    task: "Record the key gamma",
    dependsOn: [],
    capabilities: ["shell_run"],
    agent: "asker"
  },
  {
    id: "delta",
    title: "Record delta",
    task: "Record the key delta",
    dependsOn: [],
    capabilities: ["shell_run"],
    agent: "asker"
  }
]

const keyOf = (request: FakeServer.Received) =>
  /the key ([a-z0-9]+)/.exec(JSON.stringify(messages(request)))?.[1] ?? "unknown"

const toolResults = (request: FakeServer.Received) =>
  messages(request)
    .filter((m) => m.role === "tool")
    .map((m) => JSON.stringify(m.content))
    .join("\n")

/** The lead plans `subtasks`; flaky gives up the first time; asker records its key with one call the policy asks about. */
const model = Effect.suspend(() => {
  let flakyReflections = 0
  return FakeOpenAi.make({
    turns: (request) => {
      const agent = agentOf(request) ?? "unknown"
      const key = keyOf(request)
      switch (schemaName(request)) {
        case "decomposition":
          return { text: JSON.stringify({ subtasks }) }
        case "plan":
          return { text: JSON.stringify({ goals: [] }) }
        case "reflection": {
          const giveUp = agent === "flaky" && flakyReflections++ === 0
          return {
            text: JSON.stringify(
              giveUp
                ? { outcome: "give-up", reasoning: "lost count", progress: [] }
                : { outcome: "done", reasoning: "done", progress: [], answer: `${agent} did ${key}` }
            )
          }
        }
        default:
          return agent === "asker" && toolResults(request) === ""
            ? { toolCalls: [{ name: "shell_run", arguments: { command: "node", args: ["record.mjs", key] } }] }
            : { text: `${agent} did ${key}` }
      }
    }
  })
})

describe("troupe orchestrate --postgres", () => {
  it.live(
    "members' subtasks run on two runners; a give-up is tried again; approvals pending on a runner are decided from another process",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("troupe-orchestrate-cluster-")
        const workspace = join(dir, "work")
        mkdirSync(workspace)
        writeFileSync(join(workspace, "record.mjs"), recorder)
        writeFileSync(join(dir, "team.yaml"), teamYaml)
        const fake = yield* model
        const postgres = yield* ThrowawayPostgres.make()
        const env = clusterEnv(dir, fake.url, { TROUPE_HOME: join(dir, "home") })
        const runners = []
        for (let i = 0; i < 2; i++) {
          const runner = yield* startRunner(["--postgres", postgres.url, "--workspace", workspace, "--wait"], env)
          const ready = yield* Deferred.await(runner.ready).pipe(Effect.timeoutOption("60 seconds"))
          assert.isTrue(ready._tag === "Some", `runner ${i} did not start: ${runner.output.stderr.slice(-2000)}`)
          runners.push(runner)
        }
        // Both runners see each other before tasks arrive, so that shards are spread over the two.
        yield* Effect.sleep("3 seconds")

        const orchestration = yield* Effect.forkChild(
          troupe(
            [
              "orchestrate",
              "--goal",
              "write, count and record",
              "--team",
              join(dir, "team.yaml"),
              "--workspace",
              workspace,
              "--postgres",
              postgres.url,
              "--json"
            ],
            env
          )
        )

        // Another shell with its own $TROUPE_HOME: all it shares with the runners is the database.
        const elsewhere = { ...env, TROUPE_HOME: join(dir, "elsewhere") }
        const pendingFor = (listed: string, key: string) =>
          listed
            .split("\n")
            .find((l) => l.includes(" pending ") && l.includes(`"record.mjs","${key}"`))
            ?.split(/\s+/)[0]
        let gamma: string | undefined
        let delta: string | undefined
        for (let i = 0; i < 300 && (gamma === undefined || delta === undefined); i++) {
          yield* Effect.sleep("200 millis")
          const listed = yield* troupe(["approvals", "list", "--postgres", postgres.url], elsewhere)
          gamma ??= pendingFor(listed.stdout, "gamma")
          delta ??= pendingFor(listed.stdout, "delta")
        }
        if (gamma === undefined || delta === undefined) return assert.fail("the asker's approvals were never pending")
        assert.deepStrictEqual(lines(join(workspace, "ledger.log")), [])
        const [approved, denied] = yield* Effect.all(
          [
            troupe(["approvals", "approve", gamma, "--postgres", postgres.url], elsewhere),
            troupe(["approvals", "deny", delta, "--reason", "not on a weekend", "--postgres", postgres.url], elsewhere)
          ],
          { concurrency: 2 }
        )
        assert.strictEqual(approved.code, 0, approved.stderr)
        assert.strictEqual(denied.code, 0, denied.stderr)

        const run = yield* Fiber.join(orchestration).pipe(Effect.timeout("90 seconds"))
        assert.strictEqual(run.code, 0, `${run.stdout}\n${run.stderr}`)
        const result = JSON.parse(run.stdout.trimEnd().split("\n").at(-1)!)
        assert.strictEqual(result.status, "done")
        // Without a terminal, the orchestration said where each request waited, and waited.
        assert.include(run.stderr, `gamma waits on a runner for approval ${gamma} (shell_run)`)
        assert.include(run.stderr, `delta waits on a runner for approval ${delta} (shell_run)`)
        // The report aggregates every subtask, each answered by its member on a runner.
        assert.deepStrictEqual(
          result.subtasks.map((s: { id: string; agent: string; answer: string }) => [s.id, s.agent, s.answer]),
          subtasks.map((s) => [s.id, s.agent, `${s.agent} did ${s.id}`])
        )
        const beta = result.subtasks.find((s: { id: string }) => s.id === "beta")
        assert.strictEqual(beta.attempts, 2)
        assert.deepStrictEqual(beta.runIds, [`${result.orchestrationId}.beta.1`, `${result.orchestrationId}.beta.2`])
        assert.isAbove(result.steps, 0)

        // Every run was made on a runner process, and both runners made some.
        const started = runners.map(
          (r) => new Set([...r.output.stdout.matchAll(/^task (\S+) started$/gm)].map((m) => m[1]!))
        )
        const runIds: Array<string> = result.subtasks.flatMap((s: { runIds: Array<string> }) => s.runIds)
        for (const runId of runIds)
          assert.isTrue(
            started.some((s) => s.has(runId)),
            `${runId} ran on no runner`
          )
        assert.isTrue(
          started.every((s) => runIds.some((runId) => s.has(runId))),
          "the subtasks did not spread over both runners"
        )

        // The orchestration's trail links each run by id, with the runner that made it and its trail's head there.
        const trail = lines(join(dir, "home", "runs", result.orchestrationId, "audit.jsonl")).map((l) => JSON.parse(l))
        const links = trail.filter((e) => e.type === "OrchestrationRunLinked").map((e) => e.data)
        assert.deepStrictEqual(links.map((l) => l.runId).sort(), [...runIds].sort())
        const addresses = yield* Effect.forEach(runners, (r) => Deferred.await(r.ready))
        for (const link of links) {
          assert.include(addresses, link.runner)
          assert.isDefined(link.head, `${link.runId} was linked without its trail's head`)
        }
        // The runners share this $TROUPE_HOME here, so every linked trail verifies against its head.
        assert.strictEqual(result.audit, "intact")

        // The approved call ran once; the denied one never did, and the model was told why.
        assert.deepStrictEqual(lines(join(workspace, "ledger.log")), ["gamma"])
        const deltaTold = fake.requests.filter((r) => agentOf(r) === "asker" && keyOf(r) === "delta").map(toolResults)
        assert.isTrue(
          deltaTold.some((told) => told.includes("not on a weekend")),
          "the denial never reached the model"
        )
        // Who decided, and when: in the cluster's table, and in the task's own trail on its runner.
        const listed = yield* troupe(["approvals", "list", "--postgres", postgres.url], elsewhere)
        const person = userInfo().username
        assert.match(listed.stdout, new RegExp(`^${gamma}  approved by ${person} at \\d{4}-\\d\\d-\\d\\dT`, "m"))
        assert.match(listed.stdout, new RegExp(`^${delta}  denied by ${person} at \\d{4}-\\d\\d-\\d\\dT`, "m"))
        const gammaRun = `${result.orchestrationId}.gamma.1`
        const decided = lines(join(dir, "home", "runs", gammaRun, "audit.jsonl"))
          .map((l) => JSON.parse(l))
          .find((e) => e.type === "AgentApprovalDecided")
        assert.strictEqual(decided?.data.by, person)
        assert.strictEqual(decided?.data.approved, true)
      }),
    180_000
  )
})
