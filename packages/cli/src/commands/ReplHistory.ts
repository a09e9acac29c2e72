/**
 * The prompts typed in interactive mode, kept across sessions in `$TROUPE_HOME/history` (one per line, readable only
 * by its owner), bounded to the last `maxEntries`.
 *
 * Only prompts and slash commands typed at a terminal are kept, never answers to approval questions, and never a
 * line that starts with a space (as shells do), so a person can keep a line out of the file. Reading the file is
 * bounded too: a history file is someone's input like any other.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { TerminalText } from "@troupe/providers"
import * as Effect from "effect/Effect"

/** Entries kept. */
export const maxEntries = 1_000

/** The most of the file read at start (its end): far more than `maxEntries` lines of prompts. */
export const maxBytes = 512 * 1024

/** The longest entry kept: a pasted document is not a prompt worth recalling. */
export const maxEntryLength = 4_000

/** The history file of a state directory. */
export const fileIn = (home: string): string => NodePath.join(home, "history")

const readTail = (file: string): string => {
  const size = NodeFs.statSync(file).size
  const length = Math.min(size, maxBytes)
  const buffer = Buffer.alloc(length)
  const fd = NodeFs.openSync(file, "r")
  NodeFs.readSync(fd, buffer, 0, length, size - length)
  NodeFs.closeSync(fd)
  const text = buffer.toString("utf8")
  // A cut start is likely mid-line: that first piece is dropped.
  return size > length ? text.slice(text.indexOf("\n") + 1) : text
}

/**
 * The entries of the file, oldest first (at most `maxEntries`, sanitised for the terminal); none when the file
 * does not exist or cannot be read. A file grown past twice the bound is rewritten with the last `maxEntries`.
 */
export const load = (file: string): Effect.Effect<ReadonlyArray<string>> =>
  Effect.try({
    try: () => {
      if (!NodeFs.existsSync(file)) return []
      const all = readTail(file)
        .split("\n")
        .map((line) => TerminalText.sanitize(line))
        .filter((line) => line.trim() !== "" && line.length <= maxEntryLength)
      const kept = all.slice(-maxEntries)
      if (all.length > 2 * maxEntries || NodeFs.statSync(file).size > maxBytes) {
        const temporary = `${file}.${process.pid}.tmp`
        NodeFs.writeFileSync(temporary, `${kept.join("\n")}\n`, { mode: 0o600 })
        NodeFs.renameSync(temporary, file)
      }
      return kept
    },
    catch: (cause) => cause
  }).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))

/** Whether a typed line goes into the history. */
export const keeps = (line: string): boolean =>
  line.trim() !== "" && !line.startsWith(" ") && line.length <= maxEntryLength && !line.includes("\n")

/** Appends a typed line, when it is kept; a file that cannot be written only loses the history. */
export const append = (file: string, line: string): Effect.Effect<void> =>
  keeps(line)
    ? Effect.try({
        try: () => {
          NodeFs.mkdirSync(NodePath.dirname(file), { recursive: true })
          NodeFs.appendFileSync(file, `${line}\n`, { mode: 0o600 })
        },
        catch: (cause) => cause
      }).pipe(Effect.ignore)
    : Effect.void
