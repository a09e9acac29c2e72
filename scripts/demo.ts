/**
 * `pnpm demo [--keep]`: an orchestrated goal across four built-in agents (`agents/team.yaml`'s manager, architect,
 * backend and git), each answering from a script instead of a provider, in a fresh temporary workspace.
 *
 * Everything but the model is real: the manager's decomposition runs on the orchestrator, the architect writes a
 * design and remembers a decision in the team's memory (LanceDB), the backend recalls it, writes a module and its
 * tests and runs them with `node --test`, the git agent commits in a real repository and pushes to a local bare
 * repository once the approval it asks for is granted; every run is audited and the orchestration's trail and every
 * linked run are verified at the end. Costs are simulated at the list prices of each agent's model. The workspace is
 * removed at the end unless `--keep` is given.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { AgentEvents, AuditLog, Spend } from "@troupe/agent"
import { AgentSpec, SpecLoader } from "@troupe/agent-spec"
import { KnowledgeBase, Memory } from "@troupe/memory"
import { Orchestrator, TeamTrail } from "@troupe/orchestrator"
import { Pooled, ProviderPool, TerminalText } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import { Tools, Workspace } from "@troupe/tools"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

const root = fileURLToPath(new URL("..", import.meta.url))
const keep = process.argv.includes("--keep")
const say = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))

const goal = "Add a small todo module to the repository: a design, the code with passing tests, committed and pushed"

const decision =
  "Todo items live in an in-memory Map keyed by sequential integer ids; the module exports add, list and complete."

const todoModule = `"use strict"
// ${decision}
const items = new Map()
let next = 1
const add = (title) => {
  const item = { id: next++, title, done: false }
  items.set(item.id, item)
  return item
}
const list = () => [...items.values()]
const complete = (id) => {
  const item = items.get(id)
  if (item === undefined) throw new Error(\`no todo \${id}\`)
  item.done = true
  return item
}
module.exports = { add, list, complete }
`

const todoTest = `"use strict"
const test = require("node:test")
const assert = require("node:assert")
const todo = require("../src/todo.js")

test("added items are listed and can be completed", () => {
  const milk = todo.add("buy milk")
  todo.add("write the report")
  assert.strictEqual(todo.list().length, 2)
  assert.strictEqual(todo.complete(milk.id).done, true)
})
`

const design = `# Todo module

\`\`\`mermaid
flowchart LR
  caller --> add & list & complete --> items[(Map by id)]
\`\`\`

- ${decision}
- Failure: completing an unknown id throws, naming the id.
`

type Call = { readonly name: string; readonly params: unknown }

/**
 * A member's script: a plan of no goals, the given tool calls one per turn, then its answer, and a reflection that
 * the task is done. Which call comes next is read from the conversation (the tool results so far).
 */
const member = (calls: ReadonlyArray<Call>, answer: string) =>
  Scripted.make(
    [
      Scripted.dynamic((request) => {
        const format = request.responseFormat
        if (format.type === "json" && format.objectName === "plan") return Scripted.text(JSON.stringify({ goals: [] }))
        if (format.type === "json") {
          return Scripted.text(
            JSON.stringify({ outcome: "done", reasoning: "the task is complete", progress: [], answer })
          )
        }
        const done = request.prompt.content.filter((message) => message.role === "tool").length
        return done < calls.length
          ? Scripted.toolCalls([{ ...calls[done]!, id: `call_${done + 1}` }])
          : Scripted.text(answer)
      })
    ],
    { cycle: true }
  )

const decomposition = {
  subtasks: [
    {
      id: "design",
      title: "Design the todo module",
      task: "Write docs/design.md for a todo module and remember the storage decision for the team.",
      dependsOn: [],
      capabilities: ["fs_write", "memory_remember"],
      agent: "architect"
    },
    {
      id: "code",
      title: "Implement it with tests",
      task: "Implement src/todo.js as designed, with tests under test/, and run them until they pass.",
      dependsOn: ["design"],
      capabilities: ["shell_run"],
      agent: "backend"
    },
    {
      id: "ship",
      title: "Commit and push",
      task: "Commit the design, the code and the tests, and push the branch feature/todo.",
      dependsOn: ["code"],
      capabilities: ["git_commit", "git_push"],
      agent: "git"
    }
  ]
}

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim()

