/**
 * The lexical checks of a workspace path, before the file system is asked anything: characters that are refused,
 * and the split into segments. The symlink checks come after, in `Workspace.resolve`.
 */

// Characters people (and models) mistake for `/`, `\` and `.`, from Unicode's confusables and a few more.
// Compatibility normalization folds some of them to the ASCII character (U+FF0F to `/`), but not all (U+2215
// DIVISION SLASH stays itself), so both a list and the NFKC test below are needed.
const lookalikes = new Set([
  // slash
  0x2044, 0x2215, 0x2571, 0x27cb, 0x29f8, 0x3033, 0x31d3, 0x1735, 0x2cc6, 0xff0f, 0x0337, 0x0338, 0x20eb,
  // backslash
  0x2216, 0x27cd, 0x29f5, 0x29f9, 0x31d4, 0xfe68, 0xff3c,
  // dot
  0x00b7, 0x0387, 0x0660, 0x06d4, 0x06f0, 0x0701, 0x0702, 0x16eb, 0x2022, 0x2024, 0x2025, 0x2026, 0x2027, 0x2219,
  0x22c5, 0x2e31, 0x2e33, 0x3002, 0xa4f8, 0xa60e, 0xfe52, 0xff0e, 0xff61
])

// Control characters (C0, C1, DEL) and format characters (bidirectional overrides, zero-width joiners, BOM) that
// make a path display as something it is not.
const controls = /[\p{Cc}\p{Cf}]/u

const separatorsOrDots = /[./\\]/u

/**
 * Why `input` is refused before any file is looked at, or `undefined` when its characters are acceptable.
 * Refused: NUL and other control or invisible formatting characters, backslashes, absolute paths, and any
 * non-ASCII character that looks like or normalizes (NFKC) to a slash, backslash or dot.
 */
export const refusal = (input: string): string | undefined => {
  if (input.includes("\0")) return "contains a NUL byte"
  if (controls.test(input)) return "contains a control or invisible formatting character"
  if (input.includes("\\")) return "contains a backslash; use / between segments"
  if (input.startsWith("/")) return "is absolute; give a path relative to the workspace"
  for (const char of input) {
    const code = char.codePointAt(0)!
    if (code < 0x80) continue
    if (lookalikes.has(code) || separatorsOrDots.test(char.normalize("NFKC"))) {
      return `contains U+${code.toString(16).toUpperCase().padStart(4, "0")}, which looks like a slash or a dot`
    }
  }
  return undefined
}

/**
 * The segments of a relative path, without empty and `.` segments; `..` is refused outright (even when it would
 * stay inside) so that no segment ever climbs, and `.git` because the repository's own files (hooks, config,
 * credentials in remote URLs) are never the tools' to read or write.
 */
export const segments = (input: string): ReadonlyArray<string> | string => {
  const parts = input.split("/")
  const kept: Array<string> = []
  for (const part of parts) {
    if (part === "" || part === ".") continue
    if (part === "..") return "contains a .. segment"
    if (part.normalize("NFKC").toLowerCase() === ".git") return "is inside .git, which the file tools never touch"
    kept.push(part)
  }
  return kept
}
