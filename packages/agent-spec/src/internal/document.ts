/**
 * The YAML side of loading: parse with positions, interpolate `${VAR}`, turn a schema issue's path back into a
 * line and column of the source.
 *
 * Everything here is linear in the size of the document: duplicate keys are found with one set per map (the
 * parser's own check compares each key with every earlier one), each map is indexed by key the first time a path
 * goes through it, and a position is a binary search over the line starts.
 */
import * as Effect from "effect/Effect"
import * as YAML from "yaml"
import * as Excerpt from "./excerpt.ts"

/** A 1-based line and column. */
export interface Position {
  readonly line: number
  readonly col: number
}

/** A parsed YAML document with what is needed to position problems in it and to quote its values. */
export interface Parsed {
  readonly source: string
  readonly doc: YAML.Document.Parsed
  /** The offset at which each line starts. */
  readonly lineStarts: ReadonlyArray<number>
  /** The text as written of each scalar whose `${VAR}` references were replaced, so problems can show that. */
  readonly written: Map<YAML.Scalar, string>
  /** Every environment value substituted into this document. */
  readonly substitutions: Array<Excerpt.Substitution>
  /** The string values holding `${`, found while parsing. */
  readonly references: ReadonlyArray<YAML.Scalar>
}

/** A syntax problem found while parsing. */
export interface SyntaxProblem extends Position {
  readonly message: string
}

/**
 * Longest syntax message kept. The parser's messages are fixed text under 90 characters, some followed by the
 * offending token (`Unresolved tag: !…`), which must not carry a whole line of a file that is not a spec.
 */
const maxSyntaxMessage = 120

const clamp = (position: { line: number; col: number }): Position => ({
  line: Math.max(1, position.line),
  col: Math.max(1, position.col)
})

const lineStartsOf = (source: string): ReadonlyArray<number> => {
  const starts = [0]
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) starts.push(i + 1)
  return starts
}

/** The 1-based position of a character offset. */
export const positionAt = (parsed: Parsed, offset: number): Position => {
  const at = Math.max(0, Math.min(offset, parsed.source.length))
  // The last line starting at or before `at`.
  let low = 0
  let high = parsed.lineStarts.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (parsed.lineStarts[mid]! <= at) low = mid
    else high = mid - 1
  }
  return clamp({ line: low + 1, col: at - parsed.lineStarts[low]! + 1 })
}

/**
 * One walk of the tree: the start offsets of the second and later occurrences of a scalar key in the same map, and
 * the string values that may hold `${VAR}` references.
 */
const survey = (doc: YAML.Document.Parsed) => {
  const duplicates: Array<number> = []
  const references: Array<YAML.Scalar> = []
  YAML.visit(doc, {
    Map: (_, map) => {
      // The parser compares scalar keys by value (`1` and `0x1` collide, `1` and `'1'` do not); so does a Set.
      const seen = new Set<unknown>()
      for (const pair of map.items) {
        if (!YAML.isScalar(pair.key)) continue
        if (seen.has(pair.key.value)) duplicates.push(pair.key.range?.[0] ?? 0)
        else seen.add(pair.key.value)
      }
    },
    Scalar: (key, node) => {
      if (key !== "key" && typeof node.value === "string" && node.value.includes("${")) references.push(node)
    }
  })
  return { duplicates, references }
}

// What YAML 1.2 does not allow in a stream (§5.1, c-printable): C0 controls but tab, line feed and carriage return,
// DEL, C1 controls but NEL, and the two noncharacters U+FFFE and U+FFFF.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const unprintable = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/u

const codePoint = (char: string): string => `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`

/**
 * Parses YAML, keeping every syntax error (warnings are not problems).
 *
 * A text holding a character YAML does not allow is not parsed at all: it is one problem at that character. Such
 * text is a binary file, `/proc/self/environ` (variables separated by NUL), or a file carrying terminal escapes,
 * and nothing of it should reach a message.
 */
