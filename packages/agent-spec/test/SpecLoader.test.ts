// biome-ignore-all lint/suspicious/noTemplateCurlyInString: literal ${VAR} references are the input under test
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { SpecError, SpecLoader, ToolSpec } from "../src/index.ts"
import { at, diskLayer, fixture, root } from "./support.ts"

const failure = <A>(effect: Effect.Effect<A, SpecError.SpecInvalid, SpecLoader.Requirements>) =>
  Effect.flip(effect).pipe(Effect.provide(diskLayer))

const lines = (error: SpecError.SpecInvalid) => error.errors.map(SpecError.format)

/** Each problem as `LINE:COL message`. */
const positioned = (error: SpecError.SpecInvalid) => error.errors.map((e) => `${at(e)} ${e.message}`)

/** Each problem as `Tag LINE:COL`. */
const tagged = (error: SpecError.SpecInvalid) => error.errors.map((e) => `${e._tag} ${at(e)}`)

/** A problem's file (`team` for the team file itself, else the member's file name) and position. */
const inTeam = (teamFile: string, e: SpecError.SpecProblem) =>
  `${e.file === teamFile ? "team" : e.file.slice(e.file.lastIndexOf("/") + 1)}:${at(e)}`

describe("SpecLoader", () => {
  it.effect("loads the full example: every field, env interpolation and instructionsFile", () =>
    Effect.gen(function* () {
      const file = fixture("full.yaml")
      const { spec, notices } = yield* SpecLoader.loadAgent(file)
      assert.deepStrictEqual(notices, [])
      assert.strictEqual(spec.name, "backend")
      assert.strictEqual(spec.instructions, "You write backend services.\nAlways run the tests.\n")
      assert.strictEqual(spec.mixture?.providers[0]?.model, "gpt-5-mini")
      assert.strictEqual(spec.limits.maxSteps, 12)
      assert.strictEqual(Duration.toMillis(spec.limits.timeout), 20 * 60_000)
      assert.deepStrictEqual(
        spec.tools.map((t) => t.name),
        ["fs_read", "fs_write", "shell_run", "mcp"]
      )
      assert.strictEqual(spec.approvals.tools.git_push, "deny")
      assert.strictEqual(spec.providers.local?.apiKeyEnv, "LOCAL_KEY")
    }).pipe(Effect.provide(diskLayer))
  )

  it.effect("reports every problem of a file at once, each at its key or value", () =>
    Effect.gen(function* () {
      const file = fixture("many-errors.yaml")
      const error = yield* failure(SpecLoader.loadAgent(file))
      assert.strictEqual(error.file, file)
      assert.deepStrictEqual(
        error.errors.map((e) => [e._tag, at(e), e.message]),
        [
          ["SpecSchemaError", "1:7", "Expected a name of lowercase letters, digits and dashes"],
          ["SpecSchemaError", "2:1", 'Unknown key "descripton" (did you mean "description"?)'],
          [
            "SpecSchemaError",
            "3:20",
            'Unknown provider "opnai" (did you mean "openai"?); define it under providers or use one of openai, anthropic, gemini, ollama'
          ],
          [
            "SpecSchemaError",
            "5:5",
            'Unknown value "fs_raed" (did you mean "fs_read"?); expected one of fs_read, fs_list, fs_write, fs_delete, shell_run, shell_start, git_status, git_diff, git_log, git_commit, git_push, http_fetch, mail_send, memory_recall, memory_remember, knowledge_query, knowledge_assert, delegate, ask_human, wait_for'
          ],
          ["SpecSchemaError", "6:25", 'Expected array, got "npm"'],
          ["SpecSchemaError", "6:30", 'Unknown key "timout" (did you mean "timeout"?)'],
          ["SpecSchemaError", "7:23", 'Unknown value "maybe"; expected one of auto, ask, deny'],
          ["SpecSchemaError", "7:39", 'Unknown tool "git_psh" (did you mean "git_push"?)'],
          ["SpecSchemaError", "8:21", "Expected a value greater than 0, got -1"],
          ["SpecSchemaError", "8:34", 'Expected a duration like 500ms, 30s, 2m or 1h, got "5 minutes"'],
          [
            "SpecEnvError",
            "9:20",
            "Environment variable TROUPE_NOPE is not set (use ${TROUPE_NOPE:-default} for a fallback)"
          ]
        ]
      )
      assert.strictEqual(lines(error)[0], `${file}:1:7: Expected a name of lowercase letters, digits and dashes`)
      assert.strictEqual(error.message, lines(error).join("\n"))
      const schemaError = error.errors[1]
      assert.strictEqual(schemaError?._tag === "SpecSchemaError" ? schemaError.path : "", "descripton")
      const envError = error.errors[10]
      assert.strictEqual(envError?._tag === "SpecEnvError" ? envError.variable : "", "TROUPE_NOPE")
    })
  )

  it.effect("reports YAML syntax errors with their positions", () =>
    Effect.gen(function* () {
      const error = yield* failure(SpecLoader.loadAgent(fixture("syntax.yaml.broken")))
      assert.deepStrictEqual(
        error.errors.map((e) => [e._tag, at(e)]),
        [["SpecSyntaxError", "3:1"]]
      )
      assert.match(error.errors[0]!.message, /^Flow sequence in block collection must be sufficiently indented/)
    })
  )

  it.effect("reports duplicate keys, tabs and several syntax errors together", () =>
    Effect.gen(function* () {
      const error = yield* failure(SpecLoader.parseAgent("name: a\nname: b\npersona: x\n\tgoals: []\n", "dup.yaml"))
      assert.deepStrictEqual(tagged(error), ["SpecSyntaxError 2:1", "SpecSyntaxError 4:1"])
      assert.match(error.errors[0]!.message, /Map keys must be unique/)
    })
  )

  it.effect("positions syntax errors after lines the parser skipped while recovering", () =>
    Effect.gen(function* () {
      const source = [
        "  stray text",
        "name: a",
        "instructions: |",
        "  first",
        "# a comment inside the block",
        "  second",
        "goals:",
        "  - g",
        "model: { provider: openai, model: gpt-5-mini }"
      ].join("\n")
      const error = yield* failure(SpecLoader.parseAgent(source, "skipped.yaml"))
      const lines = source.split("\n")
      for (const e of error.errors) {
        assert.isAtMost(e.line, lines.length, SpecError.format(e))
        assert.isAtMost(e.col, lines[e.line - 1]!.length + 1, SpecError.format(e))
      }
      const brace = error.errors.find((e) => e.message.includes("flow-map-start"))
      assert.strictEqual(brace === undefined ? "" : at(brace), "9:8")
    })
  )

  it.effect("reports an alias to nothing as a positioned syntax error", () =>
    Effect.gen(function* () {
      const error = yield* failure(SpecLoader.parseAgent("name: a\npersona: *nothing\n", "alias.yaml"))
      assert.deepStrictEqual(tagged(error), ["SpecSyntaxError 2:10"])
    })
  )

  it.effect("points a missing key at its parent and unknown keys at the key", () =>
    Effect.gen(function* () {
      const error = yield* failure(
        SpecLoader.parseAgent("persona: x\nmodel:\n  provider: openai\n  modle: m\n", "missing.yaml")
      )
      assert.deepStrictEqual(positioned(error), [
        '1:1 Missing required key "name"',
        '2:1 Missing required key "model"',
        '4:3 Unknown key "modle" (did you mean "model"?)'
      ])
    })
  )

  it.effect("reports a missing file and an unreadable instructionsFile as file errors", () =>
    Effect.gen(function* () {
      const missing = yield* failure(SpecLoader.loadAgent(fixture("nope.yaml")))
      assert.deepStrictEqual(tagged(missing), ["SpecFileError 1:1"])
      const instructions = yield* failure(
        SpecLoader.parseAgent("name: a\ninstructionsFile: prompts/none.md\n", fixture("inline.yaml"))
      )
      assert.deepStrictEqual(tagged(instructions), ["SpecFileError 2:19"])
      assert.match(instructions.errors[0]!.message, /Cannot read instructionsFile .*prompts\/none\.md/)
    })
  )

  it.effect("interpolates ${VAR} and ${VAR:-default}, keeps $${ literal, and types plain scalars", () =>
    Effect.gen(function* () {
      const source = [
        "name: a",
        "persona: 'model ${TROUPE_MODEL}, fallback ${UNSET_ONE:-dflt}, empty [${EMPTY:-e}], literal $${TROUPE_MODEL}'",
        "limits:",
        "  maxSteps: ${TROUPE_STEPS}",
        "  maxCostUsd: ${UNSET_TWO:-0.5}"
      ].join("\n")
      const { spec } = yield* SpecLoader.parseAgent(source, "env.yaml")
      assert.strictEqual(spec.persona, "model gpt-5-mini, fallback dflt, empty [e], literal ${TROUPE_MODEL}")
      assert.strictEqual(spec.limits.maxSteps, 12)
      assert.strictEqual(spec.limits.maxCostUsd, 0.5)
    }).pipe(Effect.provide(diskLayer))
  )

  it.effect("names each missing variable at its ${", () =>
    Effect.gen(function* () {
      const source = 'name: a\npersona: "x ${MISSING_A} y"\ngoals:\n  - |\n    first\n    then ${MISSING_B}\n'
      const error = yield* failure(SpecLoader.parseAgent(source, "env.yaml"))
      assert.deepStrictEqual(
        error.errors.map((e) => [e._tag, at(e), e._tag === "SpecEnvError" ? e.variable : ""]),
        [
          ["SpecEnvError", "2:13", "MISSING_A"],
          ["SpecEnvError", "6:10", "MISSING_B"]
        ]
      )
    })
  )

  it.effect("names every occurrence of a missing variable at its own ${, skipping $${ escapes", () =>
    Effect.gen(function* () {
      const source = [
        "name: a",
        'persona: "${MISSING_A} and ${MISSING_A}"',
        "description: $${MISSING_A} ${MISSING_A}",
        "goals:",
        "  - |",
        "    $${MISSING_B} first ${MISSING_B}",
        "    then ${MISSING_B}"
      ].join("\n")
      const error = yield* failure(SpecLoader.parseAgent(source, "env.yaml"))
      assert.deepStrictEqual(
        error.errors.map((e) => `${at(e)} ${e._tag === "SpecEnvError" ? e.variable : e._tag}`),
        ["2:11 MISSING_A", "2:28 MISSING_A", "3:28 MISSING_A", "6:25 MISSING_B", "7:10 MISSING_B"]
      )
    })
  )

  it.effect("names the duration format when a duration is given as a number", () =>
    Effect.gen(function* () {
      const error = yield* failure(
        SpecLoader.parseAgent("name: a\nsupervision: { within: 10, backoff: 2 minutes }\n", "d.yaml")
      )
      assert.deepStrictEqual(positioned(error), [
        "2:24 Expected a duration like 500ms, 30s, 2m or 1h, got 10",
        '2:37 Expected a duration like 500ms, 30s, 2m or 1h, got "2 minutes"'
      ])
    })
  )

  it.effect("maps the legacy six-field format with a notice", () =>
    Effect.gen(function* () {
      const file = fixture("legacy.yaml")
      const { spec, notices } = yield* SpecLoader.loadAgent(file)
      assert.strictEqual(spec.name, "architect-gpt")
      assert.strictEqual(spec.persona, "Lead UX/UI Designer")
      assert.strictEqual(spec.description, "assistant")
      assert.deepStrictEqual(spec.goals, ["Generate a diagram for a web application on Kubernetes"])
      assert.strictEqual(spec.instructions, "Generate a diagram for a web application on Kubernetes")
      assert.deepStrictEqual(spec.model, { provider: "gemini", model: "gemini-2.5-flash" })
      assert.strictEqual(notices.length, 1)
      assert.deepStrictEqual([notices[0]!.file, at(notices[0] as never)], [file, "2:1"])
      assert.match(notices[0]!.message, /^legacy six-field agent format/)
    }).pipe(Effect.provide(diskLayer))
  )

  it.effect("reports legacy errors at their keys", () =>
    Effect.gen(function* () {
      const error = yield* failure(
        SpecLoader.parseAgent("name: X\nai_provider: grok\nmodel: m\nprompt: p\ntools: []\n", "legacy.yaml")
      )
      assert.deepStrictEqual(positioned(error), [
        '2:14 Unknown value "grok"; expected one of gemini, openai, anthropic, cld, xai, cohere, hf',
        '5:1 Unknown key "tools"; known keys: name, ai_provider, model, persona, position, role, prompt'
      ])
    })
  )

  it.effect("loads a team: manager, file members and inline members", () =>
    Effect.gen(function* () {
      const loaded = yield* SpecLoader.load(fixture("team/team.yaml"))
      assert.strictEqual(loaded._tag, "Team")
      if (loaded._tag !== "Team") return
      const { team } = loaded
      assert.strictEqual(team.name, "small-team")
      assert.strictEqual(team.manager?.name, "architect-gpt")
      assert.deepStrictEqual(
        team.agents.map((a) => a.name),
        ["writer", "reviewer", "helper"]
      )
      assert.strictEqual(team.agents[2]?.instructions, "You write backend services.\nAlways run the tests.\n")
      assert.strictEqual(team.supervision.strategy, "rest-for-one")
      assert.strictEqual(team.supervision.maxRestarts, 5)
      assert.strictEqual(loaded.notices.length, 1)
    }).pipe(Effect.provide(diskLayer))
  )

  it.effect("reports the problems of a team and of its members together", () =>
    Effect.gen(function* () {
      const file = fixture("team/broken-team.yaml")
      const error = yield* failure(SpecLoader.loadTeam(file))
      assert.deepStrictEqual(
        error.errors.map((e) => `${e._tag} ${inTeam(file, e)}`),
        [
          "SpecSchemaError bad-member.yaml:2:21",
          "SpecFileError team:4:5",
          "SpecSchemaError team:6:5",
          "SpecSchemaError team:7:13"
        ]
      )
      const fixed = yield* failure(
        SpecLoader.parseTeam(
          "name: t\nagents:\n  - writer.yaml\n  - missing.yaml\n  - bad-member.yaml\n  - writer.yaml\n",
          file
        )
      )
      assert.deepStrictEqual(
        fixed.errors.map((e) => `${e._tag} ${inTeam(file, e)}`),
        ["SpecSchemaError bad-member.yaml:2:21", "SpecFileError team:4:5", "SpecSchemaError team:6:5"]
      )
      assert.match(fixed.errors[2]!.message, /Agent name "writer" is already used/)
    })
  )

  it.effect("reports the members' problems when the team file has problems of its own", () =>
    Effect.gen(function* () {
      const file = fixture("team/t.yaml")
      const members = ["agents:", "  - writer.yaml", "  - missing.yaml", "  - bad-member.yaml"]
      const where = (e: SpecError.SpecProblem) => `${inTeam(file, e)} ${e.message}`
      const memberProblems = [
        'bad-member.yaml:2:21 Expected number, got "zero"',
        `team:4:5 Cannot read agent spec ${fixture("team/missing.yaml")}: no such file`
      ]
      const alone = yield* failure(SpecLoader.parseTeam(["name: t", ...members].join("\n"), file))
      assert.deepStrictEqual(alone.errors.map(where), memberProblems)
      // An unknown key of the team file, a bad value of its own and an invalid inline member hide nothing.
      const source = [
        "name: t",
        "bogus: 1",
        ...members,
        "  - { name: Inline Bad, tools: [memory_store] }",
        "  - 3",
        "  - { name: ok-inline, tools: [memory_remember] }",
        "supervision: { within: 10 }"
      ].join("\n")
      const error = yield* failure(SpecLoader.parseTeam(source, file))
      assert.deepStrictEqual(error.errors.map(where), [
        'bad-member.yaml:2:21 Expected number, got "zero"',
        'team:2:1 Unknown key "bogus"; known keys: name, description, manager, agents, supervision',
        memberProblems[1]!.replace("team:4:5", "team:5:5"),
        "team:7:13 Expected a name of lowercase letters, digits and dashes",
        `team:7:33 Unknown value "memory_store"; expected one of ${ToolSpec.toolNames.filter((n) => n !== "mcp").join(", ")}`,
        "team:8:5 Expected string | object, got 3",
        "team:10:24 Expected a duration like 500ms, 30s, 2m or 1h, got 10"
      ])
      // A manager given inline is checked the same way, and duplicate names are still found.
      const managed = yield* failure(
        SpecLoader.parseTeam(
          "name: t\nbogus: 1\nmanager: { name: writer, limits: { maxSteps: 0 } }\nagents: [writer.yaml, writer.yaml]\n",
          file
        )
      )
      assert.deepStrictEqual(managed.errors.map(where), [
        'team:2:1 Unknown key "bogus"; known keys: name, description, manager, agents, supervision',
        "team:3:46 Expected a value greater than 0, got 0",
        'team:4:23 Agent name "writer" is already used in this team (at agents.0)'
      ])
    })
  )

  it.effect("checks team files' own keys, with suggestions", () =>
    Effect.gen(function* () {
      const error = yield* failure(
        SpecLoader.parseTeam(
          "name: t\nagent: [a.yaml]\nsupervision: { strategy: one-for-al }\n",
          fixture("team/t.yaml")
        )
      )
      assert.deepStrictEqual(positioned(error), [
        '1:1 Missing required key "agents"',
        '2:1 Unknown key "agent" (did you mean "agents"?)',
        '3:26 Unknown value "one-for-al" (did you mean "one-for-all"?); expected one of one-for-one, one-for-all, rest-for-one'
      ])
    })
  )

  it.effect("checks that delegation stays inside the team", () =>
    Effect.gen(function* () {
      const source = [
        "name: t",
        "manager: { name: boss, tools: [{ delegate: { agents: [writer, reviewr] } }] }",
        "agents: [writer.yaml]"
      ].join("\n")
      const error = yield* failure(SpecLoader.parseTeam(source, fixture("team/t.yaml")))
      assert.deepStrictEqual(positioned(error), ['2:10 Agent "boss" delegates to "reviewr", which is not in this team'])
    })
  )

  it.effect("decodes every file under agents/", () =>
    Effect.gen(function* () {
      const dir = join(root, "agents")
      const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"))
      assert.isAtLeast(files.length, 10)
      const names: Array<string> = []
      for (const f of files) {
        const loaded = yield* SpecLoader.load(join(dir, f))
        assert.deepStrictEqual(loaded.notices, [], f)
        if (loaded._tag === "Agent") names.push(loaded.spec.name)
        else assert.strictEqual(loaded.team.agents.length + (loaded.team.manager ? 1 : 0), 9)
      }
      assert.deepStrictEqual(names.toSorted(), [
        "architect",
        "backend",
        "designer",
        "frontend",
        "generic",
        "git",
        "mailer",
        "manager",
        "optimizer",
        "tester"
      ])
    }).pipe(Effect.provide(diskLayer))
  )
})
