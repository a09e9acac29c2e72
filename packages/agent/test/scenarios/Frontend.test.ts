/**
 * The `frontend` agent (`agents/frontend.yaml`): a web page with its build script and component test, built and
 * tested with allowlisted commands, the build's accessibility check failing first and fixed from its output.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { call, calls, read, runIn, say, scenario, slow, toolResults } from "./support.ts"

const packageJson = JSON.stringify({ name: "todos-web", private: true, type: "module" })

// The build: checks that every input has a label, then inlines the styles and the script into public/index.html.
const build = `import { mkdirSync, readFileSync, writeFileSync } from "node:fs"

const html = readFileSync("web/src/index.html", "utf8")
const problems = []
for (const [, id] of html.matchAll(/<input[^>]*\\bid="([^"]+)"/g)) {
  if (!html.includes(\`<label for="\${id}"\`)) problems.push(\`input #\${id} has no label\`)
}
if (problems.length > 0) {
  console.error(problems.join("\\n"))
  process.exit(1)
}
const page = html
  .replace('<link rel="stylesheet" href="styles.css">', \`<style>\${readFileSync("web/src/styles.css", "utf8")}</style>\`)
  .replace('<script type="module" src="app.js"></script>', \`<script type="module">\${readFileSync("web/src/app.js", "utf8")}</script>\`)
mkdirSync("public", { recursive: true })
writeFileSync("public/index.html", page)
console.log("built public/index.html")
`

const page = (label: boolean) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Todos</title><link rel="stylesheet" href="styles.css"></head>
<body>
<main>
<h1>Todos</h1>
<form id="add">${label ? '<label for="title">New todo</label>' : ""}<input id="title" name="title" required><button type="submit">Add</button></form>
<ul id="list"></ul>
</main>
<script type="module" src="app.js"></script>
</body>
</html>
`

const styles = "body { font: 16px/1.5 system-ui; color: #1a1a1a; background: #fff; }\n"

const app = `export const addTodo = (todos, title) => {
  const trimmed = title.trim()
  return trimmed === "" ? todos : [...todos, { title: trimmed, done: false }]
}

if (typeof document !== "undefined") {
  let todos = []
  document.getElementById("add").addEventListener("submit", (event) => {
    event.preventDefault()
    const input = document.getElementById("title")
    todos = addTodo(todos, input.value)
    input.value = ""
    document.getElementById("list").replaceChildren(...todos.map((t) => Object.assign(document.createElement("li"), { textContent: t.title })))
  })
}
`

const componentTest = `import assert from "node:assert/strict"
import { test } from "node:test"
import { addTodo } from "../web/src/app.js"

test("adds a trimmed todo, ignores a blank one", () => {
  assert.deepEqual(addTodo([], "  milk "), [{ title: "milk", done: false }])
  assert.deepEqual(addTodo([], "   "), [])
})
`

const buildCommand = call("shell_run", { command: "node", args: ["web/build.mjs"] })

describe("frontend agent", slow, () => {
  it.live(
    "writes a page that builds: the build's accessibility check fails, the page is fixed, the build exits 0",
    () =>
      scenario(
        "frontend",
        [
          calls(
            ["fs_write", { path: "web/package.json", content: packageJson }],
            ["fs_write", { path: "web/build.mjs", content: build }],
            ["fs_write", { path: "web/src/index.html", content: page(false) }],
            ["fs_write", { path: "web/src/styles.css", content: styles }],
            ["fs_write", { path: "web/src/app.js", content: app }],
            ["fs_write", { path: "test/app.test.js", content: componentTest }]
          ),
          buildCommand,
          (seen) => {
            const run = seen.result("shell_run")!.result
            return run.exitCode !== 0 && /input #title has no label/.test(run.stderr)
              ? call("fs_write", { path: "web/src/index.html", content: page(true) })
              : say("unexpected: the first build passed")
          },
          calls(
            ["shell_run", { command: "node", args: ["web/build.mjs"] }],
            ["shell_run", { command: "node", args: ["--test"] }]
          ),
          (seen) =>
            seen.results.every((r) => r.result.exitCode === 0)
              ? say("The page builds to public/index.html and its component test passes.")
              : say("unexpected: the build or the test failed")
        ],
        {},
        ({ agent, dir, events }) =>
          Effect.gen(function* () {
            const result = yield* agent.run("Build the todo page")
            assert.strictEqual(result.answer, "The page builds to public/index.html and its component test passes.")
            assert.deepStrictEqual(
              toolResults(events)
                .filter((r) => r.tool === "shell_run")
                .map((r) => r.result.exitCode),
              [1, 0, 0]
            )
            // Its build command exits 0 when anyone runs it, and makes the same page.
            const built = read(dir, "public/index.html")
            const again = runIn(dir, "node", ["web/build.mjs"])
            assert.strictEqual(again.status, 0, again.stderr)
            assert.strictEqual(readFileSync(join(dir, "public/index.html"), "utf8"), built)
            assert.include(built, '<label for="title">New todo</label>')
            assert.include(built, "<style>body { font: 16px/1.5 system-ui;")
            assert.include(built, "export const addTodo")
            assert.notInclude(built, 'src="app.js"')
            assert.strictEqual(runIn(dir, "node", ["--test"]).status, 0)
          })
      )
  )
})
