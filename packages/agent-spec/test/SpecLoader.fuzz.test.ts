// biome-ignore-all lint/suspicious/noTemplateCurlyInString: literal ${VAR} references are the input under test
/**
 * Mutates valid specs thousands of times (seeded, so every run is the same) and checks that the loader never
 * throws, dies or hangs: every input yields a spec or positioned problems, each printable on one line without
 * control characters, however hostile the values put in.
 */

import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { SpecError, SpecLoader } from "../src/index.ts"
import { diskLayer, fixture, root } from "./support.ts"

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its iteration number. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const values = [
  "1",
  "-1",
  "0",
  "true",
  "null",
  "~",
  "[]",
  "{}",
  "'x'",
  "[a, b]",
  "{ a: 1 }",
  "${UNSET_FUZZ}",
  "${TROUPE_STEPS}",
  "*anchor",
  "&anchor x",
  '"unterminated',
  "30s",
  "0.5",
  "1e400",
  "!!binary aGk=",
  "|",
  ">-",
  "- x",
  "? k",
  "'",
  "`",
  "%TAG",
  "@x",
  "name: x",
  "\t",
  "fs_read",
  "{ shell_run: { allow: 1 } }",
  "<<: *a",
  // Hostile values: terminal escapes raw and escaped, controls YAML refuses, a huge string, ${...} forms.
  "\u001b[31mred",
  '"\\e]0;title\\a\\e[2J"',
  "\u0000",
  "\u202eevil",
  "x".repeat(20_000),
  '"${UNSET_FUZZ:-}"',
  "${EMPTY:-}",
  "$${TROUPE_MODEL}",
  "${TROUPE_MODEL}-${TROUPE_STEPS}",
  "'${UNSET_FUZZ:-${TROUPE_MODEL}}'"
]
const keys = [
  "foo",
  "name",
  "tools",
  "model",
  "mixture",
  "limits",
  "maxSteps",
  "descripton",
  "ai_provider",
  "prompt",
  "agents",
  "x y",
  "'q'"
]
const noise = [
  ":",
  "-",
  "[",
  "]",
  "{",
  "}",
  "#",
  "\t",
  "'",
  '"',
  "|",
  ">",
  "&",
  "*",
  "!",
  "%",
  "@",
  ",",
  "?",
  "\n",
  " ",
  "\\",
  "$",
  "${"
]

const mutate = (source: string, random: () => number): string => {
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
  const lines = source.split("\n")
  const line = Math.floor(random() * lines.length)
  switch (Math.floor(random() * 9)) {
    case 0:
      lines.splice(line, 1)
      break
    case 1:
      lines.splice(line, 0, lines[line] ?? "")
      break
    case 2:
      lines.splice(line, 0, `${" ".repeat(Math.floor(random() * 6))}${pick(keys)}: ${pick(values)}`)
      break
    case 3: {
      const text = lines[line] ?? ""
      const colon = text.indexOf(": ")
      lines[line] = colon >= 0 ? `${text.slice(0, colon + 2)}${pick(values)}` : `${text} ${pick(values)}`
      break
    }
    case 4: {
      const text = lines[line] ?? ""
      lines[line] = random() < 0.5 ? `${" ".repeat(1 + Math.floor(random() * 3))}${text}` : text.replace(/^ {1,3}/, "")
      break
    }
    case 5:
      return source.slice(0, Math.floor(random() * source.length))
    case 6: {
      const at = Math.floor(random() * source.length)
      return `${source.slice(0, at)}${pick(noise)}${source.slice(at)}`
    }
    case 7: {
      const other = Math.floor(random() * lines.length)
      const a = lines[line] ?? ""
      lines[line] = lines[other] ?? ""
      lines[other] = a
      break
    }
    default: {
      const text = lines[line] ?? ""
      const colon = text.indexOf(":")
      lines[line] =
        colon > 0 ? `${text.slice(0, Math.max(0, colon - 1 - Math.floor(random() * 2)))}${text.slice(colon)}` : text
    }
  }
  return lines.join("\n")
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const terminalControl = /[\u0000-\u001f\u007f-\u009f]/u

const agentsDir = join(root, "agents")
const seeds = [
  ...readdirSync(agentsDir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => ({ file: join(agentsDir, f), source: readFileSync(join(agentsDir, f), "utf8") })),
  ...["full.yaml", "legacy.yaml"].map((f) => ({ file: fixture(f), source: readFileSync(fixture(f), "utf8") }))
]

describe("SpecLoader fuzz", () => {
  it.effect(
    "never throws, dies or hangs on mutated specs",
    () =>
      Effect.gen(function* () {
        const random = prng(20261125)
        let valid = 0
        let invalid = 0
        for (let i = 0; i < 3000; i++) {
          const seed = seeds[i % seeds.length]!
          let source = seed.source
          const rounds = 1 + Math.floor(random() * 3)
          for (let r = 0; r < rounds; r++) source = mutate(source, random)
          const parse: (
            source: string,
            file: string
          ) => Effect.Effect<unknown, SpecError.SpecInvalid, SpecLoader.Requirements> = seed.file.endsWith("team.yaml")
            ? SpecLoader.parseTeam
            : SpecLoader.parseAgent
          const exit = yield* Effect.exit(parse(source, seed.file))
          if (Exit.isSuccess(exit)) {
            valid++
            continue
          }
          const error = Cause.findErrorOption(exit.cause)
          if (error._tag === "None")
            assert.fail(`iteration ${i}: not a typed failure: ${Cause.pretty(exit.cause)}\n${source}`)
          invalid++
          assert.isAbove(error.value.errors.length, 0, `iteration ${i}: no problems\n${source}`)
          for (const problem of error.value.errors) {
            const where = `iteration ${i}: ${SpecError.format(problem)}\n${source}`
            // A member file of a team is read from disk; every other problem is in the mutated source.
            const lines = (problem.file === seed.file ? source : readFileSync(problem.file, "utf8")).split("\n")
            assert.isAtLeast(problem.line, 1, where)
            assert.isAtLeast(problem.col, 1, where)
            // The position after the last character (line count + 1, or one past a line's end) is still inside.
            assert.isAtMost(problem.line, lines.length + 1, where)
            assert.isAtMost(problem.col, (lines[problem.line - 1] ?? "").length + 1, where)
            assert.isAbove(problem.message.length, 0)
            // What reaches a terminal is one line without control characters, and short.
            const line = SpecError.format(problem)
            assert.notMatch(line, terminalControl, where)
            assert.isAtMost(problem.message.length, 1_100, where)
          }
          assert.isAtMost(error.value.errors.length, SpecError.maxReportedProblems)
        }
        assert.strictEqual(valid + invalid, 3000)
        // The mutations must exercise both outcomes, or the test proves little.
        assert.isAbove(valid, 100)
        assert.isAbove(invalid, 1000)
      }).pipe(Effect.provide(diskLayer)),
    // A bound against hanging, not a speed check: about 8 s on a quiet machine, three times that under load.
    120_000
  )
})
