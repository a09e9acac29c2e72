// biome-ignore-all lint/suspicious/noTemplateCurlyInString: literal ${VAR} references are the input under test
import { assert, describe, it } from "@effect/vitest"
import * as Excerpt from "../src/internal/excerpt.ts"

describe("excerpt", () => {
  it("quotes a short string whole and a long one as a prefix and its length", () => {
    assert.strictEqual(Excerpt.literal("npm"), '"npm"')
    assert.strictEqual(Excerpt.literal("x".repeat(Excerpt.maxQuoted)), `"${"x".repeat(Excerpt.maxQuoted)}"`)
    assert.strictEqual(Excerpt.literal("y".repeat(812)), `"${"y".repeat(20)}…" (812 characters)`)
    // A prefix never ends in half a surrogate pair.
    assert.strictEqual(Excerpt.literal(`${"z".repeat(19)}😀${"z".repeat(40)}`), `"${"z".repeat(19)}…" (61 characters)`)
  })

  it("escapes controls, quotes and backslashes inside a quoted value", () => {
    assert.strictEqual(
      Excerpt.literal('\u001b]0;t\u0007"\\\n\t\u009b\u202e'),
      '"\\x1b]0;t\\x07\\"\\\\\\n\\t\\x9b\\u202e"'
    )
  })

  it("shows a substituted value by what was written, never by its value", () => {
    assert.strictEqual(Excerpt.quote("sk-secret", "${OPENAI_API_KEY}"), "${OPENAI_API_KEY}")
    assert.strictEqual(Excerpt.quote("", "${NOPE:-}"), "${NOPE:-}")
    assert.strictEqual(Excerpt.quote("https://h/v1", "https://${HOST}/v1"), '"https://${HOST}/v1"')
  })

  it("names lists and maps by their kind and prints other values short", () => {
    assert.strictEqual(Excerpt.quote([1, 2]), "a list")
    assert.strictEqual(Excerpt.quote({ a: 1 }), "a map")
    assert.strictEqual(Excerpt.quote(null), "null")
    assert.strictEqual(Excerpt.quote(-1), "-1")
    assert.strictEqual(Excerpt.quote(true), "true")
  })

  it("escapes terminal controls but keeps tab and newline in a message, and not in a line", () => {
    assert.strictEqual(Excerpt.sanitize("a\u001b[2Jb\tc\nd\re\u0085f\u2066"), "a\\x1b[2Jb\tc\nd\\re\\x85f\\u2066")
    assert.strictEqual(Excerpt.oneLine("a\tb\nc"), "a\\tb\\nc")
  })

  it("names environment values by their variable in a finished message, longest first", () => {
    const substitutions = [
      { variable: "KEY", value: "sk-0123456789" },
      { variable: "PART", value: "0123456789" },
      { variable: "SHORT", value: "12" }
    ]
    assert.strictEqual(
      Excerpt.redact("got sk-0123456789 and 0123456789, 12 times", substitutions),
      "got ${KEY} and ${PART}, 12 times"
    )
    assert.strictEqual(
      Excerpt.message(`bad \u001b value sk-0123456789 ${"x".repeat(2_000)}`, substitutions),
      `bad \\x1b value \${KEY} ${"x".repeat(Excerpt.maxMessage - 22)}… (2022 characters)`
    )
  })
})
