/**
 * Loads agent specs and team files from YAML, reporting every problem at once as `FILE:LINE:COL: message`.
 *
 * Files are read through effect's `FileSystem` (and `Path`), so the Node implementation, a test double or an
 * in-memory one all work. `${VAR}` references are read through the current `ConfigProvider` (the process
 * environment by default). Every failure is a {@link SpecError.SpecInvalid} holding all positioned problems;
 * nothing is thrown.
 *
 * @example
 * ```ts
 * import { SpecLoader } from "@troupe/agent-spec"
 * import { NodeServices } from "@effect/platform-node"
 * import * as Effect from "effect/Effect"
 *
 * const program = SpecLoader.loadAgent("agents/backend.yaml").pipe(
 *   Effect.map(({ spec }) => spec.limits.maxSteps),
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 */
import type * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Path from "effect/Path"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as AgentSpec from "./AgentSpec.ts"
import * as Document from "./internal/document.ts"
import * as Issues from "./internal/issues.ts"
import * as Suggest from "./internal/suggest.ts"
import * as LegacySpec from "./LegacySpec.ts"
import * as SpecError from "./SpecError.ts"
import * as TeamSpec from "./TeamSpec.ts"
import * as ToolSpec from "./ToolSpec.ts"

/** An agent spec loaded from a file, with any notices about it. */
export interface LoadedAgent {
  readonly _tag: "Agent"
  readonly file: string
  readonly spec: AgentSpec.AgentSpec
  readonly notices: ReadonlyArray<SpecError.SpecNotice>
}

/** A team file loaded with every member resolved, and the notices of all its files. */
export interface LoadedTeam {
  readonly _tag: "Team"
  readonly file: string
  readonly team: TeamSpec.Team
  readonly notices: ReadonlyArray<SpecError.SpecNotice>
}

/** What the loader needs from the platform. */
export type Requirements = FileSystem.FileSystem | Path.Path

type Problem = SpecError.SpecProblem

interface Outcome<A> {
  readonly value: A | undefined
  readonly problems: ReadonlyArray<Problem>
  readonly notices: ReadonlyArray<SpecError.SpecNotice>
}

const byPosition = (a: Problem, b: Problem) =>
  a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1

const invalid = (file: string, problems: ReadonlyArray<Problem>): SpecError.SpecInvalid => {
  const seen = new Set<string>()
  const unique = problems.filter((p) => {
    const key = SpecError.format(p)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  return new SpecError.SpecInvalid({ file, errors: unique.toSorted(byPosition) })
}

const lookupEnv = (name: string): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const provider = yield* ConfigProvider.ConfigProvider
    const node = yield* provider.load([name]).pipe(Effect.orElseSucceed(() => undefined))
    return node?._tag === "Value" ? node.value : undefined
  })

const readSource = (file: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    return yield* fs.readFileString(file).pipe(Effect.result)
  })

/** Parses, interpolates and converts a document to data, collecting syntax and environment problems. */
const prepare = (source: string, file: string) =>
  Effect.gen(function* () {
    const { parsed, problems } = Document.parse(source)
    if (problems.length > 0) {
      return {
        parsed,
        data: undefined,
        problems: problems.map((p) => new SpecError.SpecSyntaxError({ file, ...p })) as ReadonlyArray<Problem>
      }
    }
    const missing = yield* Document.interpolate(parsed, lookupEnv)
    const envProblems: Array<Problem> = missing.map(
      (m) =>
        new SpecError.SpecEnvError({
          file,
          line: m.line,
          col: m.col,
          variable: m.variable,
          message: `Environment variable ${m.variable} is not set (use \${${m.variable}:-default} for a fallback)`
        })
    )
    const data = yield* Effect.result(Document.toJS(parsed))
    if (Result.isFailure(data)) {
      return {
        parsed,
        data: undefined,
        problems: [...envProblems, new SpecError.SpecSyntaxError({ file, ...data.failure })]
      }
    }
    return { parsed, data: data.success, problems: envProblems as ReadonlyArray<Problem> }
  })

