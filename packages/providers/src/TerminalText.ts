/**
 * Text that came from outside (a provider's error body, a model's answer) made safe to print on a terminal.
 *
 * ```ts
 * TerminalText.sanitize("\u001b]8;;http://evil\u0007click\u001b]8;;\u0007 \u001b[2Jdone") // "click done"
 * ```
 *
 * A terminal obeys escape sequences wherever they appear in what it prints: a server that puts
 * `ESC ] 8 ;` (a hyperlink), `ESC [ 2 J` (clear screen), `ESC ] 52 ;` (write the clipboard) or a title
 * change in an error body would act on the user's terminal when the error is shown. `sanitize` removes
 * whole escape sequences (CSI, OSC, DCS/SOS/PM/APC strings and two-character escapes, in their 7-bit and
 * 8-bit forms), then every other C0 and C1 control character except newline and tab, and the Unicode
 * bidirectional overrides and isolates that can make printed text read differently from what it is.
 *
 * Providers apply it to every error message they build from a server's text; the CLI applies it at its
 * output boundary to everything a model says.
 */

// Sequences are removed whole so their parameters (a URL, a title, clipboard data) do not remain as text.
// String sequences end at BEL or ST (ESC \ or 0x9c); an unterminated one runs to the end of the text, as a
// terminal would swallow it.
const sequences = new RegExp(
  [
    "\\u001b[\\]PX^_][\\s\\S]*?(?:\\u0007|\\u001b\\\\|$)",
    "[\\u0090\\u0098\\u009d\\u009e\\u009f][\\s\\S]*?(?:\\u0007|\\u009c|\\u001b\\\\|$)",
    "(?:\\u001b\\[|\\u009b)[0-?]*[ -/]*[@-~]?",
    "\\u001b[ -/]*[0-~]?"
  ].join("|"),
  "g"
)

// Every control character left (C0 but tab and newline, DEL, C1), and the bidirectional formatting characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

const unsafe = new RegExp(controls.source)

/**
 * `text` without terminal escape sequences, control characters (newline and tab are kept) or bidirectional
 * overrides. Text with none of them is returned as it is.
 */
export const sanitize = (text: string): string =>
  unsafe.test(text) ? text.replace(sequences, "").replace(controls, "") : text
