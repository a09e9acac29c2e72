/**
 * How text read from a file reaches a person: values quoted as short excerpts, control characters escaped, and
 * values that came from the environment named by their variable instead of shown.
 *
 * Every message the loader builds from input goes through here, because a spec path can name any file
 * (`/proc/self/environ`, a `.env`) and a `${VAR}` can hold an API key: an error must never echo either.
 */

/** A `${VAR}` that was replaced by the value of an environment variable while loading. */
export interface Substitution {
  readonly variable: string
  readonly value: string
}

/** Longest string value quoted whole, in characters. */
export const maxQuoted = 40

/** How many characters of a longer value are shown before it is elided. */
const elidedPrefix = 20

/** Longest message, in characters, once quoted values are in it. */
export const maxMessage = 1_000

/**
 * Environment values shorter than this are not searched for in finished messages: they are not secrets worth the
 * noise of `got -${STEPS}`, and values at known places are already named by their variable (see {@link quote}).
 */
const minRedacted = 4

// C0 controls but tab and newline, DEL, C1 controls (CSI, OSC, ... as one byte), and the bidirectional overrides
// that make a terminal show text in another order than it is written.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu

// The same, plus tab and newline: text kept on one line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const lineBreaking = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu

// The same, plus what a quoted value escapes: the quote and the backslash.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const quoted = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"\\]/gu

const named: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\" }

const escapeChar = (char: string): string => {
  const known = named[char]
  if (known !== undefined) return known
  const code = char.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/** Escapes the control characters of `text` (all but tab and newline), so it is safe to print on a terminal. */
export const sanitize = (text: string): string => text.replace(control, escapeChar)

/** Escapes every control character of `text`, tab and newline included, so that it prints as one line. */
export const oneLine = (text: string): string => text.replace(lineBreaking, escapeChar)

/** Cuts `text` to `max` characters with `… (N characters)`, never splitting a surrogate pair. */
export const clip = (text: string, max: number): string => {
  if (text.length <= max) return text
  return `${prefix(text, max)}… (${text.length} characters)`
}

const prefix = (text: string, length: number): string => {
  const cut = text.slice(0, length)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

/** A string as a one-line quoted excerpt: `"abc"`, or `"first twenty chars…" (812 characters)`. */
export const literal = (text: string): string =>
  text.length <= maxQuoted
    ? `"${text.replace(quoted, escapeChar)}"`
    : `"${prefix(text, elidedPrefix).replace(quoted, escapeChar)}…" (${text.length} characters)`

const singleReference = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/u

/**
 * A value as a short, safe excerpt for a message: strings quoted and elided, lists and maps by their kind.
 *
 * `written` is the value's text as written in the file when `${VAR}` references in it were replaced: the excerpt
 * then shows the references (`${OPENAI_API_KEY}`, or `"https://${HOST}/v1"`), never what they were replaced by.
 */
export const quote = (value: unknown, written?: string): string => {
  if (written !== undefined)
    return singleReference.test(written) ? clip(sanitize(written), maxQuoted) : literal(written)
  if (typeof value === "string") return literal(value)
  if (value === null) return "null"
  if (value === undefined) return "nothing"
  if (Array.isArray(value)) return "a list"
  if (typeof value === "object") return "a map"
  return clip(sanitize(String(value)), maxQuoted)
}

/** A file path for a message: one line, and at most a few hundred characters. */
export const path = (text: string): string => clip(oneLine(text), 256)

/**
 * Replaces every environment value substituted while loading by its `${VAR}`. A backstop for messages made from
 * values whose origin is not known where the message is built (a member's name in a team problem, say).
 */
export const redact = (text: string, substitutions: ReadonlyArray<Substitution>): string => {
  let out = text
  const longestFirst = substitutions
    .filter((s) => s.value.length >= minRedacted)
    .toSorted((a, b) => b.value.length - a.value.length)
  for (const { variable, value } of longestFirst) {
    if (out.includes(value)) out = out.split(value).join(`\${${variable}}`)
  }
  return out
}

/** A finished message: environment values named by their variable, control characters escaped, length bounded. */
export const message = (text: string, substitutions: ReadonlyArray<Substitution>): string =>
  clip(sanitize(redact(text, substitutions)), maxMessage)