/** Reads `instructionsFile` (relative to `baseFile`) into `instructions`. */
const resolveInstructions = (
  spec: AgentSpec.AgentSpec,
  baseFile: string,
  parsed: Document.Parsed,
  prefix: ReadonlyArray<PropertyKey>
) =>
  Effect.gen(function* () {
    if (spec.instructionsFile === undefined) return { spec, problems: [] as ReadonlyArray<Problem> }
    const path = yield* Path.Path
    const target = path.isAbsolute(spec.instructionsFile)
      ? spec.instructionsFile
      : path.join(path.dirname(baseFile), spec.instructionsFile)
    const read = yield* readSource(target)
    if (Result.isFailure(read)) {
      const at = Document.locate(parsed, [...prefix, "instructionsFile"])
      return {
        spec,
        problems: [
          new SpecError.SpecFileError({
            file: baseFile,
            ...at,
            message: `Cannot read instructionsFile ${target}: ${read.failure.message}`
          })
        ]
      }
    }
    return { spec: { ...spec, instructions: read.success }, problems: [] }
  })

const schemaError = (
  parsed: Document.Parsed,
  file: string,
  path: ReadonlyArray<PropertyKey>,
  atKey: boolean,
  message: string
): Problem =>
  new SpecError.SpecSchemaError({
    file,
    ...Document.locate(parsed, path, atKey),
    message,
    path: path.map(String).join(".")
  })

const failureProblems = (
  cause: Cause.Cause<Schema.SchemaError>,
  parsed: Document.Parsed,
  file: string,
  prefix: ReadonlyArray<PropertyKey>
): ReadonlyArray<Problem> =>
  cause.reasons.flatMap((r) =>
    r._tag === "Fail"
      ? Issues.flatten(r.error.issue).map((found) =>
          schemaError(parsed, file, [...prefix, ...found.path], found.atKey, found.message)
        )
      : []
  )

/** Decodes agent spec data found at `prefix` of a document: its root, or an inline team member. */
const decodeSpec = (
  data: unknown,
  parsed: Document.Parsed,
  file: string,
  prefix: ReadonlyArray<PropertyKey>
): Effect.Effect<Outcome<AgentSpec.AgentSpec>, never, Requirements> =>
  Effect.gen(function* () {
    const decoded = Schema.decodeUnknownExit(AgentSpec.AgentSpec, AgentSpec.parseOptions)(data)
    if (decoded._tag === "Failure") {
      // The schema checks cross-field rules only once every field decodes; report them now too.
      const cross = AgentSpec.crossFieldIssues(data).map((issue) =>
        schemaError(parsed, file, [...prefix, ...issue.path], issue.atKey, issue.message)
      )
      return {
        value: undefined,
        problems: [...failureProblems(decoded.cause, parsed, file, prefix), ...cross],
        notices: []
      }
    }
    const resolved = yield* resolveInstructions(decoded.value, file, parsed, prefix)
    return {
      value: resolved.problems.length > 0 ? undefined : resolved.spec,
      problems: resolved.problems,
      notices: []
    }
  })

/**
 * Maps a legacy spec onto an agent spec. Should the mapping ever yield an invalid spec, each problem is reported
 * at the legacy key it came from.
 */
const decodeLegacy = (data: unknown, parsed: Document.Parsed, file: string): Outcome<AgentSpec.AgentSpec> => {
  const legacy = Schema.decodeUnknownExit(LegacySpec.LegacySpec, AgentSpec.parseOptions)(data)
  if (legacy._tag === "Failure") {
    const problems = failureProblems(legacy.cause, parsed, file, [])
    return {
      value: undefined,
      problems:
        problems.length > 0
          ? problems
          : [new SpecError.SpecSchemaError({ file, line: 1, col: 1, path: "", message: "Invalid legacy spec" })],
      notices: []
    }
  }
  const at = Document.locate(parsed, ["ai_provider"], true)
  const notice = new SpecError.SpecNotice({ file, ...at, message: LegacySpec.notice(legacy.value) })
  const input = LegacySpec.toAgentSpecInput(legacy.value)
  const mapped = Schema.decodeUnknownExit(AgentSpec.AgentSpec, AgentSpec.parseOptions)(input)
  if (mapped._tag === "Success") return { value: mapped.value, problems: [], notices: [notice] }
  const found = [
    ...mapped.cause.reasons.flatMap((r) => (r._tag === "Fail" ? Issues.flatten(r.error.issue) : [])),
    ...AgentSpec.crossFieldIssues(input)
  ]
  const problems = found.map((issue) => {
    const key = LegacySpec.sourceKey(legacy.value, issue.path)
    return schemaError(
      parsed,
      file,
      [key],
      false,
      `The legacy spec does not map onto a valid agent spec: ${issue.path.map(String).join(".")}: ${issue.message}`
    )
  })
  return {
    value: undefined,
    problems:
      problems.length > 0
        ? problems
        : [schemaError(parsed, file, ["ai_provider"], true, "The legacy spec does not map onto a valid agent spec")],
    notices: [notice]
  }
}

