// biome-ignore-all lint/suspicious/noTemplateCurlyInString: literal ${VAR} references are the input under test
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { SpecError, SpecLoader } from "@troupe/agent-spec"
import * as Console from "effect/Console"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Validate from "../src/commands/Validate.ts"
import { CliExit, ExitCode } from "../src/ExitCode.ts"
import { troupe } from "./support.ts"

const dir = mkdtempSync(join(tmpdir(), "troupe-validate-"))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const good = file("good.yaml", "name: good\ntools: [fs_read]\n")
const legacy = file(
  "legacy.yaml",
  "name: OldGPT\nai_provider: cld\nmodel: claude-sonnet-4-5\nposition: Helper\nrole: assistant\nprompt: Help\n"
)
const bad = file("bad.yaml", "name: Bad Name\nlimits: { maxStep: 3 }\n")
const broken = file("broken.yaml", "name: x\ntools: [fs_read\nlimits:\n  maxSteps: 3\n")
const team = file("team.yaml", "name: crew\nagents: [good.yaml, legacy.yaml]\n")
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const terminalControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u
const fakeKey = "sk-test-FAKE0123456789abcdefghijklmnopqrstuv"

const exitCode = (exit: Exit.Exit<unknown, unknown>) => {
  if (exit._tag === "Success") return ExitCode.succeeded
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  return error?._tag === "Fail" && error.error instanceof CliExit ? error.error.code : -1
}

/** Runs `validate ARGS...` and returns what it printed and how it ended. */
const run = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    const err: Array<string> = []
    const console: Console.Console = {
      ...globalThis.console,
      log: (...xs: ReadonlyArray<unknown>) => {
        out.push(xs.join(" "))
      },
      error: (...xs: ReadonlyArray<unknown>) => {
        err.push(xs.join(" "))
      }
    }
    const exit = yield* Command.runWith(Validate.command, { version: "0.0.0" })(args).pipe(
      Effect.provideService(Console.Console, console),
      Effect.provide(NodeServices.layer),
      Effect.exit
    )
    return { out, err, exit }
  })

