/**
 * Plain JSON for the audit trail: any value made JSON (with every string passed through a redactor on the way),
 * and the canonical JSON text the hash chain is computed over.
 */
import { createHash } from "node:crypto"
import type * as Schema from "effect/Schema"

/**
 * Deeper values are cut: canonical JSON and the redactor recurse, and a hostile value (or file) nested a hundred
 * thousand levels deep would otherwise overflow the stack.
 */
export const maxDepth = 256

/** The text that replaces a value nested deeper than {@link maxDepth}. */
export const tooDeep = "[nested too deep]"

/** The text that replaces a reference back to an enclosing object. */
export const circular = "[circular]"

/**
 * `value` as plain JSON, following `JSON.stringify` where it is defined (`toJSON`, dropped `undefined` and
 * functions, `null` for non-finite numbers) and total where it is not: bigints become decimal strings, cycles and
 * over-deep values become markers, errors keep `name` and `message`, maps become `[key, value]` pairs and sets
 * arrays. Every string, object keys included, goes through `redact`.
 *
 * Gotcha: a `toJSON` that throws is the caller's to catch (the service wraps this in `Effect.try`).
 */
export const toJson = (value: unknown, redact: (text: string) => string): Schema.Json => {
  const ancestors = new Set<object>()
  const go = (value: unknown, depth: number): Schema.Json | undefined => {
    switch (typeof value) {
      case "string":
        return redact(value)
      case "number":
        return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null
      case "boolean":
        return value
      case "bigint":
        return value.toString()
      case "undefined":
      case "function":
      case "symbol":
        return undefined
    }
    if (value === null) return null
    if (depth >= maxDepth) return tooDeep
    const object = value as object
    if (ancestors.has(object)) return circular
    if (typeof (object as { toJSON?: unknown }).toJSON === "function") {
      return go((object as { toJSON: () => unknown }).toJSON(), depth + 1)
    }
    ancestors.add(object)
    const out = Array.isArray(object)
      ? object.map((item) => go(item, depth + 1) ?? null)
      : object instanceof Map
        ? Array.from(object, ([k, v]) => [go(k, depth + 2) ?? null, go(v, depth + 2) ?? null])
        : object instanceof Set
          ? Array.from(object, (item) => go(item, depth + 1) ?? null)
          : fields(object, depth)
    ancestors.delete(object)
    return out
  }
  const fields = (object: object, depth: number): Schema.Json => {
    const entries: Array<[string, Schema.Json]> = []
    // `message` and `name` are not own enumerable properties of an Error, and are what a reader needs.
    if (object instanceof Error) {
      entries.push(["name", redact(object.name)], ["message", redact(object.message)])
    }
    for (const [key, item] of Object.entries(object)) {
      const json = go(item, depth + 1)
      if (json !== undefined) entries.push([redact(key), json])
    }
    // fromEntries defines own properties, so a `__proto__` key stays a key instead of setting the prototype.
    return Object.fromEntries(entries)
  }
  return go(value, 0) ?? null
}

/**
 * The canonical JSON text of a JSON value: object keys sorted by UTF-16 code units, no whitespace, strings and
 * numbers written as `JSON.stringify` writes them. For JSON values this is RFC 8785 (JCS).
 *
 * Returns `undefined` when the value is nested deeper than {@link maxDepth} (only a hand-made file can be).
 */
export const canonical = (value: Schema.Json): string | undefined => {
  let tooDeepFound = false
  const go = (value: Schema.Json, depth: number): string => {
    if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
    if (depth >= maxDepth) {
      tooDeepFound = true
      return ""
    }
    if (Array.isArray(value)) return `[${value.map((item) => go(item, depth + 1)).join(",")}]`
    const record = value as Schema.JsonObject
    const keys = Object.keys(record).sort()
    return `{${keys.map((key) => `${JSON.stringify(key)}:${go(record[key]!, depth + 1)}`).join(",")}}`
  }
  const text = go(value, 0)
  return tooDeepFound ? undefined : text
}

/** The fields of an entry but its data and hash. */
export interface Envelope {
  readonly seq: number
  readonly time: string
  readonly runId: string
  readonly agent: string
  readonly type: string
  readonly prevHash: string
}

/**
 * The SHA-256 (lowercase hex) of the canonical JSON of an entry without its hash, given the canonical JSON of its
 * data. The keys are written in their sorted order, so this is `canonical` of the whole object, built without
 * serialising the data twice.
 */
export const entryHash = (envelope: Envelope, data: string): string =>
  createHash("sha256")
    .update(
      `{"agent":${JSON.stringify(envelope.agent)},"data":${data},"prevHash":${JSON.stringify(envelope.prevHash)},` +
        `"runId":${JSON.stringify(envelope.runId)},"seq":${envelope.seq},"time":${JSON.stringify(envelope.time)},` +
        `"type":${JSON.stringify(envelope.type)}}`,
      "utf8"
    )
    .digest("hex")

/** The line written to the file: the fields in reading order, the data canonical, and a newline. */
export const line = (envelope: Envelope, data: string, hash: string): string =>
  `{"seq":${envelope.seq},"time":${JSON.stringify(envelope.time)},"runId":${JSON.stringify(envelope.runId)},` +
  `"agent":${JSON.stringify(envelope.agent)},"type":${JSON.stringify(envelope.type)},"data":${data},` +
  `"prevHash":${JSON.stringify(envelope.prevHash)},"hash":"${hash}"}\n`
