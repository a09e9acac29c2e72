import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ReplHistory from "../../src/commands/ReplHistory.ts"

const temporary = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-history-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("ReplHistory", () => {
  it.effect("keeps typed prompts in a file only its owner reads, not lines starting with a space", () =>
    Effect.gen(function* () {
      const file = ReplHistory.fileIn(join(yield* temporary, "home"))
      assert.deepStrictEqual(yield* ReplHistory.load(file), [])
      yield* ReplHistory.append(file, "what is in README.md?")
      yield* ReplHistory.append(file, " export TOKEN=secret")
      yield* ReplHistory.append(file, "")
      yield* ReplHistory.append(file, "/cost")
      assert.strictEqual(readFileSync(file, "utf8"), "what is in README.md?\n/cost\n")
      assert.strictEqual(statSync(file).mode & 0o777, 0o600)
      assert.deepStrictEqual(yield* ReplHistory.load(file), ["what is in README.md?", "/cost"])
    }).pipe(Effect.scoped)
  )

  it.effect("stays bounded: a grown file is cut to the last entries, hostile lines are sanitised or dropped", () =>
    Effect.gen(function* () {
      const file = join(yield* temporary, "history")
      const lines = Array.from({ length: 3 * ReplHistory.maxEntries }, (_, i) => `prompt ${i}`)
      writeFileSync(
        file,
        `${lines.join("\n")}\n\u001b]0;title\u0007evil\n${"x".repeat(ReplHistory.maxEntryLength + 1)}\n`
      )
      const loaded = yield* ReplHistory.load(file)
      assert.strictEqual(loaded.length, ReplHistory.maxEntries)
      assert.strictEqual(loaded.at(-1), "evil")
      assert.strictEqual(loaded[0], `prompt ${2 * ReplHistory.maxEntries + 1}`)
      // Rewritten with what was kept.
      assert.strictEqual(readFileSync(file, "utf8").split("\n").length, ReplHistory.maxEntries + 1)
      // A file far past the read bound is read from its end only.
      writeFileSync(file, `${"y".repeat(2 * ReplHistory.maxBytes)}\nlast prompt\n`)
      assert.deepStrictEqual(yield* ReplHistory.load(file), ["last prompt"])
    }).pipe(Effect.scoped)
  )
})
