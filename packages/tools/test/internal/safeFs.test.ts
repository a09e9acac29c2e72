import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as SafeFs from "../../src/internal/safeFs.ts"
import * as Workspace from "../../src/Workspace.ts"
import { read, sandbox, write } from "../support.ts"

// These play the race by hand: the path is checked, then swapped for a symlink out, then used.
describe("safeFs (a path swapped between check and use)", () => {
  it.effect("a file swapped for a symlink is neither read nor written through (O_NOFOLLOW)", () =>
    Effect.gen(function* () {
      const { root, outside, workspace } = yield* sandbox
      yield* write(outside, "secret.txt", "SECRET")
      yield* write(root, "a.txt", "mine")
      const file = yield* Workspace.resolve(workspace, "a.txt", ["**"])
      yield* Effect.promise(async () => {
        await Fs.rm(Path.join(root, "a.txt"))
        await Fs.symlink(Path.join(outside, "secret.txt"), Path.join(root, "a.txt"))
      })
      const readOutcome = yield* Effect.flip(SafeFs.readCapped(workspace, file, 1000))
      assert.strictEqual(readOutcome._tag, "WrongFileType")
      const writeOutcome = yield* Effect.flip(
        SafeFs.writeChecked(workspace, { ...file, exists: false }, new TextEncoder().encode("pwned"))
      )
      assert.strictEqual(writeOutcome._tag, "PathRefused")
      assert.strictEqual(yield* read(outside, "secret.txt"), "SECRET")
    }).pipe(Effect.scoped)
  )

  it.effect("a directory swapped for a symlink out: the file created outside is seen, removed, and left empty", () =>
    Effect.gen(function* () {
      const { root, outside, workspace } = yield* sandbox
      yield* write(root, "d/keep", "k")
      const file = yield* Workspace.resolve(workspace, "d/new.txt", ["**"])
      assert.isFalse(file.exists)
      yield* Effect.promise(async () => {
        await Fs.rm(Path.join(root, "d"), { recursive: true })
        await Fs.symlink(outside, Path.join(root, "d"))
      })
      const outcome = yield* Effect.flip(SafeFs.writeChecked(workspace, file, new TextEncoder().encode("pwned")))
      assert.strictEqual(outcome._tag, "PathRefused")
      assert.deepStrictEqual(yield* Effect.promise(() => Fs.readdir(outside)), [])
    }).pipe(Effect.scoped)
  )
})
