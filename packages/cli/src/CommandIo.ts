/**
 * What the commands that run agents print and ask: lines on stdout and stderr, stripped of control sequences
 * (untrusted text never reaches a terminal raw), values cut short for one line, and a person's y/n or line of text.
 */
import * as NodeReadline from "node:readline"
import { TerminalText } from "@troupe/providers"
import * as Effect from "effect/Effect"

/** Prints `text` on stdout, sanitised. */
export const line = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))

/** Prints `text` on stderr, sanitised. */
export const errorLine = (text: string) =>
  Effect.sync(() => void process.stderr.write(`${TerminalText.sanitize(text)}\n`))

/** A value as at most `max` characters of one line (JSON unless it is a string). */
export const short = (value: unknown, max = 120): string => {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "")
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

// One question at the terminal (the prompt on stderr, so stdout stays the command's output).
const ask = (prompt: string): Effect.Effect<string> =>
  Effect.callback<string>((resume) => {
    const readline = NodeReadline.createInterface({ input: process.stdin, output: process.stderr })
    readline.question(prompt, (answer) => {
      readline.close()
      resume(Effect.succeed(answer))
    })
    return Effect.sync(() => readline.close())
  })

/** Asks a yes/no question at the terminal; anything but y or yes is no. */
export const askYesNo = (question: string): Effect.Effect<boolean> =>
  Effect.map(ask(`${TerminalText.sanitize(question)} [y/N] `), (answer) => /^y(es)?$/i.test(answer.trim()))

/** Asks for a line of text at the terminal (at most 16 KiB of it). */
export const askLine = (question: string): Effect.Effect<string> =>
  Effect.map(ask(`${TerminalText.sanitize(question)}\n> `), (answer) => answer.slice(0, 16_384))
