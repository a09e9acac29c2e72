/**
 * The typed failures of loading a spec, each pointing at a file, line and column, and the aggregate that carries
 * every one of them at once.
 *
 * Loading never stops at the first problem: a file with a syntax error, three schema errors and a missing
 * environment variable yields one `SpecInvalid` holding all five, in source order.
 */
import * as Schema from "effect/Schema"

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
 * A file could not be read: the spec itself (reported at 1:1), or a file it refers to (`instructionsFile`, a team
 * member), reported at the reference.
 */
export class SpecFileError extends Schema.TaggedError<SpecFileError>()("SpecFileError", position) {}

/** One positioned problem of any kind. */
export type SpecProblem = SpecSyntaxError | SpecSchemaError | SpecEnvError | SpecFileError

/** The schema of {@link SpecProblem}, for persisting or sending problems. */
export const SpecProblem = Schema.Union([SpecSyntaxError, SpecSchemaError, SpecEnvError, SpecFileError])

/** Renders a problem as `FILE:LINE:COL: message`, the form editors and terminals link to. */
export const format = (problem: {
  readonly file: string
  readonly line: number
  readonly col: number
  readonly message: string
}): string => `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`

/**
 * A spec is invalid: `errors` holds every problem found, in source order (never empty).
 *
 * `message` is every problem formatted with {@link format}, one per line.
 */
export class SpecInvalid extends Schema.TaggedError<SpecInvalid>()("SpecInvalid", {
  /** The file that was loaded. */
  file: Schema.String,
  /** Every problem found, in source order. */
  errors: Schema.Array(SpecProblem)
}) {
  override get message(): string {
    return this.errors.map(format).join("\n")
  }
}

/**
 * Something worth telling the author that does not stop the spec from loading, such as the legacy six-field format
 * being used. Returned beside the spec, never logged.
 */
export class SpecNotice extends Schema.Class<SpecNotice>("@troupe/agent-spec/SpecNotice")(position) {}
