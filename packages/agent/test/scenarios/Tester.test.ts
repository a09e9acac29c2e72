/**
 * The `tester` agent (`agents/tester.yaml`): reads the code, writes tests for its behaviour and edges, runs the
 * suite, and reports a failure with its reproduction; it cannot edit the code under test.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { call, calls, read, runIn, say, scenario, slow, tempDir, toolResults } from "./support.ts"

// The code under test: a discount over 100% gives a negative total instead of being refused.
const price = `export const total = (items, discountPercent = 0) => {
  const sum = items.reduce((s, item) => s + item.price * item.qty, 0)
  return Math.round(sum * (1 - discountPercent / 100) * 100) / 100
}
`

const priceFixed = `export const total = (items, discountPercent = 0) => {
  if (discountPercent < 0 || discountPercent > 100) throw new RangeError("discount out of range")
  const sum = items.reduce((s, item) => s + item.price * item.qty, 0)
  return Math.round(sum * (1 - discountPercent / 100) * 100) / 100
}
`

const tests = `import assert from "node:assert/strict"
import { test } from "node:test"
import { total } from "../src/price.js"

test("sums price times quantity", () => {
  assert.equal(total([{ price: 2.5, qty: 2 }, { price: 1, qty: 3 }]), 8)
})

test("an empty cart costs nothing", () => {
  assert.equal(total([]), 0)
})

test("applies a discount, rounded to cents", () => {
  assert.equal(total([{ price: 9.99, qty: 1 }], 15), 8.49)
})

test("rejects a discount over 100%", () => {
  assert.throws(() => total([{ price: 10, qty: 1 }], 150), RangeError)
})
`

const project = (code: string) =>
  Effect.gen(function* () {
    const dir = yield* tempDir("tester")
    mkdirSync(join(dir, "src"))
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "shop", private: true, type: "module" }))
    writeFileSync(join(dir, "src/price.js"), code)
    return dir
  })

const acts = [
  calls(["fs_list", { path: "." }], ["fs_read", { path: "src/price.js" }]),
  call("fs_write", { path: "test/price.test.js", content: tests }),
  call("shell_run", { command: "node", args: ["--test", "--test-reporter=tap"] }),
  // The report names the failing test from the output, the command, and the smallest input.
  (seen: { result: (name: string) => { result: any } | undefined }) => {
    const run = seen.result("shell_run")!.result
    const failing = [...String(run.stdout).matchAll(/^not ok \d+ - (.+)$/gmu)].map((m) => m[1])
    return say(
      run.exitCode === 0
        ? "node --test: all 4 tests pass."
        : `node --test: ${failing.join(", ")} failed; smallest reproduction: total([{ price: 10, qty: 1 }], 150)`
    )
  }
]

describe("tester agent", slow, () => {
  it.live("writes tests for behaviour and edges, runs them, and reports the failure they find", () =>
    Effect.gen(function* () {
      const dir = yield* project(price)
      yield* scenario(
        "tester",
        [...acts.slice(0, 2), call("fs_write", { path: "src/price.js", content: priceFixed }), ...acts.slice(2)],
        { dir },
        ({ agent, events }) =>
          Effect.gen(function* () {
            const result = yield* agent.run("Test src/price.js")
            // The tests it wrote are real and find the bug when run by anyone.
            assert.strictEqual(read(dir, "test/price.test.js"), tests)
            const run = runIn(dir, "node", ["--test", "--test-reporter=tap"])
            assert.strictEqual(run.status, 1)
            assert.deepStrictEqual(
              [...run.stdout.matchAll(/^not ok \d+ - (.+)$/gmu)].map((m) => m[1]),
              ["rejects a discount over 100%"]
            )
            assert.match(run.stdout, /^# pass 3$/mu)
            // Editing the code under test was refused by its spec; the code is as it was.
            const refused = toolResults(events).find((r) => r.tool === "fs_write" && r.isFailure)
            assert.strictEqual(refused?.result._tag, "PathRefused")
            assert.strictEqual(read(dir, "src/price.js"), price)
            assert.include(result.answer, "rejects a discount over 100%")
          })
      )
    })
  )

  it.live("on correct code the same tests pass", () =>
    Effect.gen(function* () {
      const dir = yield* project(priceFixed)
      yield* scenario("tester", acts, { dir }, ({ agent, events }) =>
        Effect.gen(function* () {
          const result = yield* agent.run("Test src/price.js")
          assert.strictEqual(result.answer, "node --test: all 4 tests pass.")
          const run = toolResults(events).find((r) => r.tool === "shell_run")
          assert.strictEqual(run?.result.exitCode, 0)
          assert.strictEqual(runIn(dir, "node", ["--test"]).status, 0)
        })
      )
    })
  )
})
