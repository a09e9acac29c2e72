/**
 * Runs one program to its end through `effect/process`: argv only (no shell), its own process group, a scrubbed
 * environment given by the caller, stdin closed, stdout and stderr each kept up to a cap (the rest is read and
 * counted, so a chatty program never blocks on a full pipe), and a timeout after which the whole group is killed.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as ChildProcess from "effect/process/ChildProcess"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Stream from "effect/Stream"

const drainGrace = Duration.millis(500)

/** What to run. */
export interface Run {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Record<string, string>
  readonly timeout: Duration.Duration
  /** Bytes kept of stdout, and of stderr, each. */
  readonly maxOutputBytes: number
}

/** How a run ended. */
export interface Outcome {
  /** The exit status; `null` when a signal ended the program (the timeout's kill included). */
  readonly exitCode: number | null
  readonly stdout: string
  readonly stderr: string
  /** Whether stdout or stderr was longer than the cap. */
  readonly truncated: boolean
  readonly timedOut: boolean
}

/** Collects a byte stream up to `limit` bytes and counts the rest. */
class Capture {
  private readonly chunks: Array<Uint8Array> = []
  private kept = 0
  total = 0
  private readonly limit: number
  constructor(limit: number) {
    this.limit = limit
  }
  push(chunk: Uint8Array): void {
    this.total += chunk.length
    const room = this.limit - this.kept
    if (room <= 0) return
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room)
    this.chunks.push(part)
    this.kept += part.length
  }
  get truncated(): boolean {
    return this.total > this.limit
  }
  text(): string {
    const body = Buffer.concat(this.chunks).toString("utf8")
    return this.truncated ? `${body}\n[truncated: ${this.total - this.limit} more bytes]` : body
  }
}

/**
 * Runs `run` to its end or its timeout. Fails only when the program cannot be started (not found, not
 * executable); a non-zero exit is an outcome.
 */
export const run = (run: Run) =>
  Effect.scoped(
    Effect.gen(function* () {
      const spawner = yield* ChildProcessSpawner
      const handle = yield* spawner.spawn(
        ChildProcess.make(run.command, run.args, {
          cwd: run.cwd,
          env: run.env,
          extendEnv: false,
          stdin: "ignore",
          // Its own process group, so that a kill reaches every process it started.
          detached: true,
          killSignal: "SIGKILL"
        })
      )
      const stdout = new Capture(run.maxOutputBytes)
      const stderr = new Capture(run.maxOutputBytes)
      const drained = yield* Effect.all(
        [
          Stream.runForEach(handle.stdout, (chunk) => Effect.sync(() => stdout.push(chunk))),
          Stream.runForEach(handle.stderr, (chunk) => Effect.sync(() => stderr.push(chunk)))
        ],
        { concurrency: 2, discard: true }
      ).pipe(Effect.ignore, Effect.forkScoped)
      const exited = yield* handle.exitCode.pipe(
        Effect.map((code): number | null => code),
        Effect.orElseSucceed(() => null),
        Effect.timeoutOption(run.timeout)
      )
      if (Option.isNone(exited)) {
        yield* handle.kill({ killSignal: "SIGKILL" }).pipe(Effect.ignore)
      }
      // A background process the program left behind may hold the pipes open: its output is not waited for.
      yield* Fiber.join(drained).pipe(Effect.timeoutOption(drainGrace))
      const finished = Option.isSome(exited) ? exited : undefined
      return {
        exitCode: finished === undefined ? null : finished.value,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        timedOut: finished === undefined
      } satisfies Outcome
    })
  )
