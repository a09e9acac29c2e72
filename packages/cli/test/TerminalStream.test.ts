import { assert, describe, it } from "@effect/vitest"
import * as TerminalStream from "../src/TerminalStream.ts"

const ESC = "\u001b"
const BEL = "\u0007"

const through = (pieces: ReadonlyArray<string>): string => {
  const safe = TerminalStream.make()
  return pieces.map(safe.push).join("") + safe.end()
}

describe("TerminalStream", () => {
  const hostile = `${ESC}]0;pwned${BEL}Hello ${ESC}[2Jthere${ESC}]52;c;ZXZpbA==${BEL}!`

  it("drops sequences whole wherever the stream is cut", () => {
    for (let size = 1; size <= hostile.length; size++) {
      const pieces: Array<string> = []
      for (let i = 0; i < hostile.length; i += size) pieces.push(hostile.slice(i, i + size))
      assert.strictEqual(through(pieces), "Hello there!", `pieces of ${size}`)
    }
  })

  it("passes plain text through at once, and drops an unfinished sequence at the end", () => {
    const safe = TerminalStream.make()
    assert.strictEqual(safe.push("plain\ttext\n"), "plain\ttext\n")
    assert.strictEqual(safe.push(`more ${ESC}]8;;http://evil`), "more ")
    assert.strictEqual(safe.end(), "")
  })

  it("does not hold an endless sequence forever", () => {
    const safe = TerminalStream.make()
    safe.push(`${ESC}]0;`)
    safe.push("x".repeat(TerminalStream.maxHeld + 10))
    assert.strictEqual(safe.push("after"), "after")
  })
})