export const parse = (source: string): { readonly parsed: Parsed; readonly problems: ReadonlyArray<SyntaxProblem> } => {
  const bad = unprintable.exec(source)
  // Pretty errors would append the offending source line, which may be a line of a file that is not a spec.
  const doc = YAML.parseDocument(bad === null ? source : "", { uniqueKeys: false, prettyErrors: false })
  const { duplicates, references } = survey(doc)
  const parsed: Parsed = {
    source,
    doc,
    lineStarts: lineStartsOf(source),
    written: new Map(),
    substitutions: [],
    references
  }
  if (bad !== null) {
    const message = `Control character ${codePoint(bad[0])} is not allowed in YAML (write it as an escape in a double-quoted string); a file holding one is not a spec`
    return { parsed, problems: [{ ...positionAt(parsed, bad.index), message }] }
  }
  // The position is computed here rather than by the parser, whose line counter misses line breaks inside tokens
  // it skips while recovering.
  const problems = [
    ...doc.errors.map((error) => ({
      ...positionAt(parsed, error.pos[0]),
      message: Excerpt.clip(error.message.trim() || error.code, maxSyntaxMessage)
    })),
    ...duplicates.map((offset) => ({ ...positionAt(parsed, offset), message: "Map keys must be unique" }))
  ]
  return { parsed, problems }
}

/** The document as plain data; fails (instead of throwing) on things like an alias to nothing or alias bombs. */
export const toJS = (parsed: Parsed): Effect.Effect<unknown, SyntaxProblem> =>
  Effect.try({
    try: () => parsed.doc.toJS({ maxAliasCount: 100 }) as unknown,
    catch: (error) => {
      let at: Position = { line: 1, col: 1 }
      YAML.visit(parsed.doc, {
        Alias: (_, node) => {
          if (node.range !== undefined && node.range !== null) at = positionAt(parsed, node.range[0])
          return YAML.visit.BREAK
        }
      })
      return { ...at, message: Excerpt.clip(error instanceof Error ? error.message : String(error), maxSyntaxMessage) }
    }
  })

/** The root mapping's keys, or an empty list when the document is not a mapping. */
export const rootKeys = (parsed: Parsed): ReadonlyArray<string> => {
  const root = parsed.doc.contents
  if (!YAML.isMap(root)) return []
  return root.items.flatMap((pair) => (YAML.isScalar(pair.key) ? [String(pair.key.value)] : []))
}

// Built the first time a path goes through a map, so that locating n problems in a map of n keys is linear.
const indexes = new WeakMap<YAML.YAMLMap, Map<string, YAML.Pair>>()

const pairOf = (map: YAML.YAMLMap, key: PropertyKey): YAML.Pair | undefined => {
  let index = indexes.get(map)
  if (index === undefined) {
    index = new Map()
    for (const pair of map.items as Array<YAML.Pair>) {
      if (!YAML.isScalar(pair.key)) continue
      const name = String(pair.key.value)
      if (!index.has(name)) index.set(name, pair)
    }
    indexes.set(map, index)
  }
  return index.get(String(key))
}

/**
 * Where `path` is in the document: the value's start, or with `atKey` the start of its key. A path that does not
 * exist all the way (a missing key) points at the key of the deepest part that does, so the author sees where to
 * add it.
 */
export const locate = (parsed: Parsed, path: ReadonlyArray<PropertyKey>, atKey = false): Position => {
  let node: unknown = parsed.doc.contents
  let lastKeyStart: number | undefined
  let lastNodeStart: number | undefined = YAML.isNode(node) ? node.range?.[0] : undefined
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!
    const last = i === path.length - 1
    if (YAML.isMap(node)) {
      const pair = pairOf(node, segment)
      if (pair === undefined) break
      const keyStart = YAML.isNode(pair.key) ? pair.key.range?.[0] : undefined
      lastKeyStart = keyStart
      if (last && atKey && keyStart !== undefined) return positionAt(parsed, keyStart)
      node = pair.value
      const valueStart = YAML.isNode(node) ? node.range?.[0] : undefined
      lastNodeStart = valueStart ?? keyStart
    } else if (YAML.isSeq(node)) {
      const item = node.items[Number(segment)]
      if (item === undefined) break
      node = item
      lastKeyStart = undefined
      lastNodeStart = YAML.isNode(item) ? item.range?.[0] : lastNodeStart
    } else {
      break
    }
    if (last) return positionAt(parsed, lastNodeStart ?? 0)
  }
  if (path.length === 0) return positionAt(parsed, lastNodeStart ?? 0)
  return positionAt(parsed, lastKeyStart ?? lastNodeStart ?? 0)
}

