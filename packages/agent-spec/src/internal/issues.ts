/**
 * Flattens a schema issue tree into one problem per offending key or value, with messages written for people:
 * unknown keys and unknown names get a "did you mean" suggestion.
 */
import * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Suggest from "./suggest.ts"

/** One problem of a decode: where (a document path), what, and whether it is about the key rather than the value. */
export interface Found {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
  readonly atKey: boolean
}

/** Annotation a filter puts on an issue to say that it is about a key (e.g. an unknown name used as a map key). */
export const atKeyAnnotation = "troupe.atKey"

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

const stringLiterals = (ast: SchemaAST.AST): ReadonlyArray<string> => {
  if (SchemaAST.isLiteral(ast)) return typeof ast.literal === "string" ? [ast.literal] : []
  if (SchemaAST.isUnion(ast)) return ast.types.flatMap(stringLiterals)
  return []
}

const show = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "a list"
  if (typeof value === "object") return "a map"
  const text = typeof value === "string" ? JSON.stringify(value) : String(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

const inputOf = (issue: SchemaIssue.Issue): { readonly value: unknown } | undefined =>
  SchemaIssue.hasInput(issue) ? { value: issue.input } : undefined

const knownKeys = (ast: SchemaAST.AST): ReadonlyArray<string> =>
  SchemaAST.isObjects(ast) ? ast.propertySignatures.map((p) => String(p.name)) : []

const leaf = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>, override: string | undefined): Found => {
  const last = path.length > 0 ? String(path[path.length - 1]) : ""
  switch (issue._tag) {
    case "UnexpectedKey": {
      const keys = knownKeys(issue.ast)
      const hint = Suggest.didYouMean(last, keys)
      return {
        path,
        atKey: true,
        message: `Unknown key "${last}"${hint}${hint === "" && keys.length > 0 ? `; known keys: ${keys.join(", ")}` : ""}`
      }
    }
    case "MissingKey":
      return { path, atKey: true, message: override ?? `Missing required key "${last}"` }
    case "InvalidValue":
      return {
        path,
        atKey: issue.annotations?.[atKeyAnnotation] === true,
        message: override ?? standard(issue).issues[0]?.message ?? "Invalid value"
      }
    case "AnyOf":
    case "InvalidType": {
      const literals = stringLiterals(issue.ast)
      const input = inputOf(issue)
      if (override === undefined && literals.length > 0 && input !== undefined) {
        const got = input.value
        if (typeof got === "string") {
          return {
            path,
            atKey: false,
            message: `Unknown value "${got}"${Suggest.didYouMean(got, literals)}; expected one of ${literals.join(", ")}`
          }
        }
        return { path, atKey: false, message: `Expected one of ${literals.join(", ")}, got ${show(got)}` }
      }
      // A type's own `expected` annotation (kept beside its checks) names what a value should look like.
      const expected = issue.ast.annotations?.expected
      const message =
        override ??
        (typeof expected === "string" ? `Expected ${expected}` : undefined) ??
        standard(issue).issues[0]?.message ??
        "Invalid value"
      return {
        path,
        atKey: false,
        message: input === undefined || message.includes(", got ") ? message : `${message}, got ${show(input.value)}`
      }
    }
    default:
      return { path, atKey: false, message: override ?? standard(issue).issues[0]?.message ?? "Invalid value" }
  }
}

const filterMessage = (issue: SchemaIssue.Filter): string | undefined => {
  const message = SchemaIssue.defaultCheckHook(issue)
  if (message !== undefined || issue.issue._tag !== "InvalidValue") return message
  const expected = issue.filter.annotations?.expected
  const input = inputOf(issue) ?? inputOf(issue.issue)
  if (typeof expected !== "string") return undefined
  return input === undefined ? `Expected ${expected}` : `Expected ${expected}, got ${show(input.value)}`
}

const walk = (
  issue: SchemaIssue.Issue,
  path: ReadonlyArray<PropertyKey>,
  override: string | undefined
): Array<Found> => {
  switch (issue._tag) {
    case "Filter":
      return walk(issue.issue, path, override ?? filterMessage(issue))
    case "Encoding":
      return walk(issue.issue, path, override)
    case "Pointer":
      return walk(issue.issue, [...path, ...issue.path], override)
    case "Composite":
      return issue.issues.flatMap((inner) => walk(inner, path, override))
    case "AnyOf":
      return issue.issues.length > 0
        ? issue.issues.flatMap((inner) => walk(inner, path, override))
        : [leaf(issue, path, override)]
    default:
      return [leaf(issue, path, override)]
  }
}

/** Every problem of an issue tree, at its document path. */
export const flatten = (issue: SchemaIssue.Issue): ReadonlyArray<Found> => walk(issue, [], undefined)
