import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Memory from "../src/Memory.ts"

/** A temp directory removed when the test's scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-memory-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Runs `f` with a Memory in a fresh temp directory. */
export const withMemory = <A, E>(
  f: (memory: Memory.Service, dir: string) => Effect.Effect<A, E>,
  options: Omit<Memory.Options, "directory"> = {}
) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    return yield* useMemory(dir, (memory) => f(memory, dir), options)
  })

/** Runs `f` with a Memory over an existing directory, closing it afterwards. */
export const useMemory = <A, E>(
  dir: string,
  f: (memory: Memory.Service) => Effect.Effect<A, E>,
  options: Omit<Memory.Options, "directory"> = {}
) =>
  Effect.gen(function* () {
    return yield* f(yield* Memory.Memory)
  }).pipe(Effect.provide(Memory.layerTest(dir, options)))

/** A LanguageModel that always answers `text`, recording every prompt it was sent (as JSON). */
export const scriptedModel = (text: string, prompts: Ref.Ref<ReadonlyArray<string>>) =>
  LanguageModel.make({
    generateText: (options) =>
      Ref.update(prompts, (ps) => [...ps, JSON.stringify(options.prompt)]).pipe(
        Effect.as([
          { type: "text" as const, text },
          {
            type: "finish" as const,
            reason: "stop" as const,
            usage: { inputTokens: { total: 10 }, outputTokens: { total: 5 } }
          }
        ])
      ),
    streamText: () => Stream.empty
  })

/**
 * Waits (on the live clock) until the background upkeep has completed `runs` passes and is idle; fails after 30 s.
 */
export const awaitUpkeep = (memory: Memory.Service, runs: number) =>
  memory.status.pipe(
    Effect.repeat({
      schedule: Schedule.spaced("20 millis"),
      until: (s) => s.upkeep.runs >= runs && !s.upkeep.running
    }),
    Effect.timeout("30 seconds")
  )

/** A log line captured by `captureLogs`. */
export interface Captured {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** Runs an effect with every log line recorded into `lines` (and not printed). */
export const captureLogs =
  (lines: Array<Captured>) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.provide(
      self,
      Logger.layer([
        Logger.make((options) => {
          lines.push({
            level: options.logLevel,
            message: [options.message].flat().map(String).join(" "),
            annotations: { ...options.fiber.getRef(References.CurrentLogAnnotations) }
          })
        })
      ])
    )

/** The workspace's pinned Node 24 (type stripping), wherever the checkout lives. */
export const node = fileURLToPath(new URL("../../../node_modules/.bin/node", import.meta.url))

/** The result of a child process run by `runFixture`. */
export interface FixtureRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly lines: ReadonlyArray<string>
  readonly stderr: string
}

/**
 * Runs `test/fixtures/<name>.ts` in a child process with arguments and extra environment variables, collecting its
 * stdout lines; `killWhen` may kill it (SIGKILL) once the lines seen so far satisfy it.
 */
export const runFixture = (
  name: string,
  args: ReadonlyArray<string>,
  options: {
    readonly env?: Readonly<Record<string, string>>
    readonly killWhen?: (lines: ReadonlyArray<string>) => boolean
  } = {}
) =>
  Effect.callback<FixtureRun>((resume) => {
    const script = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))
    const child = spawn(node, [script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env }
    })
    const lines: Array<string> = []
    let buffer = ""
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const complete = buffer.split("\n")
      buffer = complete.pop()!
      lines.push(...complete)
      if (options.killWhen?.(lines) === true && child.exitCode === null) child.kill("SIGKILL")
    })
    child.on("exit", (code, signal) => {
      resume(Effect.succeed({ code, signal, lines, stderr }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })
