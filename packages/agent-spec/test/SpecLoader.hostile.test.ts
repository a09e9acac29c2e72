// biome-ignore-all lint/suspicious/noTemplateCurlyInString: literal ${VAR} references are the input under test
/**
 * Hostile input in the files the loader reads: files that are not specs (`/proc/self/environ`, a `.env`,
 * `/dev/zero`, a FIFO, a directory, a huge file), secrets in `${VAR}`, terminal escapes, and inputs built to be
 * slow or to print without end. Each test builds its input in a temporary directory.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { SpecError, SpecLoader } from "../src/index.ts"
import { at, diskLayer, layerWithEnv, loadInChild, opened } from "./support.ts"

const dir = mkdtempSync(join(tmpdir(), "troupe-hostile-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const write = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const failure = <A>(
  effect: Effect.Effect<A, SpecError.SpecInvalid, SpecLoader.Requirements>,
  layer: Layer.Layer<SpecLoader.Requirements> = diskLayer
) => Effect.flip(effect).pipe(Effect.provide(layer))

/** Everything a person could see of an error: its message and every field of every problem. */
const printed = (error: SpecError.SpecInvalid) => `${error.message}\n${JSON.stringify(error.errors)}`

// What a terminal would act on: C0 controls but tab and newline, DEL, C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const terminalControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u

const fakeKey = "sk-test-FAKE0123456789abcdefghijklmnopqrstuv"

const onLinux = existsSync("/proc/self/environ")

