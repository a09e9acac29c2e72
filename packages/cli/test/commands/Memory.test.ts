import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@troupe/memory"
import * as Effect from "effect/Effect"
import { troupe } from "../support.ts"

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split("\n").at(-1)!)

/** A TROUPE_HOME holding a few memories, written through the library the way `troupe run` writes them. */
const home = Effect.acquireRelease(
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "troupe-memory-cli-"))
    const ids = yield* Effect.gen(function* () {
      const memory = yield* Memory.Memory
      const stored = yield* memory.rememberMany([
        { agent: "backend", kind: "lesson", text: "Run the database migrations before the API tests" },
        { agent: "backend", kind: "episode", text: "Deployed the billing service to staging" },
        { agent: "designer", kind: "fact", text: "The brand colour is teal, #008080" },
        // What a model or a tool wrote may try to act on the reader's terminal.
        { agent: "designer", kind: "episode", text: "Logo \u001b]52;c;cGF5bG9hZA==\u0007 drafted \u001b[2J in SVG" }
      ])
      return stored.map((r) => r.id)
    }).pipe(Effect.provide(Memory.layerTest(join(dir, "memory"))), Effect.scoped)
    return { dir, ids, env: { TROUPE_HOME: dir, HOME: dir } }
  }),
  ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("troupe memory", () => {
  it.live(
    "search ranks the relevant memory first, filtered by namespace, as lines or JSON",
    () =>
      Effect.gen(function* () {
        const t = yield* home
        const lines = yield* troupe(["memory", "search", "database migrations for API tests"], t.env)
        assert.strictEqual(lines.code, 0, lines.stderr)
        const first = lines.stdout.split("\n")[0]!
        assert.match(
          first,
          /^\d\.\d{3} {2}\S+ {2}backend\/lesson {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}Run the database migrations/
        )
        const json = yield* troupe(
          ["memory", "search", "colour", "--namespace", "designer", "--k", "1", "--json"],
          t.env
        )
        assert.strictEqual(json.code, 0, json.stderr)
        const { results } = lastJson(json.stdout)
        assert.strictEqual(results.length, 1)
        assert.strictEqual(results[0].record.namespace, "designer")
        assert.strictEqual(results[0].record.text, "The brand colour is teal, #008080")
        assert.isAbove(results[0].scores.total, 0)
        const bad = yield* troupe(["memory", "search", "colour", "--k", "0"], t.env)
        assert.strictEqual(bad.code, 2)
        assert.include(bad.stderr, "--k")
        assert.notInclude(bad.stderr, "    at ")
        const blank = yield* troupe(["memory", "search", "  "], t.env)
        assert.strictEqual(blank.code, 2)
      }),
    60_000
  )

  it.live(
    "list prints the memories oldest first with the total, never a terminal escape; --limit and --json bound it",
    () =>
      Effect.gen(function* () {
        const t = yield* home
        const all = yield* troupe(["memory", "list"], t.env)
        assert.strictEqual(all.code, 0, all.stderr)
        const lines = all.stdout.trimEnd().split("\n")
        assert.strictEqual(lines.length, 5)
        assert.include(lines[0], t.ids[0]!)
        assert.include(lines[0], "Run the database migrations")
        assert.strictEqual(lines[4], "4 memories")
        assert.notInclude(all.stdout, "\u001b")
        assert.notInclude(all.stdout, "\u0007")
        assert.include(all.stdout, "drafted")
        const some = yield* troupe(["memory", "list", "--limit", "1"], t.env)
        assert.strictEqual(
          some.stdout.trimEnd().split("\n").at(-1),
          "1 of 4 memories, oldest first (--limit shows more)"
        )
        const designer = yield* troupe(["memory", "list", "--namespace", "designer", "--json"], t.env)
        const listed = lastJson(designer.stdout)
        assert.strictEqual(listed.total, 2)
        assert.deepStrictEqual(
          listed.memories.map((m: { kind: string }) => m.kind),
          ["fact", "episode"]
        )
        assert.notInclude(designer.stdout, "\u001b")
        const tooMany = yield* troupe(["memory", "list", "--limit", "1001"], t.env)
        assert.strictEqual(tooMany.code, 2)
        assert.include(tooMany.stderr, "--limit must be an integer from 1 to 1000")
        const notNumber = yield* troupe(["memory", "list", "--limit", "many"], t.env)
        assert.strictEqual(notNumber.code, 2)
      }),
    60_000
  )

  it.live(
    "forget deletes by id; an id not stored is named and exits 1; a malformed id is bad input",
    () =>
      Effect.gen(function* () {
        const t = yield* home
        const gone = yield* troupe(["memory", "forget", t.ids[1]!, t.ids[2]!], t.env)
        assert.strictEqual(gone.code, 0, gone.stderr)
        assert.strictEqual(gone.stdout, `forgot ${t.ids[1]}\nforgot ${t.ids[2]}\n`)
        const after = lastJson((yield* troupe(["memory", "list", "--json"], t.env)).stdout)
        assert.deepStrictEqual(
          after.memories.map((m: { id: string }) => m.id),
          [t.ids[0], t.ids[3]]
        )
        const again = yield* troupe(["memory", "forget", t.ids[1]!, t.ids[3]!, "--json"], t.env)
        assert.strictEqual(again.code, 1)
        assert.deepStrictEqual(lastJson(again.stdout), { forgotten: [t.ids[3]], missing: [t.ids[1]] })
        assert.strictEqual(again.stderr, `${t.ids[1]}: no such memory\n`)
        const malformed = yield* troupe(["memory", "forget", "x' OR true --\u001b[31m"], t.env)
        assert.strictEqual(malformed.code, 2)
        assert.include(malformed.stderr, "is not a memory id")
        assert.notInclude(malformed.stderr, "\u001b")
        const left = lastJson((yield* troupe(["memory", "list", "--json"], t.env)).stdout)
        assert.strictEqual(left.total, 1)
      }),
    60_000
  )

  it.live(
    "a home without memory reads as empty and is not created",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "troupe-memory-none-"))
        const env = { TROUPE_HOME: join(dir, "home"), HOME: dir }
        const listed = yield* troupe(["memory", "list"], env)
        const found = yield* troupe(["memory", "search", "anything", "--json"], env)
        const forgot = yield* troupe(["memory", "forget", "m-1"], env)
        const created = existsSync(join(dir, "home"))
        rmSync(dir, { recursive: true, force: true })
        assert.strictEqual(listed.code, 0, listed.stderr)
        assert.strictEqual(listed.stdout, "no memories\n")
        assert.deepStrictEqual(lastJson(found.stdout), { results: [] })
        assert.strictEqual(forgot.code, 1)
        assert.strictEqual(forgot.stderr, "m-1: no such memory\n")
        assert.isFalse(created)
      }),
    60_000
  )
})
