/**
 * The `optimizer` agent (`agents/optimizer.yaml`): improves code behind its tests. It runs the tests before any
 * change and after each, measures with a benchmark it writes, reverts a change that breaks a test by writing back
 * the code as it read it, and keeps the change that passes.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { call, calls, read, runIn, say, scenario, slow, tempDir, toolCalls, toolResults } from "./support.ts"

// Quadratic: indexOf scans the array for every element.
const quadratic = "export const dedupe = (xs) => xs.filter((x, i) => xs.indexOf(x) === i)\n"
// Faster, but sorted: the order of first appearance is lost, and a test says so.
const broken = "export const dedupe = (xs) => [...new Set(xs)].sort()\n"
// Linear, and a Set keeps insertion order.
const fast = "export const dedupe = (xs) => [...new Set(xs)]\n"

const tests = `import assert from "node:assert/strict"
import { test } from "node:test"
import { dedupe } from "../src/dedupe.js"

test("keeps the first of each value, in order of first appearance", () => {
  assert.deepEqual(dedupe(["b", "a", "b", "c", "a"]), ["b", "a", "c"])
  assert.deepEqual(dedupe([3, 1, 3, 2]), [3, 1, 2])
})

test("an empty list stays empty", () => {
  assert.deepEqual(dedupe([]), [])
})
`

const bench = `import { dedupe } from "../src/dedupe.js"

const input = Array.from({ length: 20000 }, (_, i) => i % 5000)
const start = performance.now()
for (let i = 0; i < 5; i++) dedupe(input)
console.log(\`dedupe 20000 items x5: \${(performance.now() - start).toFixed(1)} ms\`)
`

const runTests = () => call("shell_run", { command: "node", args: ["--test"] })
const runBench = () => call("shell_run", { command: "node", args: ["bench/dedupe.bench.mjs"] })

describe("optimizer agent", slow, () => {
  it.live(
    "runs the tests before and after each change, reverts the change that breaks them, keeps the one that passes",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("optimizer")
        mkdirSync(join(dir, "src"))
        mkdirSync(join(dir, "test"))
        writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "lists", private: true, type: "module" }))
        writeFileSync(join(dir, "src/dedupe.js"), quadratic)
        writeFileSync(join(dir, "test/dedupe.test.js"), tests)
        let asRead = ""
        const figures: Array<string> = []
        yield* scenario(
          "optimizer",
          [
            calls(["fs_list", { path: "test" }], ["fs_read", { path: "src/dedupe.js" }]),
            (seen) => {
              asRead = seen.result("fs_read")!.result.content
              return runTests()
            },
            call("fs_write", { path: "bench/dedupe.bench.mjs", content: bench }),
            runBench(),
            (seen) => {
              figures.push(seen.result("shell_run")!.result.stdout.trim())
              return call("fs_write", { path: "src/dedupe.js", content: broken })
            },
            runTests(),
            // A failing test after the change: the change goes, exactly as the code was read.
            (seen) =>
              seen.result("shell_run")!.result.exitCode === 0
                ? say("unexpected: the sorted version passed")
                : call("fs_write", { path: "src/dedupe.js", content: asRead }),
            runTests(),
            call("fs_write", { path: "src/dedupe.js", content: fast }),
            calls(
              ["shell_run", { command: "node", args: ["--test"] }],
              ["shell_run", { command: "node", args: ["bench/dedupe.bench.mjs"] }]
            ),
            (seen) => {
              // Results come back in the order the calls finished.
              const measured = seen.results.find((r) => r.result.stdout.startsWith("dedupe "))
              const tested = seen.results.find((r) => r !== measured)
              figures.push(measured!.result.stdout.trim())
              return say(
                tested!.result.exitCode === 0
                  ? `Kept the Set version; tests pass. Before: ${figures[0]}; after: ${figures[1]} (node bench/dedupe.bench.mjs).`
                  : "unexpected: the Set version failed its tests"
              )
            }
          ],
          {
            dir,
            goals: [
              { title: "Run the tests as they are", doneAfter: 2 },
              { title: "Measure with a benchmark", doneAfter: 4 },
              { title: "Try a faster version, reverting it if a test breaks", doneAfter: 8 },
              "Keep a faster version that passes the tests"
            ]
          },
          ({ agent, brain, events }) =>
            Effect.gen(function* () {
              const result = yield* agent.run("Make dedupe faster")
              // Running the same tests after every change is the method: the run never took it for a loop.
              assert.notInclude(JSON.stringify(yield* brain.model.prompts), "repeating yourself")
              assert.match(result.answer, /^Kept the Set version; tests pass\./)
              // The code kept is the fast one, and it passes the tests that were never touched.
              assert.strictEqual(read(dir, "src/dedupe.js"), fast)
              assert.strictEqual(read(dir, "test/dedupe.test.js"), tests)
              assert.strictEqual(runIn(dir, "node", ["--test"]).status, 0)
              // Tests ran before the first change and after every change; the breaking change was reverted to the
              // code as it was read.
              const steps = toolCalls(events).flatMap((c) =>
                c.tool === "fs_write" && c.params.path === "src/dedupe.js"
                  ? [
                      `write ${c.params.content === quadratic ? "slow" : c.params.content === broken ? "broken" : "fast"}`
                    ]
                  : c.tool === "shell_run" && c.params.args[0] === "--test"
                    ? ["test"]
                    : []
              )
              assert.deepStrictEqual(steps, [
                "test",
                "write broken",
                "test",
                "write slow",
                "test",
                "write fast",
                "test"
              ])
              const testRuns = toolResults(events).filter(
                (r) => r.tool === "shell_run" && /tests? \d+|# tests|ℹ tests/.test(r.result.stdout)
              )
              assert.deepStrictEqual(
                testRuns.map((r) => r.result.exitCode),
                [0, 1, 0, 0]
              )
              assert.strictEqual(figures.length, 2)
              for (const figure of figures) assert.match(figure, /^dedupe 20000 items x5: \d+\.\d ms$/)
            })
        )
      })
  )
})
