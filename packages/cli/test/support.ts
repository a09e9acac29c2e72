/**
 * Spawns the real `troupe` process (`node packages/cli/src/bin.ts`) for the CLI tests.
 */

import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"

/** The repository root, where `pnpm troupe` runs. */
export const root = fileURLToPath(new URL("../../../", import.meta.url))
const node = `${root}node_modules/.bin/node`
const bin = "packages/cli/src/bin.ts"

/** What one run of the CLI printed and how it exited. */
export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the CLI with only the given environment (plus PATH), asynchronously: fake servers started by the test
 * live in the test's process and must keep answering while the CLI runs.
 */
export const troupe = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  options: {
    /** Called with the child on each piece of stdout: to close the pipe early, or to signal the process. */
    readonly onStdout?: (child: ReturnType<typeof spawn>, chunk: string) => void
    /** Called once the process has started. */
    readonly onStart?: (child: ReturnType<typeof spawn>) => void
  } = {}
) =>
  Effect.callback<Run>((resume) => {
    const child = spawn(node, [bin, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
      options.onStdout?.(child, chunk.toString("utf8"))
    })
    // A test that closes the pipe early expects the process to see EPIPE, not this side to fail.
    child.stdout.on("error", () => {})
    options.onStart?.(child)
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.on("close", (code) => resume(Effect.succeed({ code: code ?? -1, stdout, stderr })))
    return Effect.sync(() => child.kill())
  })

/** A fresh directory under the system's temporary one, named from `prefix`, removed with the scope. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
  )

/**
 * The environment of a CLI process of a cluster test: the fake model at `modelUrl`, no bundling, `dir` as its home,
 * and `more` (its `TROUPE_HOME`, a server's token).
 */
export const clusterEnv = (dir: string, modelUrl: string, more: Record<string, string> = {}) => ({
  OPENAI_API_KEY: "sk-test",
  OPENAI_BASE_URL: modelUrl,
  TROUPE_BUNDLE: "0",
  HOME: dir,
  ...more
})
