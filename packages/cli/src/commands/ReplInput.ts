/**
 * The lines and Ctrl-Cs of an interactive session, from standard input.
 *
 * At a terminal, a `node:readline` line editor (history, editing keys) shows each prompt; Ctrl-C arrives as an
 * interrupt rather than a signal, so the session decides what it means (cancel the step, or leave). Otherwise one
 * line is one prompt, read as it comes: lines longer than `maxLine` are cut, and reading pauses while more than
 * `highWater` lines wait, so a large pipe never fills memory.
 *
 * Lines are taken by one reader at a time: the prompt loop between runs, an approval question during one.
 */
import * as NodeReadline from "node:readline"
import { StringDecoder } from "node:string_decoder"
import { TerminalText } from "@troupe/providers"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/** What the person did. */
export type Event =
  | { readonly _tag: "Line"; readonly text: string }
  | { readonly _tag: "End" }
  /** Ctrl-C; `hadText` when it discarded a line being typed. */
  | { readonly _tag: "Interrupt"; readonly hadText: boolean }

/** The session's input. */
export interface Input {
  /** Whether a person is at a terminal (a line editor, prompts shown). */
  readonly terminal: boolean
  /**
   * The answer to a question: the next line (at a terminal, one typed after `prompt` is shown), or `undefined` at
   * the end of input. Ctrl-Cs wait for `interrupt`.
   */
  readonly line: (prompt: string) => Effect.Effect<string | undefined>
  /** The next line, the end of input, or a Ctrl-C: whichever comes first. */
  readonly next: (prompt: string) => Effect.Effect<Event>
  /** The next Ctrl-C. */
  readonly interrupt: Effect.Effect<void>
}

/** The longest line read from a pipe; the rest of a longer one is dropped. */
export const maxLine = 64 * 1024

/** Lines waiting at which reading a pipe pauses (it resumes below a quarter of it). */
export const highWater = 256

type Item = { readonly _tag: "Line"; readonly text: string } | { readonly _tag: "End" }

const end: Item = { _tag: "End" }

/**
 * Reads standard input for the life of the scope. `history` (oldest first) seeds the line editor's history at a
 * terminal.
 */
export const make = (options: {
  readonly terminal: boolean
  readonly history: ReadonlyArray<string>
}): Effect.Effect<Input, never, Scope.Scope> =>
  Effect.gen(function* () {
    const lines = yield* Queue.unbounded<Item>()
    const interrupts = yield* Queue.unbounded<{ readonly hadText: boolean }>()
    let paused = false

    // Rung whenever a line or a Ctrl-C arrives, for `next`, which watches both queues.
    const arrived = yield* Queue.unbounded<void>()

    const taken = (item: Item): Item => {
      // The end stays at the head, for every later reader.
      if (item._tag === "End") Queue.offerUnsafe(lines, end)
      if (paused && Queue.sizeUnsafe(lines) < highWater / 4) {
        paused = false
        process.stdin.resume()
      }
      return item
    }
    const takeLine: Effect.Effect<Item> = Effect.map(Queue.take(lines), taken)
    const offerLine = (item: Item) => {
      Queue.offerUnsafe(lines, item)
      Queue.offerUnsafe(arrived, undefined)
    }

    let show: (prompt: string) => void = () => {}
    if (options.terminal) {
      const editor = yield* Effect.acquireRelease(
        Effect.sync(() =>
          NodeReadline.createInterface({
            input: process.stdin,
            output: process.stdout,
            terminal: true,
            history: [...options.history].reverse(),
            historySize: 1_000,
            removeHistoryDuplicates: true
          })
        ),
        (editor) => Effect.sync(() => editor.close())
      )
      editor.on("line", (text: string) => offerLine({ _tag: "Line", text }))
      editor.on("close", () => offerLine(end))
      editor.on("SIGINT", () => {
        const hadText = editor.line !== ""
        // Ctrl-E then Ctrl-U: to the end of the line, then erase it whole.
        if (hadText) {
          editor.write(null, { ctrl: true, name: "e" })
          editor.write(null, { ctrl: true, name: "u" })
        }
        Queue.offerUnsafe(interrupts, { hadText })
        Queue.offerUnsafe(arrived, undefined)
      })
      show = (prompt) => {
        editor.setPrompt(TerminalText.sanitize(prompt))
        editor.prompt(true)
      }
    } else {
      const decoder = new StringDecoder("utf8")
      let pending = ""
      let dropping = false
      const emit = (text: string) => {
        offerLine({ _tag: "Line", text: text.endsWith("\r") ? text.slice(0, -1) : text })
        if (!paused && Queue.sizeUnsafe(lines) >= highWater) {
          paused = true
          process.stdin.pause()
        }
      }
      const onData = (chunk: Buffer) => {
        const text = decoder.write(chunk)
        let start = 0
        for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
          emit(dropping ? pending : (pending + text.slice(start, newline)).slice(0, maxLine))
          pending = ""
          dropping = false
          start = newline + 1
        }
        if (dropping) return
        pending += text.slice(start)
        if (pending.length > maxLine) {
          pending = pending.slice(0, maxLine)
          dropping = true
        }
      }
      const onEnd = () => {
        const rest = dropping ? pending : (pending + decoder.end()).slice(0, maxLine)
        pending = ""
        if (rest !== "") emit(rest)
        offerLine(end)
      }
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.stdin.on("data", onData)
          process.stdin.on("end", onEnd)
          process.stdin.on("error", onEnd)
        }),
        () =>
          Effect.sync(() => {
            process.stdin.off("data", onData)
            process.stdin.off("end", onEnd)
            process.stdin.off("error", onEnd)
            process.stdin.destroy()
          })
      )
    }

    // At a terminal, lines typed before a question was shown were meant for the prompt, not as its answer: they are
    // dropped (a stray line must never approve anything). From a pipe, the next line is the answer, by design.
    const dropTypedAhead = options.terminal
      ? Effect.flatMap(Queue.clear(lines), (dropped) =>
          Effect.sync(() => {
            if (dropped.some((item) => item._tag === "End")) Queue.offerUnsafe(lines, end)
          })
        )
      : Effect.void

    const line = (prompt: string) =>
      Effect.andThen(
        dropTypedAhead,
        Effect.flatMap(
          Effect.sync(() => show(prompt)),
          () => Effect.map(takeLine, (item) => (item._tag === "Line" ? item.text : undefined))
        )
      )

    // Polls both queues rather than racing two takes, which could take an item from each and drop one.
    const next = (prompt: string): Effect.Effect<Event> =>
      Effect.andThen(
        Effect.sync(() => show(prompt)),
        Effect.gen(function* () {
          while (true) {
            const interrupt = yield* Queue.poll(interrupts)
            if (interrupt._tag === "Some") return { _tag: "Interrupt", hadText: interrupt.value.hadText } as const
            const item = yield* Queue.poll(lines)
            if (item._tag === "Some") return taken(item.value)
            yield* Queue.takeAll(arrived)
          }
        })
      )

    return {
      terminal: options.terminal,
      line,
      next,
      interrupt: Effect.asVoid(Queue.take(interrupts))
    }
  })
