/**
 * Problems while they are collected, and the one place they become a `SpecInvalid`: deduplicated, in source order,
 * at most `SpecError.maxReportedProblems` of them, each message cleaned with everything substituted during the load.
 *
 * A problem stays a plain record until then, so a file with a million wrong items costs a million small records
 * and fifty error objects.
 */
import * as Effect from "effect/Effect"
import type * as Result from "effect/Result"
import * as SpecError from "../SpecError.ts"
import * as Document from "./document.ts"
import * as Excerpt from "./excerpt.ts"
import type * as Issues from "./issues.ts"
import type * as ReadFile from "./readFile.ts"

interface At {
  readonly file: string
  readonly line: number
  readonly col: number
  readonly message: string
}

/** A problem not yet made into its `SpecError` class. */
export type Problem =
  | (At & { readonly _tag: "SpecSyntaxError" })
  | (At & { readonly _tag: "SpecSchemaError"; readonly path: ReadonlyArray<PropertyKey> })
  | (At & { readonly _tag: "SpecEnvError"; readonly variable: string })
  | (At & { readonly _tag: "SpecFileError"; readonly reason: SpecError.FileProblem })

/** A notice not yet made into a `SpecNotice`. */
export type Notice = At

/** What decoding a document (or a part of one) produced: a value when it is valid, and what to tell the author. */
export interface Outcome<A> {
  readonly value: A | undefined
  readonly problems: ReadonlyArray<Problem>
  readonly notices: ReadonlyArray<Notice>
}

/** The state of one load, shared by every file it reads. */
export interface Session {
  /** The largest file read, in bytes. */
  readonly maxFileBytes: number
  /** Every environment value substituted into any document of this load. */
  readonly substitutions: Array<Excerpt.Substitution>
  /**
   * Each file referred to, read once per load: a team file of half a megabyte can name the same large member or
   * `instructionsFile` tens of thousands of times.
   */
  readonly reads: Map<string, Result.Result<string, ReadFile.ReadFailure>>
}

/** A failed outcome. */
export const failed = <A>(problems: ReadonlyArray<Problem>, notices: ReadonlyArray<Notice> = []): Outcome<A> => ({
  value: undefined,
  problems,
  notices
})

/** A schema problem at `path` of a document, positioned at its value or, with `atKey`, its key. */
export const schemaError = (
  parsed: Document.Parsed,
  file: string,
  path: ReadonlyArray<PropertyKey>,
  atKey: boolean,
  message: string
): Problem => ({ _tag: "SpecSchemaError", file, ...Document.locate(parsed, path, atKey), message, path })

/** Renders values found at paths below `prefix` of a document, naming substituted ones by their `${VAR}`. */
export const quoter =
  (parsed: Document.Parsed, prefix: ReadonlyArray<PropertyKey>): Issues.Quote =>
  (value, path) =>
    Excerpt.quote(value, Document.writtenAt(parsed, prefix.length === 0 ? path : [...prefix, ...path]))

const valueAt = (data: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let value = data
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined
    value = (value as Record<PropertyKey, unknown>)[segment]
  }
  return value
}

/**
 * Puts the value at `path` (and the key ending it) through `quote` wherever a message made elsewhere quotes it
 * raw as `"value"`: the cross-field rules of the agent spec write the names they complain about that way.
 */
export const requote = (
  message: string,
  data: unknown,
  path: ReadonlyArray<PropertyKey>,
  quote: Issues.Quote
): string => {
  let out = message
  const value = valueAt(data, path)
  if (typeof value === "string" && value !== "" && out.includes(`"${value}"`)) {
    out = out.split(`"${value}"`).join(quote(value, path))
  }
  const key = path[path.length - 1]
  if (typeof key === "string" && key !== "" && key !== value && out.includes(`"${key}"`)) {
    out = out.split(`"${key}"`).join(Excerpt.literal(key))
  }
  return out
}

const byPosition = (a: Problem, b: Problem) =>
  a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1

const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((segment) => Excerpt.clip(Excerpt.oneLine(String(segment)), Excerpt.maxQuoted)).join(".")

const make = (problem: Problem, substitutions: ReadonlyArray<Excerpt.Substitution>): SpecError.SpecProblem => {
  const fields = {
    file: problem.file,
    line: problem.line,
    col: problem.col,
    message: Excerpt.message(problem.message, substitutions)
  }
  switch (problem._tag) {
    case "SpecSyntaxError":
      return new SpecError.SpecSyntaxError(fields)
    case "SpecSchemaError":
      return new SpecError.SpecSchemaError({ ...fields, path: pathText(problem.path) })
    case "SpecEnvError":
      return new SpecError.SpecEnvError({ ...fields, variable: problem.variable })
    case "SpecFileError":
      return new SpecError.SpecFileError({ ...fields, reason: problem.reason })
  }
}

/** Every problem of a load as one `SpecInvalid`: unique, in source order, the first few kept and the rest counted. */
export const invalid = (file: string, problems: ReadonlyArray<Problem>, session: Session): SpecError.SpecInvalid => {
  const seen = new Set<string>()
  const unique = problems.filter((p) => {
    const key = `${p.file}\u0000${p.line}:${p.col}\u0000${p.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  if (unique.length === 0) {
    unique.push({ _tag: "SpecSchemaError", file, line: 1, col: 1, message: "Invalid spec", path: [] })
  }
  const kept = unique.toSorted(byPosition).slice(0, SpecError.maxReportedProblems)
  return new SpecError.SpecInvalid({
    file,
    errors: kept.map((p) => make(p, session.substitutions)),
    omitted: unique.length - kept.length
  })
}

/** The notices of a load, messages cleaned like those of problems. */
export const notices = (found: ReadonlyArray<Notice>, session: Session): ReadonlyArray<SpecError.SpecNotice> =>
  found.map((n) => new SpecError.SpecNotice({ ...n, message: Excerpt.message(n.message, session.substitutions) }))

/** Fails with every problem of the outcome, or succeeds with what `onValid` makes of its value. */
export const finish = <A, B>(
  file: string,
  outcome: Outcome<A>,
  session: Session,
  onValid: (value: A) => B
): Effect.Effect<B, SpecError.SpecInvalid> =>
  outcome.problems.length > 0 || outcome.value === undefined
    ? Effect.fail(invalid(file, outcome.problems, session))
    : Effect.succeed(onValid(outcome.value))
