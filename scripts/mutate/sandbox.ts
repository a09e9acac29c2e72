/**
 * Writing mutants into the tree and always putting the original back.
 *
 * Before a file is overwritten its original is copied into a journal (`node_modules/.cache/troupe-mutate/`), and
 * the copy is removed once the original is back. The original is restored after every mutant, on Ctrl-C
 * (SIGINT, exit 130), SIGTERM and SIGHUP, and on any exit; a run killed outright (SIGKILL, power loss) leaves its
 * journal behind, and the next run restores from it before doing anything else.
 *
 * Test runs are spawned in their own process group so that a timeout or Ctrl-C kills vitest and its workers.
 */
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** Files currently holding a mutant, by absolute path, with their original text. */
const mutated = new Map<string, string>()
let journal: string | undefined
let child: ChildProcess | undefined

const entryName = (file: string): string => encodeURIComponent(file)

const restoreAll = (): void => {
  for (const [file, original] of mutated) {
    writeFileSync(file, original)
    mutated.delete(file)
    if (journal !== undefined) rmSync(join(journal, entryName(file)), { force: true })
  }
}

const killChild = (): void => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
}

/**
 * Prepares `root` for mutation: restores any file an interrupted run left mutated (returned, relative to the
 * journal) and installs the handlers that restore on signals and exit.
 */
export const prepare = (root: string): ReadonlyArray<string> => {
  journal = join(root, "node_modules", ".cache", "troupe-mutate")
  mkdirSync(journal, { recursive: true })
  const recovered: Array<string> = []
  for (const entry of readdirSync(journal)) {
    const file = decodeURIComponent(entry)
    writeFileSync(file, readFileSync(join(journal, entry)))
    rmSync(join(journal, entry))
    recovered.push(file)
  }
  const onSignal = (code: number) => () => {
    killChild()
    restoreAll()
    process.stderr.write("\ninterrupted: every mutated file is restored\n")
    process.exit(code)
  }
  process.on("SIGINT", onSignal(130))
  process.on("SIGTERM", onSignal(143))
  process.on("SIGHUP", onSignal(129))
  process.on("exit", () => {
    killChild()
    restoreAll()
  })
  return recovered
}

/** Runs `body` with `file` (absolute) holding `text`, restoring `original` afterwards whatever happens. */
export const withMutant = async <A>(
  file: string,
  original: string,
  text: string,
  body: () => Promise<A>
): Promise<A> => {
  if (journal === undefined) throw new Error("sandbox not prepared")
  writeFileSync(join(journal, entryName(file)), original)
  mutated.set(file, original)
  try {
    writeFileSync(file, text)
    return await body()
  } finally {
    restoreAll()
  }
}

/** How a test run ended. */
export interface RunResult {
  readonly outcome: "passed" | "failed" | "timeout"
  readonly ms: number
  /** The last part of the combined output, for a baseline failure message. */
  readonly tail: string
}

/** Runs `argv` with this Node in `cwd`, killing its whole process group after `timeoutMs`. */
export const run = (cwd: string, argv: ReadonlyArray<string>, timeoutMs: number): Promise<RunResult> =>
  new Promise((resolve) => {
    const started = performance.now()
    const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" }
    delete env.TROUPE_TEST_REPORT
    const proc = spawn(process.execPath, argv, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
    child = proc
    let tail = ""
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-6000)
    }
    proc.stdout?.on("data", keep)
    proc.stderr?.on("data", keep)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killChild()
    }, timeoutMs)
    proc.on("exit", () => {
      // Workers that outlive vitest would keep the pipes open and hold the next run's CPU.
      try {
        if (proc.pid !== undefined) process.kill(-proc.pid, "SIGKILL")
      } catch {
        // the group is already empty
      }
    })
    proc.on("close", (code) => {
      clearTimeout(timer)
      child = undefined
      const ms = performance.now() - started
      resolve({ outcome: timedOut ? "timeout" : code === 0 ? "passed" : "failed", ms, tail })
    })
  })
