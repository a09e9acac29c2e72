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

// The same service with its responses written in one place.
const refactored = `import { createServer } from "node:http"

const send = (res, status, body) => {
  res.writeHead(status, body === undefined ? {} : { "content-type": "application/json" })
  res.end(body === undefined ? undefined : JSON.stringify(body))
}

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
        send(res, 201, todo)
      })
      return
    }
    if (req.method === "GET" && req.url === "/todos") return send(res, 200, todos)
    send(res, 404)
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
  it.live(
    "test first: writes the test, then the service, reads each failure and fixes it, refactors with the tests green",
    () =>
      scenario(
        "backend",
        [
          calls(
            ["fs_write", { path: "package.json", content: packageJson }],
            ["fs_write", { path: "test/todos.test.js", content: tests }]
          ),
          runTests,
          // The test fails for want of the module: the first version of the service answers 200, not 201 Created.
          (seen) =>
            seen.result("shell_run")!.result.exitCode !== 0
              ? call("fs_write", { path: "src/todos.js", content: service(200) })
              : say("unexpected: a test passed without a service"),
          runTests,
          (seen) => {
            const run = seen.result("shell_run")!.result
            return run.exitCode !== 0 && /201/.test(run.stdout)
              ? call("fs_write", { path: "src/todos.js", content: service(201) })
              : say("unexpected: the first version passed")
          },
          runTests,
          call("fs_write", { path: "src/todos.js", content: refactored }),
          runTests,
          (seen) =>
            seen.result("shell_run")!.result.exitCode === 0
              ? say("The todo service is written and its tests pass.")
              : say("unexpected: the tests fail after the refactoring")
        ],
        {
          goals: [
            { title: "Write the test first", doneAfter: 2 },
            { title: "Make it pass", doneAfter: 6 },
            "Refactor with the tests green"
          ]
        },
        ({ agent, brain, dir, events }) =>
          Effect.gen(function* () {
            const result = yield* agent.run("Write an in-memory todo service over HTTP with tests")
            assert.strictEqual(result.answer, "The todo service is written and its tests pass.")
            const runs = toolResults(events).filter((r) => r.tool === "shell_run")
            assert.deepStrictEqual(
              runs.map((r) => r.result.exitCode),
              [1, 1, 0, 0]
            )
            // Running the tests after every change is the method: the run never took it for a loop.
            assert.notInclude(JSON.stringify(yield* brain.model.prompts), "repeating yourself")
            // The code was fixed; the test was left as written.
            assert.strictEqual(read(dir, "test/todos.test.js"), tests)
            assert.strictEqual(read(dir, "src/todos.js"), refactored)
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