const decodeAgentData = (
  data: unknown,
  parsed: Document.Parsed,
  file: string
): Effect.Effect<Outcome<AgentSpec.AgentSpec>, never, Requirements> =>
  LegacySpec.isLegacy(Document.rootKeys(parsed))
    ? Effect.succeed(decodeLegacy(data, parsed, file))
    : decodeSpec(data, parsed, file, [])

const agentOutcome = (source: string, file: string) =>
  Effect.gen(function* () {
    const prepared = yield* prepare(source, file)
    if (prepared.data === undefined && prepared.problems.length > 0) {
      return { value: undefined, problems: prepared.problems, notices: [] } as Outcome<AgentSpec.AgentSpec>
    }
    const outcome = yield* decodeAgentData(prepared.data, prepared.parsed, file)
    return { ...outcome, problems: [...prepared.problems, ...outcome.problems] }
  })

const finish = <A, B>(
  file: string,
  outcome: Outcome<A>,
  make: (value: A) => B
): Effect.Effect<B, SpecError.SpecInvalid> =>
  outcome.problems.length > 0 || outcome.value === undefined
    ? Effect.fail(invalid(file, outcome.problems))
    : Effect.succeed(make(outcome.value))

/**
 * Decodes an agent spec from YAML text; `file` names it in problems and anchors `instructionsFile`.
 * Accepts the legacy six-field format too (with a notice).
 */
export const parseAgent = (
  source: string,
  file: string
): Effect.Effect<LoadedAgent, SpecError.SpecInvalid, Requirements> =>
  Effect.gen(function* () {
    const outcome = yield* agentOutcome(source, file)
    return yield* finish(
      file,
      outcome,
      (spec): LoadedAgent => ({ _tag: "Agent", file, spec, notices: outcome.notices })
    )
  })

/** Reads the file being loaded; failing to is its one problem, at 1:1. */
const readSpec = (file: string): Effect.Effect<string, SpecError.SpecInvalid, Requirements> =>
  Effect.gen(function* () {
    const read = yield* readSource(file)
    if (Result.isSuccess(read)) return read.success
    const message = `Cannot read ${file}: ${read.failure.message}`
    return yield* Effect.fail(invalid(file, [new SpecError.SpecFileError({ file, line: 1, col: 1, message })]))
  })

/** Reads and decodes an agent spec file. */
export const loadAgent = (file: string): Effect.Effect<LoadedAgent, SpecError.SpecInvalid, Requirements> =>
  Effect.flatMap(readSpec(file), (source) => parseAgent(source, file))

