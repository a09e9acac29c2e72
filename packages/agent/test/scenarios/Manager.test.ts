/**
 * The `manager` agent (`agents/manager.yaml`): decomposes a goal into tasks, delegates them to the built-in
 * specialists of its team (here `designer` and `architect`, each with its own real spec, tools and scripted model,
 * in one shared workspace), checks what came back, and reports. It has no tool to do a specialist's work itself.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Agent from "../../src/Agent.ts"
import { builtin, call, calls, gather, inWorkspace, read, say, slow, start, toolResults } from "./support.ts"

const brief = `# Sign-up brief

### Sign-up (wireframes/sign-up.svg)
- Empty: blank form. Loading: button busy. Error: message with icon and text.
`

const architecture = `# Sign-up architecture

## Components
- **web**: the form. - **api**: creates accounts.

\`\`\`mermaid
architecture-beta
    service web(internet)[Web]
    service api(server)[API]
    web:R --> L:api
\`\`\`
`

describe("manager agent", slow, () => {
  it.live("decomposes a goal, delegates each task to the specialist it fits, and checks the results in hand", () =>
    inWorkspace(
      (dir) =>
        Effect.gen(function* () {
          writeFileSync(join(dir, "goal.md"), "People can sign up with an email and a password.\n")
          const events = yield* gather
          const team = new Map<string, Agent.Agent>()
          const delegation = Agent.delegationTo((name) => team.get(name))
          const designer = yield* start("designer", [
            call("fs_write", { path: "design/brief.md", content: brief }),
            say("The brief is in design/brief.md.")
          ])
          const architect = yield* start("architect", [
            call("fs_write", { path: "docs/architecture.md", content: architecture }),
            say("The design is in docs/architecture.md.")
          ])
          const manager = yield* start(
            "manager",
            [
              call("fs_read", { path: "goal.md" }),
              calls(
                ["delegate", { agent: "designer", task: "Write the sign-up design brief with every screen's states" }],
                ["delegate", { agent: "architect", task: "Write the sign-up architecture with a Mermaid diagram" }],
                // Not a member of its team: refused by the tool.
                ["delegate", { agent: "generic", task: "Do it all yourself" }]
              ),
              // The manager reviews each result in hand: it reads the files the specialists named.
              (seen) =>
                calls(
                  ...seen.results
                    .filter((r) => !r.isFailure)
                    .map(
                      (r) => ["fs_read", { path: /(\S+\.md)/.exec(r.result.result)![1]!.replace(/\.$/, "") }] as const
                    )
                ),
              (seen) =>
                say(
                  `Done and verified: ${seen.results
                    .filter((r) => !r.isFailure)
                    .map((r) => r.result.path)
                    .toSorted()
                    .join(", ")}`
                )
            ],
            {
              delegation,
              goals: [
                { title: "Read the goal", doneAfter: 1 },
                { title: "Design brief by the designer", doneAfter: 2 },
                { title: "Architecture by the architect", doneAfter: 2 },
                "Check both results against the goal"
              ]
            }
          )
          team.set("designer", designer.agent)
          team.set("architect", architect.agent)
          team.set("manager", manager.agent)
          const result = yield* manager.agent.run("Plan the sign-up feature")
          assert.strictEqual(result.answer, "Done and verified: design/brief.md, docs/architecture.md")
          // The plan had one task per specialist; each specialist ran exactly the task it was handed.
          assert.deepStrictEqual(
            result.plan?.goals.map((g) => [g.title, g.status]),
            [
              ["Read the goal", "done"],
              ["Design brief by the designer", "done"],
              ["Architecture by the architect", "done"],
              ["Check both results against the goal", "done"]
            ]
          )
          const runs = events.flatMap((e) => (e._tag === "AgentRunStarted" ? [[e.agent, e.goal]] : []))
          assert.sameDeepMembers(runs, [
            ["manager", "Plan the sign-up feature"],
            ["designer", "Write the sign-up design brief with every screen's states"],
            ["architect", "Write the sign-up architecture with a Mermaid diagram"]
          ])
          // The specialists' real outputs are in the workspace, written by them.
          assert.strictEqual(read(dir, "design/brief.md"), brief)
          assert.strictEqual(read(dir, "docs/architecture.md"), architecture)
          const writers = events.flatMap((e) =>
            e._tag === "AgentToolCalled" && e.tool === "fs_write" ? [[e.agent, (e.params as any).path]] : []
          )
          assert.sameDeepMembers(writers, [
            ["designer", "design/brief.md"],
            ["architect", "docs/architecture.md"]
          ])
          const managerResults = toolResults(events.filter((e) => e.agent === "manager"))
          const refused = managerResults.find((r) => r.tool === "delegate" && r.isFailure)
          assert.strictEqual(refused?.result._tag, "AgentNotAllowed")
          assert.isFalse(existsSync(join(dir, "generic")))
        }),
      { prefix: "manager" }
    )
  )

  it.live("has no tool to do a specialist's work: writing, running and committing are not among its tools", () =>
    Effect.gen(function* () {
      const spec = yield* builtin("manager")
      const names = spec.tools.map((t) => t.name)
      for (const tool of ["fs_write", "fs_delete", "shell_run", "git_commit", "git_push", "mail_send"]) {
        assert.notInclude(names, tool)
      }
      const delegate = spec.tools.find((t) => t.name === "delegate")
      assert.sameMembers((delegate!.options as { agents: Array<string> }).agents, [
        "architect",
        "backend",
        "frontend",
        "designer",
        "tester",
        "git",
        "mailer",
        "optimizer"
      ])
    })
  )
})
