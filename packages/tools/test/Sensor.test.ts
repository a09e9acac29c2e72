import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as ChildProcess from "effect/process/ChildProcess"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import * as Sensor from "../src/Sensor.ts"
import { nodeServices, sandbox, write } from "./support.ts"

describe("Sensor", () => {
  it.effect("after, until and every follow the clock", () =>
    Effect.gen(function* () {
      const after = yield* Effect.forkChild(Sensor.after(Duration.minutes(1)))
      yield* TestClock.adjust(Duration.seconds(59))
      assert.isUndefined(after.pollUnsafe())
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(after)
      // The test clock starts at the epoch and has moved one minute.
      const until = yield* Effect.forkChild(Sensor.until(Date.UTC(1970, 0, 1, 0, 5)))
      yield* TestClock.adjust(Duration.minutes(3))
      assert.isUndefined(until.pollUnsafe())
      yield* TestClock.adjust(Duration.minutes(1))
      yield* Fiber.join(until)
      yield* Sensor.until(0)
      const ticks = yield* Effect.forkChild(Stream.runCollect(Stream.take(Sensor.every(Duration.seconds(10)), 3)))
      yield* TestClock.adjust(Duration.seconds(30))
      assert.deepStrictEqual(yield* Fiber.join(ticks), [1, 2, 3])
    })
  )

  // The watch starts when the sensor runs, a moment after the fork: the changes are made again until seen.
  it.live("reports changed workspace files matching the globs, debounced into one batch, never .git or outside", () =>
    Effect.gen(function* () {
      const { root, outside, workspace } = yield* sandbox
      yield* write(root, ".git/HEAD", "ref")
      yield* write(root, "sub/keep.txt", "")
      const next = yield* Effect.forkChild(
        Sensor.fileChanged(workspace, { paths: ["**/*.txt"], debounce: Duration.millis(300) })
      )
      let batch: ReadonlyArray<string> | undefined
      for (let attempt = 0; attempt < 10 && batch === undefined; attempt++) {
        yield* write(root, "a.txt", "1")
        yield* write(root, "a.txt", "2")
        yield* write(root, "sub/b.txt", "3")
        yield* write(root, "ignored.md", "4")
        yield* write(root, ".git/index.txt", "5")
        yield* write(outside, "c.txt", "6")
        batch = Option.getOrUndefined(yield* Fiber.join(next).pipe(Effect.timeoutOption(Duration.seconds(1))))
      }
      assert.deepStrictEqual(batch, ["a.txt", "sub/b.txt"])
    }).pipe(Effect.scoped)
  )

  it.live("closes a batch after a quiet period", () =>
    Effect.gen(function* () {
      const { root, workspace } = yield* sandbox
      const batches = yield* Queue.unbounded<ReadonlyArray<string>>()
      yield* Sensor.fileChanges(workspace, { debounce: Duration.millis(200) }).pipe(
        Stream.runForEach((batch) => Queue.offer(batches, batch)),
        Effect.forkScoped
      )
      const seen = (path: string) =>
        Effect.gen(function* () {
          for (let attempt = 0; attempt < 10; attempt++) {
            yield* write(root, path, String(attempt))
            const batch = yield* Queue.take(batches).pipe(Effect.timeoutOption(Duration.seconds(1)))
            if (Option.isSome(batch)) return batch.value
          }
          return []
        })
      assert.deepStrictEqual(yield* seen("first.txt"), ["first.txt"])
      assert.deepStrictEqual(yield* seen("second.txt"), ["second.txt"])
    }).pipe(Effect.scoped)
  )

  it.live("watches only directories that can hold a match, never follows a symbolic link, and is bounded", () =>
    Effect.gen(function* () {
      const { root, outside, workspace } = yield* sandbox
      for (const dir of ["node_modules/a/b/c", "node_modules/d", "src/lib"]) yield* write(root, `${dir}/.keep`, "")
      yield* Effect.promise(() => Fs.symlink(outside, Path.join(root, "src/out")))
      // node_modules holds 4 directories: with src/** they are never walked.
      const watching = yield* Effect.forkChild(
        Sensor.fileChanged(workspace, { paths: ["src/**"], maxDirectories: 3, debounce: Duration.millis(300) })
      )
      let batch: ReadonlyArray<string> | undefined
      for (let attempt = 0; attempt < 10 && batch === undefined; attempt++) {
        yield* write(outside, "through-the-link.txt", String(attempt))
        yield* write(root, "src/lib/x.ts", String(attempt))
        batch = Option.getOrUndefined(yield* Fiber.join(watching).pipe(Effect.timeoutOption(Duration.seconds(1))))
      }
      assert.deepStrictEqual(batch, ["src/lib/x.ts"])
      const everything = yield* Effect.flip(Sensor.fileChanged(workspace, { maxDirectories: 3 }))
      assert.strictEqual(everything._tag, "SensorError")
      assert.match(everything.reason, /more than 3 directories to watch: narrow the paths/)
      assert.notInclude(everything.reason, root)
    }).pipe(Effect.scoped)
  )

  it.live("reports a directory that appears with the files it holds, and watches it from then on", () =>
    Effect.gen(function* () {
      const { root, outside, workspace } = yield* sandbox
      yield* write(root, "src/.keep", "")
      const batches = yield* Queue.unbounded<ReadonlyArray<string>>()
      yield* Sensor.fileChanges(workspace, { paths: ["src/**"], debounce: Duration.millis(300) }).pipe(
        Stream.runForEach((batch) => Queue.offer(batches, batch)),
        Effect.forkScoped
      )
      // Moved in at once: its files were never written inside a watched directory.
      let moved: ReadonlyArray<string> = []
      for (let attempt = 0; attempt < 10 && moved.length === 0; attempt++) {
        const name = `pkg${attempt}`
        yield* write(outside, `${name}/deep/a.ts`, "a")
        yield* Effect.promise(() => Fs.rename(Path.join(outside, name), Path.join(root, "src", name)))
        moved = Option.getOrElse(yield* Queue.take(batches).pipe(Effect.timeoutOption(Duration.seconds(1))), () => [])
      }
      const name = moved[0]!.slice("src/".length)
      assert.deepStrictEqual(moved, [`src/${name}`, `src/${name}/deep`, `src/${name}/deep/a.ts`])
      yield* write(root, `src/${name}/deep/b.ts`, "b")
      const later = yield* Queue.take(batches).pipe(Effect.timeoutOption(Duration.seconds(5)))
      assert.deepStrictEqual(Option.getOrUndefined(later), [`src/${name}/deep/b.ts`])
    }).pipe(Effect.scoped)
  )

  it.live("wakes when a started process exits, raced against a timer", () =>
    Effect.gen(function* () {
      const handle = yield* ChildProcess.make("sh", ["-c", "sleep 0.2; exit 7"])
      const first = yield* Effect.raceFirst(
        Sensor.processExit(handle),
        Sensor.after(Duration.seconds(10)).pipe(Effect.as("timer" as const))
      )
      assert.deepStrictEqual(first, { exitCode: 7 })
    }).pipe(Effect.scoped, Effect.provide(nodeServices))
  )
})
