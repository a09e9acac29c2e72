import { execFileSync } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FsTools from "../src/FsTools.ts"
import { caller, read, sandbox, write } from "./support.ts"

const SECRET = "TOP-SECRET-CONTENT-4711"

// Runs `f` with the file tools over a fresh workspace (and a secret file outside it).
const withFs = <A, E>(
  options: FsTools.Options,
  f: (env: { root: string; outside: string; tool: ReturnType<typeof caller> }) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const { root, outside, workspace } = yield* sandbox
    yield* write(outside, "secret.txt", SECRET)
    const tool = caller(FsTools.toolkit, FsTools.toolkit.toLayer(FsTools.handlers(workspace, options)))
    return yield* f({ root, outside, tool })
  }).pipe(Effect.scoped)

// Asserts a refusal that names the rule and carries nothing of the secret.
const assertRefused = (outcome: { isFailure: boolean; result: any }, tag = "PathRefused") => {
  assert.isTrue(outcome.isFailure, JSON.stringify(outcome.result))
  assert.strictEqual(outcome.result._tag, tag, JSON.stringify(outcome.result))
  assert.notInclude(JSON.stringify(outcome.result), SECRET)
}

describe("FsTools", () => {
  it.effect("reads, writes, lists and deletes inside the workspace", () =>
    withFs({}, ({ root, tool }) =>
      Effect.gen(function* () {
        const written = yield* tool("fs_write", { path: "src/a.txt", content: "hello" })
        assert.deepStrictEqual(written, { isFailure: false, result: { path: "src/a.txt", bytes: 5, created: true } })
        const again = yield* tool("fs_write", { path: "./src//a.txt", content: "hi" })
        assert.deepStrictEqual(again.result, { path: "src/a.txt", bytes: 2, created: false })
        assert.strictEqual(yield* read(root, "src/a.txt"), "hi")
        const content = yield* tool("fs_read", { path: "src/a.txt" })
        assert.deepStrictEqual(content.result, { path: "src/a.txt", content: "hi", size: 2, truncated: false })
        yield* write(root, ".env.example", "X=1")
        const listing = yield* tool("fs_list", { path: "." })
        assert.deepStrictEqual(
          listing.result.entries.map((e: any) => [e.name, e.type]),
          [
            [".env.example", "file"],
            ["src", "directory"]
          ]
        )
        const deleted = yield* tool("fs_delete", { path: "src/a.txt" })
        assert.deepStrictEqual(deleted.result, { path: "src/a.txt", deleted: true })
        assert.isUndefined(yield* read(root, "src/a.txt"))
        const missing = yield* tool("fs_read", { path: "src/a.txt" })
        assert.strictEqual(missing.result._tag, "FileNotFound")
      })
    )
  )

  it.effect("refuses every lexical escape before touching the file system", () =>
    withFs({}, ({ tool }) =>
      Effect.gen(function* () {
        const escapes = [
          "../outside/secret.txt",
          "a/../../outside/secret.txt",
          "..",
          "/etc/passwd",
          "secret.txt\0.md",
          "a\\..\\..\\outside",
          "\u2215etc\u2215passwd", // DIVISION SLASH (not folded by NFKC)
          "\uFF0F..\uFF0Foutside", // FULLWIDTH SOLIDUS
          "\u2024\u2024/outside/secret.txt", // ONE DOT LEADER
          "\uFF0E\uFF0E/outside/secret.txt", // FULLWIDTH FULL STOP
          "\u2025/outside/secret.txt", // TWO DOT LEADER, NFKC ".."
          "a\u0338b", // COMBINING LONG SOLIDUS OVERLAY
          "a\u202Etxt.exe", // RIGHT-TO-LEFT OVERRIDE
          ".git/config",
          "sub/.GIT/hooks/pre-commit"
        ]
        for (const path of escapes) {
          for (const name of ["fs_read", "fs_write", "fs_delete", "fs_list"]) {
            const outcome = yield* tool(name, { path, content: "x" })
            assertRefused(outcome)
            assert.strictEqual(outcome.result.path, path)
          }
        }
      })
    )
  )

  it.effect(
    "follows symlinks and refuses those that lead out, alone or in a chain, and never writes through them",
    () =>
      withFs({}, ({ root, outside, tool }) =>
        Effect.gen(function* () {
          yield* Effect.promise(async () => {
            await Fs.symlink(Path.join(outside, "secret.txt"), Path.join(root, "direct"))
            await Fs.symlink(outside, Path.join(root, "dirlink"))
            await Fs.symlink("direct", Path.join(root, "chain1"))
            await Fs.symlink("chain1", Path.join(root, "chain2"))
            await Fs.symlink(Path.join(outside, "new.txt"), Path.join(root, "dangling"))
            await Fs.writeFile(Path.join(root, "inside.txt"), "fine")
            await Fs.symlink("inside.txt", Path.join(root, "good"))
          })
          for (const path of ["direct", "chain2", "dirlink/secret.txt", "dirlink"]) {
            assertRefused(yield* tool("fs_read", { path }))
            assertRefused(yield* tool("fs_list", { path }))
          }
          assertRefused(yield* tool("fs_write", { path: "dirlink/new.txt", content: "pwned" }))
          assertRefused(yield* tool("fs_write", { path: "chain2", content: "pwned" }))
          // A dangling link pointing out: resolving cannot see where it goes, the O_NOFOLLOW open refuses it.
          assertRefused(yield* tool("fs_write", { path: "dangling", content: "pwned" }))
          assert.isUndefined(yield* read(outside, "new.txt"))
          assert.strictEqual(yield* read(outside, "secret.txt"), SECRET)
          const good = yield* tool("fs_read", { path: "good" })
          assert.strictEqual(good.result.content, "fine")
          // Deleting a link removes the link, not its target, even when the target is outside.
          const removed = yield* tool("fs_delete", { path: "direct" })
          assert.isFalse(removed.isFailure, JSON.stringify(removed.result))
          assert.strictEqual(yield* read(outside, "secret.txt"), SECRET)
        })
      )
  )

  it.effect("matches the spec's paths globs on the requested and on the real path", () =>
    withFs({ paths: ["src/**", "docs/*.md"] }, ({ root, tool }) =>
      Effect.gen(function* () {
        yield* write(root, "src/a.ts", "a")
        yield* write(root, "src/.hidden", "h")
        yield* write(root, "docs/guide.md", "g")
        yield* write(root, "docs/deep/x.md", "x")
        yield* write(root, "private/key.pem", SECRET)
        yield* Effect.promise(() => Fs.symlink(Path.join(root, "private/key.pem"), Path.join(root, "src/key")))
        assert.isFalse((yield* tool("fs_read", { path: "src/.hidden" })).isFailure)
        assert.isFalse((yield* tool("fs_read", { path: "docs/guide.md" })).isFailure)
        assertRefused(yield* tool("fs_read", { path: "docs/deep/x.md" }))
        assertRefused(yield* tool("fs_read", { path: "private/key.pem" }))
        assertRefused(yield* tool("fs_read", { path: "src/key" }))
        assertRefused(yield* tool("fs_write", { path: "notes.txt", content: "x" }))
        const rootListing = yield* tool("fs_list", { path: "" })
        assert.deepStrictEqual(
          rootListing.result.entries.map((e: any) => e.name),
          ["docs", "src"]
        )
        assertRefused(yield* tool("fs_list", { path: "private" }))
      })
    )
  )

  it.effect("bounds reads: no FIFO is opened, directories and devices are refused, long files are cut", () =>
    withFs({ maxReadBytes: 1024, maxListEntries: 3, maxWriteBytes: 10 }, ({ root, tool }) =>
      Effect.gen(function* () {
        execFileSync("mkfifo", [Path.join(root, "pipe")])
        const fifo = yield* tool("fs_read", { path: "pipe" })
        assert.deepInclude(fifo.result, { _tag: "WrongFileType", actual: "fifo" })
        yield* write(root, "dir/x", "x")
        assert.deepInclude((yield* tool("fs_read", { path: "dir" })).result, {
          _tag: "WrongFileType",
          actual: "directory"
        })
        yield* Effect.promise(() => Fs.symlink("/dev/zero", Path.join(root, "zero")))
        assertRefused(yield* tool("fs_read", { path: "zero" }))
        yield* write(root, "big.txt", "a".repeat(5000))
        const big = yield* tool("fs_read", { path: "big.txt" })
        assert.deepStrictEqual(
          { ...big.result, content: big.result.content.length },
          { path: "big.txt", content: 1024, size: 5000, truncated: true }
        )
        for (const name of ["a", "b", "c", "d"]) yield* write(root, `many/${name}`, name)
        const listing = yield* tool("fs_list", { path: "many" })
        assert.strictEqual(listing.result.entries.length, 3)
        assert.isTrue(listing.result.truncated)
        const tooBig = yield* tool("fs_write", { path: "w.txt", content: "0123456789A" })
        assert.deepInclude(tooBig.result, { _tag: "TooLarge", size: 11, limit: 10 })
        assert.deepInclude((yield* tool("fs_delete", { path: "dir" })).result, { _tag: "WrongFileType" })
      })
    )
  )

  it.effect("rejects malformed parameters as a result, not a crash", () =>
    withFs({}, ({ tool }) =>
      Effect.gen(function* () {
        const outcome = yield* tool("fs_read", { path: 42 })
        assert.isTrue(outcome.isFailure)
      })
    )
  )
})
