/**
 * The `backend` agent (`agents/backend.yaml`): a small HTTP service and its tests written into the workspace, run
 * with an allowlisted `node --test`, and fixed from the test output until they pass — or stopped when it cannot.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type Act, call, calls, read, runIn, say, scenario, slow, toolCalls, toolResults } from "./support.ts"

const packageJson = JSON.stringify({ name: "todos", private: true, type: "module" }, null, 2)

const service = (createdStatus: number) => `import { createServer } from "node:http"

/** An in-memory todo list over HTTP: POST /todos { title } creates one, GET /todos lists them. */
export const createTodoServer = () => {
  const todos = []
  return createServer((req, res) => {
    if (req.method === "POST" && req.url === "/todos") {
      let body = ""
      req.on("data", (chunk) => (body += chunk))
      req.on("end", () => {
        const todo = { id: todos.length + 1, title: JSON.parse(body).title, done: false }
        todos.push(todo)
        res.writeHead(${createdStatus}, { "content-type": "application/json" })
        res.end(JSON.stringify(todo))
      })
      return
    }
    if (req.method === "GET" && req.url === "/todos") {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify(todos))
      return
    }
    res.writeHead(404)
    res.end()
  })
}
`

const tests = `import assert from "node:assert/strict"
import { test } from "node:test"
import { createTodoServer } from "../src/todos.js"

test("creates a todo and lists it", async () => {
  const server = createTodoServer()
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
  const base = "http://127.0.0.1:" + server.address().port
  try {
    const created = await fetch(base + "/todos", { method: "POST", body: JSON.stringify({ title: "write tests" }) })
    assert.equal(created.status, 201)
    assert.deepEqual(await created.json(), { id: 1, title: "write tests", done: false })
    const listed = await fetch(base + "/todos")
    assert.deepEqual(await listed.json(), [{ id: 1, title: "write tests", done: false }])
  } finally {
    server.close()
  }
})
`

const runTests = call("shell_run", { command: "node", args: ["--test"] })

describe("backend agent", slow, () => {
  it.live("writes a service and its tests, runs them, reads the failure and fixes the code until they pass", () =>
    scenario(
      "backend",
      [
        calls(
          ["fs_write", { path: "package.json", content: packageJson }],
          ["fs_write", { path: "test/todos.test.js", content: tests }],
          // The first version answers 200 where the test expects 201 Created.
          ["fs_write", { path: "src/todos.js", content: service(200) }]
        ),
        runTests,
        (seen) => {
          const run = seen.result("shell_run")!.result
          return run.exitCode !== 0 && /201/.test(run.stdout)
            ? call("fs_write", { path: "src/todos.js", content: service(201) })
            : say("unexpected: the first run passed")
        },
        runTests,
        (seen) =>
          seen.result("shell_run")!.result.exitCode === 0
            ? say("The todo service is written and its tests pass.")
            : say("unexpected: the tests still fail")
      ],
      { goals: ["Write the service", "Make its tests pass"] },
      ({ agent, dir, events }) =>
        Effect.gen(function* () {
          const result = yield* agent.run("Write an in-memory todo service over HTTP with tests")
          assert.strictEqual(result.answer, "The todo service is written and its tests pass.")
          const runs = toolResults(events).filter((r) => r.tool === "shell_run")
          assert.deepStrictEqual(
            runs.map((r) => r.result.exitCode),
            [1, 0]
          )
          // The code was fixed; the test was left as written.
          assert.strictEqual(read(dir, "test/todos.test.js"), tests)
          assert.match(read(dir, "src/todos.js"), /writeHead\(201/)
          const again = runIn(dir, "node", ["--test"])
          assert.strictEqual(again.status, 0, again.stdout)
          assert.match(again.stdout, /pass 1\n/)
        })
    )
  )

  it.live("only allowlisted programs run, and only inside its folders", () =>
    scenario(
      "backend",
      [
        calls(
          ["shell_run", { command: "bash", args: ["-c", "echo pwned > pwned.txt"] }],
          ["fs_write", { path: "README.md", content: "not a source file" }]
        ),
        say("Neither was allowed.")
      ],
      {},
      ({ agent, dir, events }) =>
        Effect.gen(function* () {
          yield* agent.run("Try something outside the rules")
          assert.deepStrictEqual(
            toolResults(events).map((r) => [r.tool, r.isFailure, r.result._tag]),
            [
              ["shell_run", true, "ProgramNotAllowed"],
              ["fs_write", true, "PathRefused"]
            ]
          )
          assert.deepStrictEqual(runIn(dir, "ls", ["-A"]).stdout, "")
        })
    )
  )

  it.live("a model that cannot fix the code is stopped, and the failing test is never weakened", () => {
    const stubborn: Array<Act> = [
      calls(
        ["fs_write", { path: "package.json", content: packageJson }],
        ["fs_write", { path: "test/todos.test.js", content: tests }]
      )
    ]
    for (let attempt = 0; attempt < 30; attempt++) {
      stubborn.push(call("fs_write", { path: "src/todos.js", content: `${service(200)}// attempt ${attempt}\n` }))
      stubborn.push(runTests)
    }
    return scenario("backend", stubborn, {}, ({ agent, dir, events }) =>
      Effect.gen(function* () {
        const failed = yield* Effect.flip(agent.run("Write an in-memory todo service over HTTP with tests"))
        assert.include(["LoopDetected", "BudgetExceeded"], failed._tag)
        const runs = toolCalls(events).filter((c) => c.tool === "shell_run").length
        assert.isAtLeast(runs, 2)
        assert.isAtMost(runs, 20)
        assert.strictEqual(read(dir, "test/todos.test.js"), tests)
        assert.notStrictEqual(runIn(dir, "node", ["--test"]).status, 0)
      })
    )
  })
})
