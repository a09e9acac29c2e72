/**
 * Flattens a schema issue tree into one problem per offending key or value, with messages written for people:
 * unknown keys and unknown names get a "did you mean" suggestion.
 *
 * Effect's own formatter appends the whole offending value (`got "…"`); every message here is built without it
 * and quotes the value through a {@link Quote} instead, so that it is short, free of control characters and never
 * the value of an environment variable.
 */
import * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Excerpt from "./excerpt.ts"
import * as Suggest from "./suggest.ts"

/** One problem of a decode: where (a document path), what, and whether it is about the key rather than the value. */
export interface Found {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
  readonly atKey: boolean
}

/** Renders the value found at a path of the decoded data for a message. */
export type Quote = (value: unknown, path: ReadonlyArray<PropertyKey>) => string

/** Annotation a filter puts on an issue to say that it is about a key (e.g. an unknown name used as a map key). */
export const atKeyAnnotation = "troupe.atKey"

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

const stringLiterals = (ast: SchemaAST.AST): ReadonlyArray<string> => {
  if (SchemaAST.isLiteral(ast)) return typeof ast.literal === "string" ? [ast.literal] : []
  if (SchemaAST.isUnion(ast)) return ast.types.flatMap(stringLiterals)
  return []
}

const inputOf = (issue: SchemaIssue.Issue): { readonly value: unknown } | undefined =>
  SchemaIssue.hasInput(issue) ? { value: issue.input } : undefined

const knownKeys = (ast: SchemaAST.AST): ReadonlyArray<string> =>
  SchemaAST.isObjects(ast) ? ast.propertySignatures.map((p) => String(p.name)) : []

/** What effect would say about a type mismatch, formatted from a copy of the issue that holds no input. */
const expectedType = (issue: SchemaIssue.InvalidType | SchemaIssue.AnyOf): string => {
  const bare =
    issue._tag === "InvalidType" ? new SchemaIssue.InvalidType(issue.ast) : new SchemaIssue.AnyOf(issue.ast, [])
  return standard(bare).issues[0]?.message ?? "Invalid value"
}

const got = (
  message: string,
  input: { readonly value: unknown } | undefined,
  quote: Quote,
  path: ReadonlyArray<PropertyKey>
) => (input === undefined ? message : `${message}, got ${quote(input.value, path)}`)

const leaf = (
  issue: SchemaIssue.Issue,
  path: ReadonlyArray<PropertyKey>,
  override: string | undefined,
  quote: Quote
): Found => {
  const last = path.length > 0 ? String(path[path.length - 1]) : ""
  switch (issue._tag) {
    case "UnexpectedKey": {
      const keys = knownKeys(issue.ast)
      const hint = Suggest.didYouMean(last, keys)
      return {
        path,
        atKey: true,
        message: `Unknown key ${Excerpt.literal(last)}${hint}${hint === "" && keys.length > 0 ? `; known keys: ${keys.join(", ")}` : ""}`
      }
    }
    case "MissingKey":
      return { path, atKey: true, message: override ?? `Missing required key ${Excerpt.literal(last)}` }
    case "InvalidValue": {
      const expected = issue.annotations?.expected
      return {
        path,
        atKey: issue.annotations?.[atKeyAnnotation] === true,
        message:
          override ??
          (typeof issue.annotations?.message === "string"
            ? issue.annotations.message
            : got(typeof expected === "string" ? `Expected ${expected}` : "Invalid value", inputOf(issue), quote, path))
      }
    }
    case "AnyOf":
    case "InvalidType": {
      const literals = stringLiterals(issue.ast)
      const input = inputOf(issue)
      if (override === undefined && literals.length > 0 && input !== undefined) {
        const value = input.value
        if (typeof value === "string") {
          return {
            path,
            atKey: false,
            message: `Unknown value ${quote(value, path)}${Suggest.didYouMean(value, literals)}; expected one of ${literals.join(", ")}`
          }
        }
        return { path, atKey: false, message: got(`Expected one of ${literals.join(", ")}`, input, quote, path) }
      }
      if (override !== undefined) return { path, atKey: false, message: override }
      // A type's own `expected` annotation (kept beside its checks) names what a value should look like.
      const expected = issue.ast.annotations?.expected
      const message = typeof expected === "string" ? `Expected ${expected}` : expectedType(issue)
      return { path, atKey: false, message: got(message, input, quote, path) }
    }
    default:
      return { path, atKey: false, message: override ?? "Invalid value" }
  }
}

const filterMessage = (
  issue: SchemaIssue.Filter,
  path: ReadonlyArray<PropertyKey>,
  quote: Quote
): string | undefined => {
  // A message given with the check is fixed text.
  const message = SchemaIssue.defaultCheckHook(issue)
  if (message !== undefined || issue.issue._tag !== "InvalidValue") return message
  const expected = issue.filter.annotations?.expected
  if (typeof expected !== "string") return undefined
  return got(`Expected ${expected}`, inputOf(issue) ?? inputOf(issue.issue), quote, path)
}

const walk = (
  issue: SchemaIssue.Issue,
  path: ReadonlyArray<PropertyKey>,
  override: string | undefined,
  quote: Quote
): Array<Found> => {
  switch (issue._tag) {
    case "Filter":
      return walk(issue.issue, path, override ?? filterMessage(issue, path, quote), quote)
    case "Encoding":
      return walk(issue.issue, path, override, quote)
    case "Pointer":
      return walk(issue.issue, [...path, ...issue.path], override, quote)
    case "Composite":
      return issue.issues.flatMap((inner) => walk(inner, path, override, quote))
    case "AnyOf":
      return issue.issues.length > 0
        ? issue.issues.flatMap((inner) => walk(inner, path, override, quote))
        : [leaf(issue, path, override, quote)]
    default:
      return [leaf(issue, path, override, quote)]
  }
}

/**
 * Every problem of an issue tree, at its document path. `quote` renders offending values; by default a short
 * excerpt of the value itself.
 */
export const flatten = (
  issue: SchemaIssue.Issue,
  quote: Quote = (value) => Excerpt.quote(value)
): ReadonlyArray<Found> => walk(issue, [], undefined, quote)