describe("troupe validate", () => {
  it.effect("prints FILE: ok per valid file, with the legacy notice and team summary", () =>
    Effect.gen(function* () {
      const { out, err, exit } = yield* run([good, legacy, team])
      assert.strictEqual(exit._tag, "Success")
      assert.deepStrictEqual(err, [])
      assert.strictEqual(out.length, 3)
      assert.strictEqual(out[0], `${good}: ok`)
      assert.match(out[1]!, new RegExp(`^${legacy}: ok \\(${legacy}:2:1: legacy six-field agent format`))
      assert.match(out[2]!, new RegExp(`^${team}: ok \\(team crew, 2 agents; .*legacy six-field`))
    })
  )

  it.effect("prints every positioned problem on stderr and fails with the bad-input exit code", () =>
    Effect.gen(function* () {
      const { out, err, exit } = yield* run([good, bad, broken])
      assert.deepStrictEqual(out, [`${good}: ok`])
      assert.deepStrictEqual(err, [
        `${bad}:1:7: Expected a name of lowercase letters, digits and dashes`,
        `${bad}:2:11: Unknown key "maxStep" (did you mean "maxSteps"?)`,
        `${broken}:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]`
      ])
      assert.strictEqual(exit._tag, "Failure")
      if (exit._tag === "Failure") {
        const error = exit.cause.reasons.find((r) => r._tag === "Fail")
        assert.isTrue(error !== undefined && error._tag === "Fail" && error.error instanceof CliExit)
        if (error?._tag === "Fail" && error.error instanceof CliExit) {
          assert.strictEqual(error.error.code, ExitCode.badInput)
          assert.strictEqual(error.error.message, "")
        }
      }
    })
  )

  it.effect("prints a team's own problems together with those of its members", () =>
    Effect.gen(function* () {
      const crew = file(
        "crew.yaml",
        "name: crew\nbogus: 1\nagents:\n  - good.yaml\n  - bad.yaml\n  - { name: inline, tools: [memory_store] }\n"
      )
      const { out, err, exit } = yield* run([crew])
      assert.deepStrictEqual(out, [])
      assert.deepStrictEqual(err, [
        `${bad}:1:7: Expected a name of lowercase letters, digits and dashes`,
        `${bad}:2:11: Unknown key "maxStep" (did you mean "maxSteps"?)`,
        `${crew}:2:1: Unknown key "bogus"; known keys: name, description, manager, agents, supervision`,
        `${crew}:6:29: Unknown value "memory_store"; expected one of fs_read, fs_list, fs_write, fs_delete, shell_run, shell_start, git_status, git_diff, git_log, git_commit, git_push, http_fetch, mail_send, memory_recall, memory_remember, knowledge_query, knowledge_assert, delegate, ask_human, wait_for`
      ])
      assert.strictEqual(exit._tag, "Failure")
    })
  )

  it.effect("reports a missing file", () =>
    Effect.gen(function* () {
      const missing = join(dir, "missing.yaml")
      const { err, exit } = yield* run([missing])
      assert.strictEqual(exit._tag, "Failure")
      assert.strictEqual(err.length, 1)
      assert.match(err[0]!, new RegExp(`^${missing}:1:1: Cannot read ${missing}`))
    })
  )

  it.effect("validates every built-in agent and the example team", () =>
    Effect.gen(function* () {
      const agents = join(import.meta.dirname, "..", "..", "..", "agents")
      const names = [
        "manager",
        "architect",
        "backend",
        "frontend",
        "designer",
        "tester",
        "git",
        "mailer",
        "optimizer",
        "team"
      ]
      const { out, err, exit } = yield* run(names.map((n) => join(agents, `${n}.yaml`)))
      assert.deepStrictEqual(err, [])
      assert.strictEqual(exit._tag, "Success")
      assert.strictEqual(out.length, 10)
      assert.match(out[9]!, /team\.yaml: ok \(team web-team, 8 agents and a manager\)$/)
    })
  )

  it.effect("reports a file that is not a regular file, or is too large, in one line, with exit code 2", () =>
    Effect.gen(function* () {
      const fifo = join(dir, "pipe.yaml")
      assert.strictEqual(spawnSync("mkfifo", [fifo]).status, 0)
      const folder = join(dir, "folder.yaml")
      mkdirSync(folder)
      const large = file("large.yaml", `name: a\n# ${"x".repeat(SpecLoader.maxFileBytes)}\n`)
      const missing = join(dir, "nowhere.yaml")
      const { out, err, exit } = yield* run([good, "/dev/zero", fifo, folder, large, missing])
      assert.deepStrictEqual(out, [`${good}: ok`])
      assert.deepStrictEqual(err, [
        "/dev/zero:1:1: Cannot read /dev/zero: it is a character device, not a regular file",
        `${fifo}:1:1: Cannot read ${fifo}: it is a FIFO (named pipe), not a regular file`,
        `${folder}:1:1: Cannot read ${folder}: it is a directory, not a regular file`,
        `${large}:1:1: Cannot read ${large}: it is 524,299 bytes, over the limit of 524,288 bytes`,
        `${missing}:1:1: Cannot read ${missing}: no such file`
      ])
      assert.strictEqual(exitCode(exit), ExitCode.badInput)
      const crew = file("special-crew.yaml", `name: crew\nagents: [good.yaml, /dev/zero, ${fifo}]\n`)
      const members = yield* run([crew])
      assert.deepStrictEqual(members.err, [
        `${crew}:2:21: Cannot read agent spec /dev/zero: it is a character device, not a regular file`,
        `${crew}:2:32: Cannot read agent spec ${fifo}: it is a FIFO (named pipe), not a regular file`
      ])
      assert.strictEqual(exitCode(members.exit), ExitCode.badInput)
    })
  )

  it.effect(
    "bounds its output: a list of 100k wrong items prints fifty problems and a count",
    () =>
      Effect.gen(function* () {
        const items = file("items.yaml", `name: a\ngoals: [${Array.from({ length: 100_000 }, () => "1").join(", ")}]\n`)
        const { err, exit } = yield* run([items])
        assert.strictEqual(err.length, SpecError.maxReportedProblems + 1)
        assert.strictEqual(err[0], `${items}:2:9: Expected string, got 1`)
        assert.strictEqual(err[SpecError.maxReportedProblems], `${items}: and 99950 more problems`)
        assert.strictEqual(exitCode(exit), ExitCode.badInput)
      }),
    60_000
  )

  it.effect("prints no terminal control sequence from a file or a file name", () =>
    Effect.gen(function* () {
      const osc = file("osc.yaml", 'name: a\n"\\e]0;pwned\\a": 1\n')
      const named = file("name\u001b[2J.yaml", "name: a\n")
      const { out, err } = yield* run([osc, named])
      for (const line of [...out, ...err]) assert.notMatch(line, terminalControl)
      assert.match(err[0]!, /Unknown key "\\x1b\]0;pwned\\x07"/)
      assert.strictEqual(out[0], `${dir}/name\\x1b[2J.yaml: ok`)
    })
  )

  it.live.skipIf(!existsSync("/proc/self/environ"))(
    "never prints the environment: /proc/self/environ and a .env as members, ${VAR} holding a key",
    () =>
      Effect.gen(function* () {
        file(".env", `OPENAI_API_KEY=${fakeKey}\n`)
        const crew = file("environ-crew.yaml", "name: crew\nagents: [/proc/self/environ, .env]\n")
        const strategy = file(
          "strategy.yaml",
          "name: a\nmixture:\n  strategy: ${SOME_SECRET}\n  providers: [{ provider: openai, model: m }]\n"
        )
        const env = { TROUPE_FAKE_SECRET: fakeKey, SOME_SECRET: `${fakeKey}-2` }
        const run = yield* troupe(["validate", crew, strategy], env)
        assert.strictEqual(run.code, ExitCode.badInput, run.stderr)
        const lines = run.stderr.trimEnd().split("\n")
        assert.deepStrictEqual(
          lines.map((line) =>
            line.replace(/:\d+:\d+: /, ": ").replace(/ \(write it as .*| but the file .*|; expected .*/, "")
          ),
          [
            "/proc/self/environ: Control character U+0000 is not allowed in YAML",
            `${dir}/.env: Expected an agent spec (a map of keys such as name, persona, tools),`,
            `${strategy}: Unknown value \${SOME_SECRET}`
          ]
        )
        for (const value of [fakeKey, process.env.PATH ?? "/usr/bin"])
          assert.notInclude(`${run.stdout}${run.stderr}`, value)
      }),
    30_000
  )

  it.live(
    "exits 130 when interrupted with Ctrl-C in the middle of a run",
    () =>
      Effect.gen(function* () {
        const keys = Array.from({ length: 20_000 }, (_, i) => `        K${i}: v${i}\n`).join("")
        const big = file("keys.yaml", `name: big\ntools:\n  - shell_run:\n      env:\n${keys}`)
        const files = Array.from({ length: 400 }, () => big)
        let signalled = false
        const run = yield* troupe(
          ["validate", ...files],
          {},
          {
            // Interrupt once the first file is reported: hundreds are still to come.
            onStdout: (child) => {
              if (!signalled) child.kill("SIGINT")
              signalled = true
            }
          }
        )
        assert.isTrue(signalled)
        assert.strictEqual(run.code, 130, run.stderr)
        assert.isBelow(run.stdout.trimEnd().split("\n").length, files.length)
      }),
    60_000
  )
})
