import { assert, describe, it } from "@effect/vitest"
import * as TerminalText from "../src/TerminalText.ts"
import { hasControls } from "./support.ts"

const ESC = "\u001b"
const BEL = "\u0007"

describe("TerminalText.sanitize", () => {
  it("returns text without controls as it is", () => {
    const text = "Plain text, with\ttabs and\nnewlines — and ünïcödé."
    assert.strictEqual(TerminalText.sanitize(text), text)
  })

  it("removes whole CSI sequences: colours, cursor moves, screen clears", () => {
    assert.strictEqual(TerminalText.sanitize(`${ESC}[31mred${ESC}[0m ${ESC}[2J${ESC}[1;1Hhome`), "red home")
    assert.strictEqual(TerminalText.sanitize(`a${ESC}[?25lb`), "ab")
  })

  it("removes OSC sequences with their payload, ended by BEL or ST, and an unterminated one to the end", () => {
    assert.strictEqual(TerminalText.sanitize(`${ESC}]8;;https://evil.example${BEL}link${ESC}]8;;${BEL}`), "link")
    assert.strictEqual(TerminalText.sanitize(`x${ESC}]52;c;ZXZpbA==${ESC}\\y`), "xy")
    assert.strictEqual(TerminalText.sanitize(`${ESC}]0;new title${BEL}kept`), "kept")
    assert.strictEqual(TerminalText.sanitize(`kept${ESC}]0;swallowed`), "kept")
  })

  it("removes DCS, PM and APC strings and two-character escapes", () => {
    assert.strictEqual(TerminalText.sanitize(`${ESC}Pq#0;2;0;0;0${ESC}\\after`), "after")
    assert.strictEqual(TerminalText.sanitize(`${ESC}_payload${ESC}\\after`), "after")
    assert.strictEqual(TerminalText.sanitize(`${ESC}(Bx${ESC}7y${ESC}c`), "xy")
  })

  it("removes the 8-bit forms of CSI and OSC", () => {
    assert.strictEqual(TerminalText.sanitize("\u009b31mred"), "red")
    assert.strictEqual(TerminalText.sanitize(`\u009d0;title${BEL}after`), "after")
  })

  it("removes every other C0 and C1 control but keeps newline and tab", () => {
    const controls = `${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("")}\u007f\u0085\u009c`
    assert.strictEqual(TerminalText.sanitize(`a${controls}b`), "a\t\nb")
    assert.strictEqual(TerminalText.sanitize("line\r\nnext"), "line\nnext")
  })

  it("removes bidirectional overrides and isolates", () => {
    assert.strictEqual(TerminalText.sanitize("safe\u202egnp.exe\u202c \u2066x\u2069"), "safegnp.exe x")
  })

  it("never leaves an escape character, whatever the input", () => {
    const pieces = [ESC, "[", "]", "\\", BEL, "\u009b", "\u009d", "0", ";", "m", "P", "x"]
    for (let i = 0; i < 2000; i++) {
      let text = ""
      for (let j = 0; j < 8; j++) text += pieces[(i * 7 + j * 13 + ((i >> j) & 5)) % pieces.length]
      const out = TerminalText.sanitize(text)
      assert.isFalse(hasControls(out), JSON.stringify(text))
    }
  })
})
