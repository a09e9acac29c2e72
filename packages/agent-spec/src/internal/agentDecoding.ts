/**
 * From YAML text to a decoded agent spec: parse and interpolate a document once, decode it as an agent spec (or as
 * the legacy six-field format), read its `instructionsFile`. Team loading decodes inline members with the same
 * {@link decodeSpec}.
 */
import type * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Path from "effect/Path"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as AgentSpec from "../AgentSpec.ts"
import * as LegacySpec from "../LegacySpec.ts"
import * as Document from "./document.ts"
import * as Excerpt from "./excerpt.ts"
import * as Issues from "./issues.ts"
import * as Problems from "./problems.ts"
import * as ReadFile from "./readFile.ts"
import * as Suggest from "./suggest.ts"

/** What decoding needs from the platform. */
export type Requirements = FileSystem.FileSystem | Path.Path

/** A document parsed and interpolated once, whatever it turns out to be. */
export interface Prepared {
  readonly file: string
  readonly parsed: Document.Parsed
  /** The document as data; `undefined` when it does not parse. */
  readonly data: unknown
  /** Syntax and environment problems. */
  readonly problems: ReadonlyArray<Problems.Problem>
}

const lookupEnv = (name: string): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const provider = yield* ConfigProvider.ConfigProvider
    const node = yield* provider.load([name]).pipe(Effect.orElseSucceed(() => undefined))
    return node?._tag === "Value" ? node.value : undefined
  })

/** Parses, interpolates and converts a document to data, collecting syntax and environment problems. */
export const prepare = (source: string, file: string, session: Problems.Session): Effect.Effect<Prepared> =>
  Effect.gen(function* () {
    const { parsed, problems } = Document.parse(source)
    if (problems.length > 0) {
      const syntax = problems.map((p): Problems.Problem => ({ _tag: "SpecSyntaxError", file, ...p }))
      return { file, parsed, data: undefined, problems: syntax }
    }
    const missing = yield* Document.interpolate(parsed, lookupEnv)
    session.substitutions.push(...parsed.substitutions)
    const envProblems = missing.map(
      (m): Problems.Problem => ({
        _tag: "SpecEnvError",
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
        file,
        parsed,
        data: undefined,
        problems: [...envProblems, { _tag: "SpecSyntaxError", file, ...data.failure }]
      }
    }
    return { file, parsed, data: data.success, problems: envProblems }
  })

/**
 * Reads a file a document refers to (`what` names the reference in the message); failing to is one problem,
 * at `at` in the referring document.
 */
export const readReferenced = (
  target: string,
  what: string,
  at: Document.Position & { readonly file: string },
  session: Problems.Session
): Effect.Effect<Result.Result<string, Problems.Problem>, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    let read = session.reads.get(target)
    if (read === undefined) {
      read = yield* Effect.result(ReadFile.read(target, session.maxFileBytes))
      session.reads.set(target, read)
    }
    if (Result.isSuccess(read)) return Result.succeed(read.success)
    return Result.fail<Problems.Problem>({
      _tag: "SpecFileError",
      ...at,
      reason: read.failure.reason,
      message: `Cannot read ${what} ${Excerpt.path(target)}: ${read.failure.detail}`
    })
  })

/** How a document that is not a map is described, without quoting any of it: it may be any file at all. */
export const describe = (data: unknown): string => {
  if (data === null || data === undefined) return "the file is empty"
  if (typeof data === "string") return `the file holds a text of ${data.length} characters`
  if (Array.isArray(data)) return `the file holds a list of ${data.length} items`
  return `the file holds a ${typeof data}`
}

/**
 * Why a map is not an agent spec (or a team file) at all, when none of its keys is a key of one or close to one:
 * a YAML file of something else, whose keys are then not listed one "Unknown key" at a time.
 */
export const notASpec = (
  data: Record<string, unknown>,
  known: ReadonlyArray<string>,
  what: string
): string | undefined => {
  const keys = Object.keys(data)
  if (keys.length === 0 || keys.some((key) => known.includes(key) || Suggest.closest(key, known) !== undefined)) {
    return undefined
  }
  return `Expected ${what}, but none of the ${keys.length} keys of this map is one of its keys (${known.join(", ")})`
}

const agentKeys = [...Object.keys(AgentSpec.AgentSpec.fields), ...Object.keys(LegacySpec.LegacySpec.fields)].filter(
  (key, i, all) => all.indexOf(key) === i
)

/** Reads `instructionsFile` (relative to the spec's file) into `instructions`. */
const resolveInstructions = (
  spec: AgentSpec.AgentSpec,
  prepared: Prepared,
  prefix: ReadonlyArray<PropertyKey>,
  session: Problems.Session
): Effect.Effect<Problems.Outcome<AgentSpec.AgentSpec>, never, Requirements> =>
  Effect.gen(function* () {
    if (spec.instructionsFile === undefined) return { value: spec, problems: [], notices: [] }
    const path = yield* Path.Path
    const target = path.isAbsolute(spec.instructionsFile)
      ? spec.instructionsFile
      : path.join(path.dirname(prepared.file), spec.instructionsFile)
    const at = { file: prepared.file, ...Document.locate(prepared.parsed, [...prefix, "instructionsFile"]) }
    const read = yield* readReferenced(target, "instructionsFile", at, session)
    if (Result.isFailure(read)) return Problems.failed([read.failure])
    return { value: { ...spec, instructions: read.success }, problems: [], notices: [] }
  })