const teamOutcome = (source: string, file: string) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const prepared = yield* prepare(source, file)
    if (prepared.data === undefined && prepared.problems.length > 0) {
      return { value: undefined, problems: prepared.problems, notices: [] } as Outcome<TeamSpec.Team>
    }
    const { parsed } = prepared
    const raw = Predicate.isObject(prepared.data) ? prepared.data : {}
    // Members are resolved from the raw document whether or not the team itself decodes, so that one problem of
    // the team file never hides those of its members.
    const entries: Array<{ readonly at: ReadonlyArray<PropertyKey>; readonly entry: unknown }> = [
      ...(raw.manager === undefined ? [] : [{ at: ["manager"], entry: raw.manager }]),
      ...(Array.isArray(raw.agents) ? raw.agents.map((entry, i) => ({ at: ["agents", i], entry })) : [])
    ]
    const inline = entries.filter(({ entry }) => Predicate.isObject(entry)).map(({ at }) => at.map(String).join("."))
    const decoded = Schema.decodeUnknownExit(TeamSpec.TeamSpec, AgentSpec.parseOptions)(prepared.data)
    // Problems inside an inline member come from decoding that member on its own below.
    const teamProblems =
      decoded._tag === "Failure"
        ? failureProblems(decoded.cause, parsed, file, []).filter(
            (p) =>
              !(p._tag === "SpecSchemaError" && inline.some((key) => p.path === key || p.path.startsWith(`${key}.`)))
          )
        : []
    const problems: Array<Problem> = [...prepared.problems, ...teamProblems]
    const notices: Array<SpecError.SpecNotice> = []
    const resolve = (entry: unknown, at: ReadonlyArray<PropertyKey>) =>
      Effect.gen(function* () {
        if (Predicate.isObject(entry)) {
          const outcome = yield* decodeSpec(entry, parsed, file, at)
          problems.push(...outcome.problems)
          return outcome.value
        }
        // Anything else (an empty path, a number, a list) is already a problem of the team file.
        if (typeof entry !== "string" || entry === "") return undefined
        const target = path.isAbsolute(entry) ? entry : path.join(path.dirname(file), entry)
        const read = yield* readSource(target)
        if (Result.isFailure(read)) {
          const where = Document.locate(parsed, at)
          problems.push(
            new SpecError.SpecFileError({
              file,
              ...where,
              message: `Cannot read agent spec ${target}: ${read.failure.message}`
            })
          )
          return undefined
        }
        const outcome = yield* agentOutcome(read.success, target)
        problems.push(...outcome.problems)
        notices.push(...outcome.notices)
        return outcome.value
      })
    let manager: AgentSpec.AgentSpec | undefined
    const agents: Array<AgentSpec.AgentSpec> = []
    const names = new Map<string, { readonly at: ReadonlyArray<PropertyKey>; readonly spec: AgentSpec.AgentSpec }>()
    for (const { at, entry } of entries) {
      const spec = yield* resolve(entry, at)
      if (spec === undefined) continue
      if (at[0] === "manager") {
        manager = spec
        names.set(spec.name, { at, spec })
        continue
      }
      const taken = names.get(spec.name)
      if (taken !== undefined) {
        problems.push(
          schemaError(
            parsed,
            file,
            at,
            false,
            `Agent name "${spec.name}" is already used in this team (at ${taken.at.join(".")})`
          )
        )
        continue
      }
      names.set(spec.name, { at, spec })
      agents.push(spec)
    }
    // A delegate tool may only name agents of this team.
    const members = [...names.keys()]
    for (const [name, { at, spec }] of names) {
      for (const target of ToolSpec.find(spec.tools, "delegate")?.agents ?? []) {
        if (!names.has(target)) {
          problems.push(
            schemaError(
              parsed,
              file,
              at,
              false,
              `Agent "${name}" delegates to "${target}", which is not in this team${Suggest.didYouMean(target, members)}`
            )
          )
        }
      }
    }
    if (decoded._tag === "Failure") return { value: undefined, problems, notices } as Outcome<TeamSpec.Team>
    const team = decoded.value
    const value: TeamSpec.Team = {
      name: team.name,
      description: team.description,
      manager,
      agents,
      supervision: team.supervision
    }
    return { value, problems, notices } as Outcome<TeamSpec.Team>
  })

/** Decodes a team file from YAML text, loading member spec files relative to `file`. */
export const parseTeam = (
  source: string,
  file: string
): Effect.Effect<LoadedTeam, SpecError.SpecInvalid, Requirements> =>
  Effect.gen(function* () {
    const outcome = yield* teamOutcome(source, file)
    return yield* finish(file, outcome, (team): LoadedTeam => ({ _tag: "Team", file, team, notices: outcome.notices }))
  })

/** Reads and decodes a team file and its members. */
export const loadTeam = (file: string): Effect.Effect<LoadedTeam, SpecError.SpecInvalid, Requirements> =>
  Effect.flatMap(readSpec(file), (source) => parseTeam(source, file))

/** Reads a file and decodes it as a team (when it has an `agents` key) or as an agent spec. */
export const load = (file: string): Effect.Effect<LoadedAgent | LoadedTeam, SpecError.SpecInvalid, Requirements> =>
  Effect.gen(function* () {
    const source = yield* readSpec(file)
    const { parsed, problems } = Document.parse(source)
    if (problems.length === 0 && TeamSpec.isTeam(Document.rootKeys(parsed))) {
      return yield* parseTeam(source, file)
    }
    return yield* parseAgent(source, file)
  })
