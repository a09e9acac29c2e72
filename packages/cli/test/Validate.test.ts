import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Console from "effect/Console"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Validate from "../src/commands/Validate.ts"
import { CliExit, ExitCode } from "../src/ExitCode.ts"

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
        `${crew}:6:29: Unknown value "memory_store"; expected one of fs_read, fs_list, fs_write, fs_delete, shell_run, git_status, git_diff, git_log, git_commit, git_push, http_fetch, mail_send, memory_recall, memory_remember, knowledge_query, knowledge_assert, delegate, ask_human`
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
})