const fromCause = (
  cause: Cause.Cause<Schema.SchemaError>,
  prepared: Prepared,
  data: unknown,
  prefix: ReadonlyArray<PropertyKey>
): ReadonlyArray<Problems.Problem> => {
  const quote = Problems.quoter(prepared.parsed, prefix)
  return cause.reasons.flatMap((r) =>
    r._tag === "Fail"
      ? Issues.flatten(r.error.issue, quote).map((found) =>
          Problems.schemaError(
            prepared.parsed,
            prepared.file,
            [...prefix, ...found.path],
            found.atKey,
            Problems.requote(found.message, data, found.path, quote)
          )
        )
      : []
  )
}

/** Decodes agent spec data found at `prefix` of a document: its root, or an inline team member. */
export const decodeSpec = (
  data: unknown,
  prepared: Prepared,
  prefix: ReadonlyArray<PropertyKey>,
  session: Problems.Session
): Effect.Effect<Problems.Outcome<AgentSpec.AgentSpec>, never, Requirements> => {
  const decoded = Schema.decodeUnknownExit(AgentSpec.AgentSpec, AgentSpec.parseOptions)(data)
  if (decoded._tag === "Success") return resolveInstructions(decoded.value, prepared, prefix, session)
  // The schema checks cross-field rules only once every field decodes; report them now too.
  const quote = Problems.quoter(prepared.parsed, prefix)
  const cross = AgentSpec.crossFieldIssues(data).map((issue) =>
    Problems.schemaError(
      prepared.parsed,
      prepared.file,
      [...prefix, ...issue.path],
      issue.atKey,
      Problems.requote(issue.message, data, issue.path, quote)
    )
  )
  return Effect.succeed(Problems.failed([...fromCause(decoded.cause, prepared, data, prefix), ...cross]))
}

/**
 * Maps a legacy spec onto an agent spec. Should the mapping ever yield an invalid spec, each problem is reported
 * at the legacy key it came from.
 */
const decodeLegacy = (prepared: Prepared): Problems.Outcome<AgentSpec.AgentSpec> => {
  const { parsed, file, data } = prepared
  const legacy = Schema.decodeUnknownExit(LegacySpec.LegacySpec, AgentSpec.parseOptions)(data)
  if (legacy._tag === "Failure") return Problems.failed(fromCause(legacy.cause, prepared, data, []))
  const name = Excerpt.quote(LegacySpec.kebabName(legacy.value.name), Document.writtenAt(parsed, ["name"]))
  const notice = {
    file,
    ...Document.locate(parsed, ["ai_provider"], true),
    message: LegacySpec.notice(legacy.value, name)
  }
  const input = LegacySpec.toAgentSpecInput(legacy.value)
  const mapped = Schema.decodeUnknownExit(AgentSpec.AgentSpec, AgentSpec.parseOptions)(input)
  if (mapped._tag === "Success") return { value: mapped.value, problems: [], notices: [notice] }
  // Paths of the mapped spec are not paths of the document: quote values without looking for them there.
  const found = [
    ...mapped.cause.reasons.flatMap((r) => (r._tag === "Fail" ? Issues.flatten(r.error.issue) : [])),
    ...AgentSpec.crossFieldIssues(input)
  ]
  const problems = found.map((issue) =>
    Problems.schemaError(
      parsed,
      file,
      [LegacySpec.sourceKey(legacy.value, issue.path)],
      false,
      `The legacy spec does not map onto a valid agent spec: ${issue.path.map(String).join(".")}: ${issue.message}`
    )
  )
  return Problems.failed(
    problems.length > 0
      ? problems
      : [
          Problems.schemaError(
            parsed,
            file,
            ["ai_provider"],
            true,
            "The legacy spec does not map onto a valid agent spec"
          )
        ],
    [notice]
  )
}

/** Decodes a whole prepared document as an agent spec, in the full or the legacy format. */
export const decodeAgent = (
  prepared: Prepared,
  session: Problems.Session
): Effect.Effect<Problems.Outcome<AgentSpec.AgentSpec>, never, Requirements> =>
  Effect.gen(function* () {
    if (prepared.data === undefined && prepared.problems.length > 0) return Problems.failed(prepared.problems)
    if (!Predicate.isObject(prepared.data)) {
      const message = `Expected an agent spec (a map of keys such as name, persona, tools), but ${describe(prepared.data)}`
      return Problems.failed([
        ...prepared.problems,
        Problems.schemaError(prepared.parsed, prepared.file, [], false, message)
      ])
    }
    const foreign = notASpec(prepared.data, agentKeys, "an agent spec")
    if (foreign !== undefined) {
      return Problems.failed([
        ...prepared.problems,
        Problems.schemaError(prepared.parsed, prepared.file, [], false, foreign)
      ])
    }
    const outcome = LegacySpec.isLegacy(Document.rootKeys(prepared.parsed))
      ? decodeLegacy(prepared)
      : yield* decodeSpec(prepared.data, prepared, [], session)
    return { ...outcome, problems: [...prepared.problems, ...outcome.problems] }
  })
