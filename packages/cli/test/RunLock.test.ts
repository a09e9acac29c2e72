import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as RunLock from "../src/RunLock.ts"

const temporary = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-lock-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const holderIn = (path: string) => readFileSync(path, "utf8").trim()

const leave = (path: string, content: string) => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, content)
}

// A pid that ran and has ended: the process is started, waited for and reaped.
const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid

describe("RunLock", () => {
  it.effect("holds the pid beside the journal for the scope, and removes it after", () =>
    Effect.gen(function* () {
      const runs = yield* temporary
      const path = RunLock.pathOf(runs, "r1", "run")
      assert.strictEqual(path, join(runs, "r1", "run.lock"))
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* RunLock.hold(runs, "r1", "run")
          assert.strictEqual(holderIn(path), String(process.pid))
        })
      )
      assert.isFalse(existsSync(path))
      assert.strictEqual(RunLock.pathOf(runs, "o1", "orchestration"), join(runs, "o1", "orchestrate.lock"))
    })
  )

  it.effect("refuses while a live process holds it (exit 2), leaving its lock alone", () =>
    Effect.gen(function* () {
      const runs = yield* temporary
      const path = RunLock.pathOf(runs, "r1", "run")
      // The process that started this one is alive, and is not this one.
      leave(path, `${process.ppid}\n`)
      const refused = yield* Effect.flip(Effect.scoped(RunLock.hold(runs, "r1", "run")))
      assert.strictEqual(refused.code, 2)
      assert.include(refused.message, `run r1 is running in process ${process.ppid}`)
      assert.strictEqual(holderIn(path), String(process.ppid))
      const orchestration = RunLock.pathOf(runs, "o1", "orchestration")
      leave(orchestration, `${process.ppid}\n`)
      const also = yield* Effect.flip(Effect.scoped(RunLock.hold(runs, "o1", "orchestration")))
      assert.include(also.message, `orchestration o1 is running in process ${process.ppid}`)
    })
  )

  it.effect("takes over a lock left by a process that died, or one that holds no pid", () =>
    Effect.gen(function* () {
      const runs = yield* temporary
      for (const left of [`${deadPid()}\n`, "not a pid", "9".repeat(5000), ""]) {
        const path = RunLock.pathOf(runs, "r1", "run")
        leave(path, left)
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* RunLock.hold(runs, "r1", "run")
            assert.strictEqual(holderIn(path), String(process.pid))
          })
        )
        assert.isFalse(existsSync(path))
        // Nothing moved aside is left behind.
        assert.deepStrictEqual(readdirSync(join(runs, "r1")), [])
      }
    })
  )

  it.effect("at the end, does not remove a lock that another process holds by then", () =>
    Effect.gen(function* () {
      const runs = yield* temporary
      const path = RunLock.pathOf(runs, "r1", "run")
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* RunLock.hold(runs, "r1", "run")
          writeFileSync(path, `${process.ppid}\n`)
        })
      )
      assert.strictEqual(holderIn(path), String(process.ppid))
    })
  )
})
