/**
 * Streamed text made safe for a terminal piece by piece. An escape sequence may arrive split across two pieces
 * (a model's answer comes in small deltas), and sanitising each piece alone would print the tail of a sequence as
 * text; this holds an unfinished sequence back until it is complete, then drops it whole.
 *
 * ```ts
 * const safe = TerminalStream.make()
 * safe.push("Hello \u001b]0;ti") // "Hello "
 * safe.push("tle\u0007there")    // "there"
 * safe.end()                     // ""
 * ```
 */
import { TerminalText } from "@troupe/providers"

// The introducers of escape sequences, in their 7-bit (ESC) and 8-bit (C1) forms.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const introducer = /[\u001b\u0090\u0098\u009b\u009d\u009e\u009f]/g

// A sequence that has ended: a string (OSC, DCS, SOS, PM, APC) with its terminator, a CSI with its final byte, or a
// two-character escape — whose final byte is none of the introducers of the other two (`[ ] P X ^ _`).
const complete =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /^(?:(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c)|(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|\u001b[ -/]*[0-OQ-WYZ\\`-~])/

/** An unfinished sequence longer than this is dropped: a terminal would swallow it, and so do we. */
export const maxHeld = 64 * 1024

/** A sanitiser for one stream of text. */
export interface TerminalStream {
  /** The printable part of `piece` (with what was held back), holding back an unfinished sequence at its end. */
  readonly push: (piece: string) => string
  /** What is left at the end of the stream, sanitised (an unfinished sequence is dropped). */
  readonly end: () => string
}

/** A fresh sanitiser. */
export const make = (): TerminalStream => {
  let held = ""
  return {
    push: (piece) => {
      const text = held + piece
      held = ""
      introducer.lastIndex = 0
      for (let match = introducer.exec(text); match !== null; match = introducer.exec(text)) {
        const rest = text.slice(match.index)
        const sequence = complete.exec(rest)
        if (sequence === null) {
          held = rest.length > maxHeld ? "" : rest
          return TerminalText.sanitize(text.slice(0, match.index))
        }
        introducer.lastIndex = match.index + sequence[0].length
      }
      return TerminalText.sanitize(text)
    },
    end: () => {
      const rest = held
      held = ""
      return TerminalText.sanitize(rest)
    }
  }
}
