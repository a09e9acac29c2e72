import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi } from "@troupe/providers/testing"
import type * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as BundleBuild from "../src/BundleBuild.ts"
import * as Cli from "../src/Cli.ts"
import { root, troupe } from "./support.ts"

/** Every command path under `troupe`, from the command tree itself, so that a new command is covered at once. */
const commandPaths = (command: Command.Command.Any, prefix: ReadonlyArray<string> = []): Array<Array<string>> =>
  command.subcommands.flatMap((group) =>
    group.commands.flatMap((sub) => [[...prefix, sub.name], ...commandPaths(sub, [...prefix, sub.name])])
  )

/** Runs a bundled build's entry file directly, as the launcher would, with only the given environment. */
const bundledTroupe = (entry: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.callback<{ code: number; stdout: string; stderr: string }>((resume) => {
    const child = spawn(join(root, "node_modules/.bin/node"), [entry, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.on("close", (code) => resume(Effect.succeed({ code: code ?? -1, stdout, stderr })))
    return Effect.sync(() => child.kill())
  })

describe("troupe (bin)", () => {
  it.live(
    "--version prints the version; --help works on every command and subcommand, exit 0",
    () =>
      Effect.gen(function* () {
        const version = yield* troupe(["--version"])
        assert.strictEqual(version.code, 0, version.stderr)
        assert.strictEqual(version.stdout.trim(), `troupe v${Cli.version}`)
        const paths = [[], ...commandPaths(Cli.command)]
        for (const expected of ["init", "schema", "memory search", "memory list", "memory forget", "validate"]) {
          assert.isTrue(
            paths.some((p) => p.join(" ") === expected),
            `troupe ${expected} is mounted`
          )
        }
        const helps = yield* Effect.forEach(paths, (path) => troupe([...path, "--help"]), { concurrency: 4 })
        helps.forEach((help, i) => {
          const path = paths[i]!
          assert.strictEqual(help.code, 0, `troupe ${path.join(" ")} --help: ${help.stderr}`)
          assert.include(help.stdout, `troupe ${path.join(" ")}`.trim(), path.join(" "))
          assert.include(help.stdout, "USAGE")
          assert.strictEqual(help.stderr, "")
        })
      }),
    120_000
  )

  it.live(
    "the bundled build answers like the sources: same output and exit code, for good and bad input",
    () =>
      Effect.gen(function* () {
        // A launcher may be building the same sources in the background (or a source may change under a build):
        // waiting and asking again finds the build made.
        const entry = yield* BundleBuild.build.pipe(
          Effect.retry({
            while: (reason) => /another build|sources changed/.test(reason),
            schedule: Schedule.spaced("2 seconds"),
            times: 45
          })
        )
        assert.isTrue(entry.endsWith(".mjs"))
        const cases = [
          ["--version"],
          ["validate", "agents/generic.yaml", "agents/team.yaml"],
          ["validate", "packages/cli/test/bin.test.ts"],
          ["schema"],
          ["memory", "list", "--limit", "0"],
          ["no-such-command"]
        ]
        // A provider's answer goes through undici, which stays outside the build.
        const server = yield* FakeOpenAi.make({
          turns: [{ text: "Hello from the fake server", usage: { input: 3, output: 5 } }]
        })
        const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url }
        const prompt = yield* bundledTroupe(entry, ["-p", "hi", "--json"], env)
        assert.strictEqual(prompt.code, 0, prompt.stderr)
        assert.strictEqual(JSON.parse(prompt.stdout.trim()).text, "Hello from the fake server")
        for (const args of cases) {
          const sources = yield* troupe(args, { TROUPE_BUNDLE: "0" })
          const bundled = yield* bundledTroupe(entry, args)
          assert.strictEqual(bundled.code, sources.code, args.join(" "))
          assert.strictEqual(bundled.stdout, sources.stdout, args.join(" "))
          assert.strictEqual(bundled.stderr, sources.stderr, args.join(" "))
        }
        const schema = yield* bundledTroupe(entry, ["schema"])
        assert.strictEqual(schema.stdout, readFileSync(join(root, "agents/agent.schema.json"), "utf8"))
      }),
    180_000
  )
})