/**
 * The text as written of the value at `path` when `${VAR}` references in it were replaced, following aliases;
 * `undefined` for any other value.
 */
export const writtenAt = (parsed: Parsed, path: ReadonlyArray<PropertyKey>): string | undefined => {
  if (parsed.written.size === 0) return undefined
  let node: unknown = parsed.doc.contents
  for (const segment of path) {
    if (YAML.isAlias(node)) node = node.resolve(parsed.doc)
    if (YAML.isMap(node)) node = pairOf(node, segment)?.value
    else if (YAML.isSeq(node)) node = node.items[Number(segment)]
    else return undefined
  }
  if (YAML.isAlias(node)) node = node.resolve(parsed.doc)
  return YAML.isScalar(node) ? parsed.written.get(node) : undefined
}

/** A `${VAR}` whose variable is not set. */
export interface MissingVariable extends Position {
  readonly variable: string
}

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) in every string value with the variable's value; `$${` stays a
 * literal `${`. Keys are left alone. A plain (unquoted) scalar that was only references is re-read as YAML, so
 * `maxSteps: ${STEPS}` becomes a number. Returns the variables that are not set, positioned at their `${`, and
 * records what was replaced in `parsed.written` and `parsed.substitutions`.
 */
export const interpolate = <E, R>(
  parsed: Parsed,
  lookup: (name: string) => Effect.Effect<string | undefined, E, R>
): Effect.Effect<ReadonlyArray<MissingVariable>, E, R> =>
  Effect.gen(function* () {
    const scalars = parsed.references
    if (scalars.length === 0) return []
    const names = new Set<string>()
    for (const scalar of scalars) {
      for (const match of (scalar.value as string).matchAll(reference)) if (match[1] !== undefined) names.add(match[1])
    }
    const values = new Map<string, string | undefined>()
    for (const name of names) values.set(name, yield* lookup(name))
    const used = new Set<string>()
    const missing: Array<MissingVariable> = []
    for (const scalar of scalars) {
      const text = scalar.value as string
      const start = scalar.range?.[0] ?? 0
      // The value has lost quotes, escapes and indentation, so offsets in it are not offsets in the source; the
      // source text of the scalar holds the same references (and `$${` escapes) in the same order.
      const written = [...parsed.source.slice(start, scalar.range?.[1] ?? start).matchAll(reference)]
      let index = 0
      let substituted = false
      const replaced = text.replace(reference, (whole, name: string | undefined, fallback: string | undefined) => {
        const source = written[index++]
        if (name === undefined) return "${"
        const value = values.get(name)
        if (value !== undefined && value !== "") {
          used.add(name)
          substituted = true
          return value
        }
        if (fallback !== undefined || value !== undefined) substituted = true
        if (fallback !== undefined) return fallback
        if (value !== undefined) return value
        const at = source !== undefined && source[0] === whole ? start + source.index : start
        missing.push({ ...positionAt(parsed, at), variable: name })
        return whole
      })
      if (replaced === text) continue
      if (substituted) parsed.written.set(scalar, text)
      if (scalar.type === "PLAIN") {
        const reread = YAML.parseDocument(replaced).contents
        scalar.value = YAML.isScalar(reread) ? reread.value : replaced
      } else {
        scalar.value = replaced
      }
    }
    for (const name of used) parsed.substitutions.push({ variable: name, value: values.get(name)! })
    return missing
  })
