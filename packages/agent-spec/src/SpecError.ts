/**
 * The typed failures of loading a spec, each pointing at a file, line and column, and the aggregate that carries
 * them at once.
 *
 * Loading never stops at the first problem: a file with a syntax error, three schema errors and a missing
 * environment variable yields one `SpecInvalid` holding all five, in source order. Messages are safe to print:
 * values are quoted as short excerpts with control characters escaped, and a value that came from a `${VAR}` is
 * shown as `${VAR}`, never as what the variable holds.
 */
import * as Schema from "effect/Schema"
import * as Excerpt from "./internal/excerpt.ts"

const position = {
  /** The file the problem is in, as it was given to the loader. */
  file: Schema.String,
  /** 1-based line of the offending key or value. */
  line: Schema.Int,
  /** 1-based column of the offending key or value. */
  col: Schema.Int,
  /** What is wrong, meant for a person. */
  message: Schema.String
}

/** The YAML itself does not parse (bad indentation, unclosed bracket, duplicate key, ...). */
export class SpecSyntaxError extends Schema.TaggedError<SpecSyntaxError>()("SpecSyntaxError", position) {}

/** The YAML parses but does not describe a valid spec (wrong type, unknown key, missing field, ...). */
export class SpecSchemaError extends Schema.TaggedError<SpecSchemaError>()("SpecSchemaError", {
  ...position,
  /** The offending key's path in the document, dot-separated (`limits.maxSteps`, `tools.2.shell_run`). */
  path: Schema.String
}) {}

/** A `${VAR}` in a string names an environment variable that is not set. */
export class SpecEnvError extends Schema.TaggedError<SpecEnvError>()("SpecEnvError", {
  ...position,
  /** The missing variable's name. */
  variable: Schema.String
}) {}

/**
 * Why a file could not be read: it does not exist, it is not a regular file (a directory, a FIFO, a device, ...:
 * the loader never opens one), it is larger than the loader's limit (`SpecLoader.maxFileBytes`), or the system
 * refused (permissions, I/O).
 */
export const FileProblem = Schema.Literals(["NotFound", "NotRegularFile", "TooLarge", "Unreadable"])

/** Why a file could not be read. */
export type FileProblem = typeof FileProblem.Type

/**
 * A file could not be read: the spec itself (reported at 1:1), or a file it refers to (`instructionsFile`, a team
 * member), reported at the reference.
 */
export class SpecFileError extends Schema.TaggedError<SpecFileError>()("SpecFileError", {
  ...position,
  /** Why the file could not be read. */
  reason: FileProblem
}) {}

/** One positioned problem of any kind. */
export type SpecProblem = SpecSyntaxError | SpecSchemaError | SpecEnvError | SpecFileError

/** The schema of {@link SpecProblem}, for persisting or sending problems. */
export const SpecProblem = Schema.Union([SpecSyntaxError, SpecSchemaError, SpecEnvError, SpecFileError])

/**
 * Escapes every control character, tab and newline included (and the one-byte C1 forms of terminal escapes and
 * the bidirectional overrides), so that a name from a file or a command line prints safely on one line.
 */
export const printable = (text: string): string => Excerpt.oneLine(text)

/**
 * Renders a problem as `FILE:LINE:COL: message`, the form editors and terminals link to, on one line: control
 * characters, tab and newline are escaped (the file name comes from input too).
 */
export const format = (problem: {
  readonly file: string
  readonly line: number
  readonly col: number
  readonly message: string
}): string => `${printable(problem.file)}:${problem.line}:${problem.col}: ${printable(problem.message)}`

/** How many problems a {@link SpecInvalid} keeps; it counts the others in `omitted`. */
export const maxReportedProblems = 50

/**
 * A spec is invalid: `errors` holds the first {@link maxReportedProblems} problems found, in source order (never
 * empty), and `omitted` counts the rest, so that a file of a million wrong items is reported in a few lines.
 *
 * `message` is {@link lines} joined by newlines.
 */
export class SpecInvalid extends Schema.TaggedError<SpecInvalid>()("SpecInvalid", {
  /** The file that was loaded. */
  file: Schema.String,
  /** The first problems found, in source order. */
  errors: Schema.Array(SpecProblem),
  /** How many more problems were found than `errors` holds. */
  omitted: Schema.Int
}) {
  /** Every kept problem formatted with {@link format}, then `FILE: and N more problems` when some were omitted. */
  get lines(): ReadonlyArray<string> {
    const lines = this.errors.map(format)
    if (this.omitted > 0) {
      lines.push(`${printable(this.file)}: and ${this.omitted} more problem${this.omitted === 1 ? "" : "s"}`)
    }
    return lines
  }

  override get message(): string {
    return this.lines.join("\n")
  }
}

/**
 * Something worth telling the author that does not stop the spec from loading, such as the legacy six-field format
 * being used. Returned beside the spec, never logged.
 */
export class SpecNotice extends Schema.Class<SpecNotice>("@troupe/agent-spec/SpecNotice")(position) {}