describe("SpecLoader on hostile input", () => {
  it.effect.skipIf(!onLinux)("never quotes /proc/self/environ named as a team member", () =>
    Effect.gen(function* () {
      const team = write("environ-team.yaml", "name: t\nagents: [/proc/self/environ]\n")
      const error = yield* failure(SpecLoader.load(team))
      assert.deepStrictEqual(
        error.errors.map((e) => [e._tag, e.file, e.line]),
        [["SpecSyntaxError", "/proc/self/environ", 1]]
      )
      assert.match(error.errors[0]!.message, /^Control character U\+0000 is not allowed in YAML/)
      const values = readFileSync("/proc/self/environ", "utf8")
        .split("\u0000")
        .map((entry) => entry.slice(entry.indexOf("=") + 1))
        .filter((value) => value.length >= 8)
      assert.isAbove(values.length, 0)
      for (const value of values) assert.notInclude(error.errors[0]!.message, value)
      assert.notMatch(error.message, terminalControl)
    })
  )

  it.skipIf(!onLinux)("never prints a secret of the environment when /proc/self/environ is a member", () => {
    const team = write("environ-child.yaml", "name: t\nagents: [/proc/self/environ, /proc/self/environ]\n")
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", TROUPE_FAKE_SECRET: fakeKey }
    const { status, output } = loadInChild(team, env)
    assert.strictEqual(status, 0, output)
    assert.include(output, "/proc/self/environ:1:")
    assert.include(output, "Control character U+0000")
    for (const value of Object.values(env)) assert.notInclude(output, value)
  })

  it.effect("never quotes a member file that is not a spec, such as a .env holding a key", () =>
    Effect.gen(function* () {
      mkdirSync(join(dir, "project"), { recursive: true })
      write(".env", `OPENAI_API_KEY=${fakeKey}\nDEBUG=1\n`)
      write("secrets.yaml", `OPENAI_API_KEY: ${fakeKey}\nSTRIPE_KEY: ${fakeKey}\n`)
      write("notes.txt", `- ${fakeKey}\n- another line\n`)
      const team = write("project/team.yaml", "name: t\nagents: [../.env, ../secrets.yaml, ../notes.txt]\n")
      const error = yield* failure(SpecLoader.load(team))
      assert.deepStrictEqual(
        error.errors.map(
          (e) => `${e.file.slice(dir.length + 1)}:${at(e)} ${e.message.replace(/ \(name, description, .*\)$/, "")}`
        ),
        [
          `.env:1:1 Expected an agent spec (a map of keys such as name, persona, tools), but the file holds a text of ${`OPENAI_API_KEY=${fakeKey} DEBUG=1`.length} characters`,
          "notes.txt:1:1 Expected an agent spec (a map of keys such as name, persona, tools), but the file holds a list of 2 items",
          "secrets.yaml:1:1 Expected an agent spec, but none of the 2 keys of this map is one of its keys"
        ]
      )
      assert.notInclude(printed(error), fakeKey)
      assert.notInclude(printed(error), "OPENAI_API_KEY")
    })
  )

  it.effect("names a value that came from ${VAR} by the variable, never by its value", () =>
    Effect.gen(function* () {
      const provider = "secret-provider-0123456789"
      const env = layerWithEnv({ SOME_SECRET: fakeKey, SOME_PROVIDER: provider, SHORT: "abc" })
      const source = [
        "name: a",
        "mixture:",
        "  strategy: ${SOME_SECRET}",
        "  providers: [{ provider: openai, model: m }, { provider: '${SOME_PROVIDER}', model: m }]",
        'persona: ["${SOME_SECRET}"]',
        "limits: { maxSteps: 'x-${SOME_SECRET}-y', timeout: '${SHORT}' }"
      ].join("\n")
      const error = yield* failure(SpecLoader.parseAgent(source, "env.yaml"), env)
      assert.deepStrictEqual(
        // The list of built-in providers belongs to another test.
        error.errors.map((e) => `${at(e)} ${e.message.replace(/; define it under providers.*$/, "")}`),
        [
          "3:13 Unknown value ${SOME_SECRET}; expected one of weighted-score, first-valid, quorum, fallback",
          "4:59 Unknown provider ${SOME_PROVIDER}",
          "5:10 Expected string, got a list",
          '6:21 Expected number, got "x-${SOME_SECRET}-y"',
          "6:52 Expected a duration like 500ms, 30s, 2m or 1h, got ${SHORT}"
        ]
      )
      for (const value of [fakeKey, provider, "abc"]) assert.notInclude(printed(error), value)
    })
  )

  it.effect("names a substituted value by its variable in problems made far from the document", () =>
    Effect.gen(function* () {
      const name = "secret-agent-0123456789"
      write("same-a.yaml", "name: ${AGENT_NAME}\n")
      write("same-b.yaml", "name: ${AGENT_NAME}\n")
      const team = write("same-team.yaml", "name: t\nagents: [same-a.yaml, same-b.yaml]\n")
      const error = yield* failure(SpecLoader.load(team), layerWithEnv({ AGENT_NAME: name }))
      assert.deepStrictEqual(
        error.errors.map((e) => `${at(e)} ${e.message}`),
        ['2:23 Agent name "${AGENT_NAME}" is already used in this team (at agents.0)']
      )
      assert.notInclude(printed(error), name)
    })
  )

  it.effect("takes ${VAR:-} as the empty string: an error for a required name, accepted for an optional text", () =>
    Effect.gen(function* () {
      const { spec } = yield* SpecLoader.parseAgent("name: a\npersona: ${NOPE:-}\ndescription: '${NOPE:-}'\n", "e.yaml")
      assert.strictEqual(spec.persona, "")
      assert.strictEqual(spec.description, "")
      const error = yield* failure(
        SpecLoader.parseAgent(
          "name: ${NOPE:-}\nmodel: { provider: openai, model: '${NOPE:-}' }\nlimits:\n  maxSteps: ${NOPE:-}\n",
          "e.yaml"
        )
      )
      assert.deepStrictEqual(
        error.errors.map((e) => `${e._tag} ${at(e)} ${e.message}`),
        [
          "SpecSchemaError 1:7 Expected a name of lowercase letters, digits and dashes",
          "SpecSchemaError 2:35 Expected a non-empty string",
          "SpecSchemaError 4:13 Expected number, got ${NOPE:-}"
        ]
      )
    }).pipe(Effect.provide(diskLayer))
  )

  it.effect("reads only regular files: /dev/zero, a FIFO and a directory are one file problem each", () =>
    Effect.gen(function* () {
      const fifo = join(dir, "pipe.yaml")
      const made = spawnSync("mkfifo", [fifo])
      assert.strictEqual(made.status, 0, String(made.stderr))
      const folder = join(dir, "folder.yaml")
      mkdirSync(folder)
      const cases = [
        ["/dev/zero", "a character device"],
        [fifo, "a FIFO (named pipe)"],
        [folder, "a directory"]
      ] as const
      for (const [path, kind] of cases) {
        const error = yield* failure(SpecLoader.load(path))
        assert.deepStrictEqual(
          error.errors.map((e) => [e._tag, at(e), e._tag === "SpecFileError" ? e.reason : "", e.message]),
          [["SpecFileError", "1:1", "NotRegularFile", `Cannot read ${path}: it is ${kind}, not a regular file`]]
        )
      }
      const team = write("special-team.yaml", `name: t\nagents:\n  - /dev/zero\n  - ${fifo}\n  - ${folder}\n`)
      const members = yield* failure(SpecLoader.load(team))
      assert.deepStrictEqual(
        members.errors.map((e) => `${at(e)} ${e.message}`),
        cases.map(([path, kind], i) => `${i + 3}:5 Cannot read agent spec ${path}: it is ${kind}, not a regular file`)
      )
      const instructions = yield* failure(
        SpecLoader.parseAgent(`name: a\ninstructionsFile: ${fifo}\n`, join(dir, "inline.yaml"))
      )
      assert.deepStrictEqual(
        instructions.errors.map((e) => `${at(e)} ${e.message}`),
        [`2:19 Cannot read instructionsFile ${fifo}: it is a FIFO (named pipe), not a regular file`]
      )
      const zero = yield* failure(SpecLoader.parseAgent("name: a\ninstructionsFile: /dev/zero\n", "i.yaml"))
      assert.strictEqual(zero.errors[0]?._tag === "SpecFileError" ? zero.errors[0].reason : "", "NotRegularFile")
    })
  )

  it.effect("refuses a file over the size limit before reading it, and one that grows past it while read", () =>
    Effect.gen(function* () {
      const big = write("big.yaml", `name: a\n# ${"x".repeat(SpecLoader.maxFileBytes)}\n`)
      const error = yield* failure(SpecLoader.load(big))
      assert.deepStrictEqual(
        error.errors.map((e) => [e._tag === "SpecFileError" ? e.reason : "", e.message]),
        [["TooLarge", `Cannot read ${big}: it is 524,299 bytes, over the limit of 524,288 bytes`]]
      )
      const raised = yield* SpecLoader.load(big, { maxFileBytes: 1024 * 1024 }).pipe(Effect.provide(diskLayer))
      assert.strictEqual(raised._tag === "Agent" ? raised.spec.name : "", "a")
      const team = write("big-team.yaml", "name: t\nagents: [big.yaml]\n")
      const member = yield* failure(SpecLoader.load(team))
      assert.deepStrictEqual(
        member.errors.map((e) => `${at(e)} ${e.message}`),
        [`2:10 Cannot read agent spec ${big}: it is 524,299 bytes, over the limit of 524,288 bytes`]
      )
      if (onLinux) {
        // /proc files report a size of 0: only the bounded read stops them.
        const grown = yield* failure(SpecLoader.load("/proc/self/status", { maxFileBytes: 64 }))
        assert.deepStrictEqual(
          grown.errors.map((e) => e.message),
          ["Cannot read /proc/self/status: it grew past the limit of 64 bytes while being read"]
        )
      }
    })
  )

  it.effect(
    "loads a generated 40k-key spec (limit raised) and one of 20k keys under the default limit",
    () =>
      Effect.gen(function* () {
        const spec = (keys: number) =>
          `name: big\ntools:\n  - shell_run:\n      env:\n${Array.from({ length: keys }, (_, i) => `        K${i}: v${i}\n`).join("")}`
        const under = write("keys-20k.yaml", spec(20_000))
        const over = write("keys-40k.yaml", spec(40_000))
        assert.isBelow(readFileSync(under).length, SpecLoader.maxFileBytes)
        assert.isAbove(readFileSync(over).length, SpecLoader.maxFileBytes)
        for (const [file, keys, options] of [
          [under, 20_000, undefined],
          [over, 40_000, { maxFileBytes: 2 * SpecLoader.maxFileBytes }]
        ] as const) {
          const loaded = yield* SpecLoader.load(file, options)
          const tool = loaded._tag === "Agent" ? loaded.spec.tools[0] : undefined
          assert.strictEqual(tool?.name === "shell_run" ? Object.keys(tool.options.env).length : 0, keys)
        }
      }).pipe(Effect.provide(diskLayer)),
    // A bound against hanging, not a speed check: `pnpm bench spec` measures the time.
    60_000
  )

  it.effect(
    "reports 40k unknown keys as fifty problems and a count",
    () =>
      Effect.gen(function* () {
        const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: ${i}\n`).join("")
        const file = write("unknown-40k.yaml", `name: big\n${keys}`)
        const error = yield* failure(SpecLoader.load(file, { maxFileBytes: 2 * SpecLoader.maxFileBytes }))
        assert.strictEqual(error.errors.length, SpecError.maxReportedProblems)
        assert.strictEqual(error.omitted, 40_000 - SpecError.maxReportedProblems)
        assert.deepStrictEqual(
          error.errors.slice(0, 2).map((e) => `${at(e)} ${e.message.replace(/; known keys: .*$/, "")}`),
          ['2:1 Unknown key "k0"', '3:1 Unknown key "k1"']
        )
        assert.strictEqual(error.lines[50], `${file}: and 39950 more problems`)
      }),
    // A bound against hanging, not a speed check: `pnpm bench spec` measures the time.
    60_000
  )

  it.effect(
    "reports a list of 100k wrong items in a bounded output",
    () =>
      Effect.gen(function* () {
        const file = write(
          "items-100k.yaml",
          `name: a\ngoals: [${Array.from({ length: 100_000 }, () => "1").join(", ")}]\n`
        )
        const error = yield* failure(SpecLoader.load(file))
        assert.strictEqual(error.errors.length, SpecError.maxReportedProblems)
        assert.strictEqual(error.omitted, 100_000 - SpecError.maxReportedProblems)
        assert.strictEqual(error.errors[1]?.message, "Expected string, got 1")
        assert.strictEqual(error.lines.length, SpecError.maxReportedProblems + 1)
        assert.isBelow(error.message.length, 10_000)
      }),
    // A bound against hanging, not a speed check: `pnpm bench spec` measures the time.
    60_000
  )

  it.effect("escapes terminal control sequences in keys and values, and refuses raw ones", () =>
    Effect.gen(function* () {
      const osc = '"\\e]0;pwned\\a\\e[31mred"'
      const error = yield* failure(
        SpecLoader.parseAgent(`name: a\n${osc}: 1\nlimits: { maxSteps: "\\e[2J\\e[H\\u009b31m" }\n`, "esc.yaml")
      )
      assert.deepStrictEqual(
        error.errors.map((e) => `${at(e)} ${e.message.replace(/; known keys: .*/, "")}`),
        ['2:1 Unknown key "\\x1b]0;pwned\\x07\\x1b[31mred"', '3:21 Expected number, got "\\x1b[2J\\x1b[H\\x9b31m"']
      )
      assert.notMatch(printed(error), terminalControl)
      const raw = yield* failure(SpecLoader.parseAgent("name: a\nred\u001b[31m: 1\n", "raw.yaml"))
      assert.deepStrictEqual(
        raw.errors.map((e) => `${e._tag} ${at(e)} ${e.message}`),
        [
          "SpecSyntaxError 2:4 Control character U+001B is not allowed in YAML (write it as an escape in a double-quoted string); a file holding one is not a spec"
        ]
      )
      // A path from a team file, or a file name, prints on one line with its controls escaped.
      const team = yield* failure(
        SpecLoader.parseTeam('name: t\nagents: ["\\e[2Jx\\nmissing.yaml"]\n', join(dir, "t.yaml"))
      )
      assert.notMatch(team.message, terminalControl)
      assert.include(team.message, "\\x1b[2Jx\\nmissing.yaml: no such file")
      assert.strictEqual(team.message.split("\n").length, 1)
    })
  )

  it.effect("quotes a long value as a short excerpt with its length", () =>
    Effect.gen(function* () {
      const long = "y".repeat(5_000)
      const error = yield* failure(
        SpecLoader.parseAgent(`name: a\nmixture: { strategy: ${long}, providers: [] }\n`, "l.yaml")
      )
      assert.deepStrictEqual(
        error.errors.map((e) => e.message),
        [
          `Unknown value "${"y".repeat(20)}…" (5000 characters); expected one of weighted-score, first-valid, quorum, fallback`,
          "Expected a value with a length of at least 1, got a list"
        ]
      )
    })
  )

  it.effect("reads and decodes a file named many times once", () =>
    Effect.gen(function* () {
      const member = write("once-member.yaml", "name: m\n")
      const prompt = write("once-prompt.md", `${"Be brief. ".repeat(40_000)}\n`)
      const entries = Array.from({ length: 2_000 }, (_, i) =>
        i % 2 === 0 ? "  - once-member.yaml" : `  - { name: i${i}, instructionsFile: once-prompt.md }`
      )
      const team = write("once-team.yaml", `name: t\nagents:\n${entries.join("\n")}\n`)
      const error = yield* failure(SpecLoader.load(team))
      assert.deepStrictEqual([opened.get(member), opened.get(prompt)], [1, 1])
      // Every file member after the first has the name of the first.
      assert.strictEqual(error.errors.length + error.omitted, 999)
      assert.strictEqual(error.errors[0]?.message, 'Agent name "m" is already used in this team (at agents.0)')
    })
  )
})
