/**
 * The counting team of the resume tests: two members, alpha and beta, whose one tool call each appends the member's
 * name to `counter.txt` (the side effects, one line each), the model that drives them, and what the tests read back.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import { messages, schemaName, teamTurns } from "./recorder.ts"

const member = (name: string, approvals: string) =>
  [
    `  - name: ${name}`,
    "    description: Counts for the team",
    "    memory: { enabled: false }",
    "    tools: [{ shell_run: { allow: [sh] } }]",
    ...(approvals === "" ? [] : [`    ${approvals}`])
  ].join("\n")

/** The team: alpha's call goes ahead; beta's waits for a person unless `betaAuto`. */
export const teamYaml = (betaAuto: boolean) =>
  [
    "name: counters",
    "manager: { name: lead, memory: { enabled: false } }",
    "agents:",
    member("alpha", "approvals: { tools: { shell_run: auto } }"),
    member("beta", betaAuto ? "approvals: { tools: { shell_run: auto } }" : "")
  ].join("\n")

/**
 * The team's model, decomposing into `subtasks`. In order, requests are: the decomposition (0), then for alpha and
 * for beta each a plan, the counter bump, the answer and the reflection (1 – 4, 5 – 8). `hang.at` makes the request
 * of that index never answer.
 */
export const countingModel = (subtasks: ReadonlyArray<unknown>, hang: { at: number | undefined }) =>
  FakeOpenAi.make({
    turns: teamTurns({
      subtasks,
      reflection: (agent) => ({ outcome: "done", reasoning: "counted", progress: [], answer: `${agent} counted` }),
      act: (request, agent) =>
        messages(request).some((m) => m.role === "tool")
          ? { text: `${agent} counted` }
          : {
              toolCalls: [
                { name: "shell_run", arguments: { command: "sh", args: ["-c", `echo ${agent} >> counter.txt`] } }
              ]
            }
    }),
    faults: (index) => (index === hang.at ? FakeServer.hang : undefined)
  })

/** The lines of the workspace's `counter.txt`: one per tool call that ran. */
export const counter = (workspace: string): ReadonlyArray<string> =>
  existsSync(join(workspace, "counter.txt"))
    ? readFileSync(join(workspace, "counter.txt"), "utf8").trim().split("\n")
    : []

/** How many times the model was asked for a decomposition. */
export const decompositions = (server: FakeServer.FakeServer) =>
  server.requests.filter((r) => schemaName(r) === "decomposition").length

/** The trail's entries of `type`. */
export const entries = (home: string, id: string, type: string) =>
  readFileSync(join(home, "runs", id, "audit.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> })
    .filter((e) => e.type === type)