interface Paths {
  readonly dir: string
  readonly workspace: string
  readonly origin: string
  readonly home: string
}

// A fresh workspace that is a git repository on feature/todo, a bare repository as its origin, and a state directory.
const prepare = (): Paths => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-demo-"))
  const paths = { dir, workspace: join(dir, "work"), origin: join(dir, "origin.git"), home: join(dir, "home") }
  mkdirSync(paths.workspace)
  git(dir, "init", "--quiet", "--bare", "--initial-branch=main", paths.origin)
  git(paths.workspace, "init", "--quiet", "--initial-branch=feature/todo")
  git(paths.workspace, "config", "user.name", "Troupe demo")
  git(paths.workspace, "config", "user.email", "demo@troupe.invalid")
  git(paths.workspace, "remote", "add", "origin", paths.origin)
  return paths
}

const demo = ({ workspace, origin }: Paths) =>
  Effect.gen(function* () {
    yield* say(
      "Troupe demo — scripted model: no provider is called, every answer comes from a script; costs are simulated"
    )
    yield* say(`workspace ${workspace} (a fresh git repository; origin is a local bare repository)`)

    const loaded = yield* SpecLoader.loadTeam(join(root, "agents/team.yaml"))
    const names = ["architect", "backend", "git"]
    const team = {
      ...loaded.team,
      name: "demo-team",
      agents: loaded.team.agents.filter((spec) => names.includes(spec.name))
    }
    const scripts = {
      manager: yield* Scripted.make([Scripted.dynamic(() => Scripted.text(JSON.stringify(decomposition)))], {
        cycle: true
      }),
      architect: yield* member(
        [
          { name: "fs_write", params: { path: "docs/design.md", content: design } },
          { name: "memory_remember", params: { text: decision, kind: "lesson", importance: 0.9, shared: true } }
        ],
        "docs/design.md written; the storage decision is in the team's memory"
      ),
      backend: yield* member(
        [
          { name: "memory_recall", params: { query: "how are todo items stored", k: 3 } },
          { name: "fs_write", params: { path: "src/todo.js", content: todoModule } },
          { name: "fs_write", params: { path: "test/todo.test.js", content: todoTest } },
          { name: "shell_run", params: { command: "node", args: ["--test", "test/todo.test.js"] } }
        ],
        "src/todo.js implements add, list and complete as designed; node --test passes"
      ),
      git: yield* member(
        [
          { name: "git_status", params: {} },
          { name: "git_commit", params: { message: "Add the todo module, its tests and its design" } },
          { name: "git_push", params: { branch: "feature/todo" } }
        ],
        "Committed and pushed feature/todo"
      )
    }
    // Each member's scripted model goes through the team's pool as the model its spec names, for list prices.
    const models = new Map<string, LanguageModel.LanguageModel>()
    for (const spec of [team.manager!, ...team.agents]) {
      const ref = AgentSpec.modelsOf(spec).providers[0]!
      const scripted = scripts[spec.name as keyof typeof scripts]
      models.set(
        spec.name,
        yield* Pooled.make({ provider: ref.provider, model: ref.model, languageModel: scripted.languageModel })
      )
    }

    const audit = yield* AuditLog.AuditLog
    const orchestrator = yield* Orchestrator.make(team, {
      concurrency: 2,
      audit,
      memory: yield* Memory.Memory,
      knowledgeBase: yield* KnowledgeBase.KnowledgeBase,
      models: (spec) => models.get(spec.name)
    })
    const hub = yield* AgentEvents.AgentEvents
    let approvals = 0
    let recalled: string | undefined
    let tests: string | undefined
    yield* Effect.forkChild(
      Stream.runForEach(orchestrator.events, (event) => {
        switch (event._tag) {
          case "OrchestrationPlanned":
            return say(`plan by ${event.by}: ${event.subtasks.map((s) => `${s.id} → ${s.agent ?? "?"}`).join(", ")}`)
          case "OrchestrationSubtaskSucceeded":
            return say(`${event.subtaskId} done by ${event.agent}: ${event.answer}`)
          case "OrchestrationSubtaskFailed":
            return say(`${event.subtaskId} failed on ${event.agent}: ${event.error.message}`)
          default:
            return Effect.void
        }
      })
    )
    yield* Effect.forkChild(
      Stream.runForEach(hub.events, (event) =>
        Effect.gen(function* () {
          if (event._tag === "AgentToolCalled") yield* say(`  [${event.agent}] ${event.tool}`)
          if (event._tag === "AgentToolResult" && event.tool === "shell_run" && !event.isFailure) {
            const run = event.result as { readonly exitCode?: number | null; readonly stdout?: string }
            tests = run.exitCode === 0 ? (/(?:#|ℹ) pass (\d+)/.exec(run.stdout ?? "")?.[1] ?? "?") : undefined
          }
          if (event._tag === "AgentToolResult" && event.tool === "memory_recall" && !event.isFailure) {
            const text = JSON.stringify(event.result)
            if (text.includes("sequential integer ids")) recalled = decision
          }
          if (event._tag === "AgentApprovalRequested") {
            // Decided as a person would: from the requests the agent says are waiting.
            const agent = orchestrator.members.find((m) => m.name === event.agent)!
            const status = yield* Effect.orDie(agent.status)
            for (const request of status.pendingApprovals) {
              yield* say(
                `  [${event.agent}] approval requested for ${request.tool} ${JSON.stringify(request.params)}: granted`
              )
              approvals++
              yield* agent.approve(request.approvalId, "demo")
            }
          }
        })
      )
    )
    yield* Effect.sleep("1 millis")

    const report = yield* orchestrator.orchestrate(goal)
    const verdict = yield* TeamTrail.verify(audit, report.orchestrationId)
    const pushed = git(origin, "log", "--format=%h %s", "feature/todo")
    const memories = yield* (yield* Memory.Memory).count({ namespace: "team", kinds: ["lesson"] })

    yield* say("")
    yield* say(report.summary)
    yield* say("")
    for (const line of TeamTrail.describe(verdict)) yield* say(line)
    yield* say("")
    const perAgent = report.subtasks.map((s) => `${s.agent} ${s.spend.steps} steps`).join(", ")
    yield* say(`agents:        ${team.manager!.name} (decomposition), ${perAgent}`)
    yield* say(`steps:         ${report.spend.steps} in ${report.spend.modelCalls} model calls`)
    yield* say(`tokens:        ${Spend.tokens(report.spend).toLocaleString("en-US")}`)
    yield* say(`cost:          $${report.spend.costUsd.toFixed(4)} (simulated at list prices; scripted model)`)
    yield* say(
      `files:         ${["docs/design.md", "src/todo.js", "test/todo.test.js"].map((f) => `${f} (${readFileSync(join(workspace, f)).length} B)`).join(", ")}`
    )
    yield* say(`tests:         node --test ${tests === undefined ? "did not pass" : `passed (${tests} test)`}`)
    yield* say(`git:           pushed to origin feature/todo: ${pushed}`)
    yield* say(`approvals:     ${approvals} requested, ${approvals} granted`)
    yield* say(
      `memory:        ${memories} lesson in the team's namespace; recalled by backend: ${recalled === undefined ? "no" : "yes"}`
    )
    yield* say(
      `audit:         ${verdict.intact ? "intact" : "BROKEN"} (the orchestration's trail and ${verdict.runs.length} linked runs)`
    )
    if (!verdict.intact || recalled === undefined || approvals === 0 || pushed === "" || tests === undefined) {
      return yield* Effect.die("the demo did not go as scripted")
    }
  })

const services = ({ workspace, home }: Paths) =>
  Layer.mergeAll(
    ActorSystem.layer(),
    AgentEvents.layer,
    ProviderPool.layer(),
    NodeHttpClient.layerUndici,
    Tools.layerNode,
    Workspace.layer(workspace),
    AuditLog.layer({ home }),
    Memory.layerLocal({ directory: join(home, "memory") }),
    KnowledgeBase.layer({ directory: join(home, "memory") })
  )

const main = Effect.gen(function* () {
  const paths = yield* Effect.acquireRelease(Effect.sync(prepare), ({ dir }) =>
    Effect.sync(() => {
      if (!keep) rmSync(dir, { recursive: true, force: true })
    })
  )
  yield* demo(paths).pipe(Effect.scoped, Effect.provide(services(paths)))
}).pipe(Effect.scoped)

NodeRuntime.runMain(main)
