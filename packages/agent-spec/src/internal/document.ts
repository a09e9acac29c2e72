/**
 * The YAML side of loading: parse with positions, interpolate `${VAR}`, turn a schema issue's path back into a
 * line and column of the source.
 */
import * as Effect from "effect/Effect"
import * as YAML from "yaml"

/** A 1-based line and column. */
export interface Position {
  readonly line: number
  readonly col: number
}

/** A parsed YAML document with what is needed to position problems in it. */
export interface Parsed {
  readonly source: string
  readonly doc: YAML.Document.Parsed
  /** The offset at which each line starts. */
  readonly lineStarts: ReadonlyArray<number>
}

/** A syntax problem found while parsing. */
export interface SyntaxProblem extends Position {
  readonly message: string
}

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

/** Parses YAML, keeping every syntax error (and warning-free: warnings are not problems). */
export const parse = (source: string): { readonly parsed: Parsed; readonly problems: ReadonlyArray<SyntaxProblem> } => {
  const doc = YAML.parseDocument(source, { prettyErrors: true, uniqueKeys: true })
  const parsed: Parsed = { source, doc, lineStarts: lineStartsOf(source) }
  const problems = doc.errors.map((error) => {
    // prettyErrors appends " at line L, column C:" and a source excerpt; the position is computed here instead,
    // because the parser's own line counter misses line breaks inside tokens it skips while recovering.
    const cut = error.message.search(/ at line \d+, column \d+/)
    const message = (cut >= 0 ? error.message.slice(0, cut) : error.message).trim()
    return { ...positionAt(parsed, error.pos[0]), message: message.length > 0 ? message : error.code }
  })
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
      return { ...at, message: error instanceof Error ? error.message : String(error) }
    }
  })

/** The root mapping's keys, or an empty list when the document is not a mapping. */
export const rootKeys = (parsed: Parsed): ReadonlyArray<string> => {
  const root = parsed.doc.contents
  if (!YAML.isMap(root)) return []
  return root.items.flatMap((pair) => (YAML.isScalar(pair.key) ? [String(pair.key.value)] : []))
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
    const segment = path[i]
    const last = i === path.length - 1
    if (YAML.isMap(node)) {
      const pair = node.items.find((p) => YAML.isScalar(p.key) && String(p.key.value) === String(segment))
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

/** A `${VAR}` whose variable is not set. */
export interface MissingVariable extends Position {
  readonly variable: string
}

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) in every string value with the variable's value; `$${` stays a
 * literal `${`. Keys are left alone. A plain (unquoted) scalar that was only references is re-read as YAML, so
 * `maxSteps: ${STEPS}` becomes a number. Returns the variables that are not set, positioned at their `${`.
 */
export const interpolate = <E, R>(
  parsed: Parsed,
  lookup: (name: string) => Effect.Effect<string | undefined, E, R>
): Effect.Effect<ReadonlyArray<MissingVariable>, E, R> =>
  Effect.gen(function* () {
    const scalars: Array<YAML.Scalar> = []
    YAML.visit(parsed.doc, {
      Scalar: (key, node) => {
        if (key !== "key" && typeof node.value === "string" && node.value.includes("$")) scalars.push(node)
      }
    })
    if (scalars.length === 0) return []
    const names = new Set<string>()
    for (const scalar of scalars) {
      for (const match of (scalar.value as string).matchAll(reference)) if (match[1] !== undefined) names.add(match[1])
    }
    const values = new Map<string, string | undefined>()
    for (const name of names) values.set(name, yield* lookup(name))
    const missing: Array<MissingVariable> = []
    for (const scalar of scalars) {
      const text = scalar.value as string
      const start = scalar.range?.[0] ?? 0
      // The value has lost quotes, escapes and indentation, so offsets in it are not offsets in the source; the
      // source text of the scalar holds the same references (and `$${` escapes) in the same order.
      const written = [...parsed.source.slice(start, scalar.range?.[1] ?? start).matchAll(reference)]
      let index = 0
      const replaced = text.replace(reference, (whole, name: string | undefined, fallback: string | undefined) => {
        const source = written[index++]
        if (name === undefined) return "${"
        const value = values.get(name)
        if (value !== undefined && value !== "") return value
        if (fallback !== undefined) return fallback
        if (value !== undefined) return value
        const at = source !== undefined && source[0] === whole ? start + source.index : start
        missing.push({ ...positionAt(parsed, at), variable: name })
        return whole
      })
      if (replaced === text) continue
      if (scalar.type === "PLAIN") {
        const reread = YAML.parseDocument(replaced).contents
        scalar.value = YAML.isScalar(reread) ? reread.value : replaced
      } else {
        scalar.value = replaced
      }
    }
    return missing
  })
