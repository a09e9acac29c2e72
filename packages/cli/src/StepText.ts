/**
 * The text of an agent's steps printed as the model generates it (`TextDeltas`), for the interactive mode and
 * `troupe run` at a terminal. Each step's text is made safe piece by piece (`TerminalStream`: an escape sequence
 * split across two deltas is dropped whole), its leading blank space skipped, and its line ended when the step ends.
 *
 * The caller prints its own lines (tool calls, approvals, the answer) through `closeLine` first, so that a line never
 * starts in the middle of streamed text; and when a step's `AgentModelCalled` arrives it asks `ended(step)` for the
 * text that was streamed, so as not to print it a second time. Deltas are published before that event, and the
 * step's end is the last of them, so the wait is short; it is bounded all the same.
 */
import { TextDeltas } from "@troupe/agent"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as TerminalStream from "./TerminalStream.ts"

/** A printer of one agent's streamed step text. */
export interface StepText {
  /** Ends the line of streamed text in progress, if any: call it before printing a line of your own. */
  readonly closeLine: Effect.Effect<void>
  /**
   * The text streamed for `step` once its end has been printed; `undefined` when nothing came for it in time (the
   * step was not streamed: print its text yourself).
   */
  readonly ended: (step: number) => Effect.Effect<string | undefined>
}

/** How long `ended` waits for a step's end after its `AgentModelCalled` (deltas come before that event). */
export const endWait = "5 seconds"

/**
 * Starts printing the steps of `agent` with `write` (raw text, already safe); `beforeText` runs before the first
 * text of each stretch of streamed text (to take a status line away), `afterStep` after a step's line was ended.
 * Subscribes at once: call it before the run starts. Stops when the scope closes.
 */
export const make = (options: {
  readonly agent: string
  readonly write: (text: string) => void
  readonly beforeText?: (() => void) | undefined
  readonly afterStep?: (() => void) | undefined
}): Effect.Effect<StepText, never, TextDeltas.TextDeltas | Scope.Scope> =>
  Effect.gen(function* () {
    const hub = yield* TextDeltas.TextDeltas
    const subscription = yield* hub.subscribe
    const ends = new Map<number, Deferred.Deferred<string>>()
    const endOf = (step: number) => {
      let end = ends.get(step)
      if (end === undefined) {
        end = Deferred.makeUnsafe<string>()
        ends.set(step, end)
      }
      return end
    }
    let midLine = false
    // A line of streamed text was broken by another line: the text goes on at the start of a line of its own.
    let broken = false
    let step = -1
    let text = ""
    let printed = false
    let safe = TerminalStream.make()
    const closeLine = () => {
      if (!midLine) return
      midLine = false
      broken = true
      options.write("\n")
    }
    const print = (piece: string) => {
      const shown = !printed ? piece.trimStart() : broken ? piece.replace(/^[ \t]+/, "") : piece
      if (shown === "") return
      broken = false
      if (!midLine) options.beforeText?.()
      printed = true
      options.write(shown)
      midLine = !shown.endsWith("\n")
    }

    yield* Effect.forkScoped(
      Effect.gen(function* () {
        while (true) {
          const delta = yield* PubSub.take(subscription)
          if (delta.agent !== options.agent) continue
          if (delta.step !== step) {
            step = delta.step
            text = ""
            printed = false
            safe = TerminalStream.make()
          }
          if (delta.end === true) {
            print(safe.end())
            const wasPrinted = printed || midLine
            closeLine()
            broken = false
            if (wasPrinted) options.afterStep?.()
            yield* Deferred.succeed(endOf(delta.step), text)
            continue
          }
          text += delta.delta
          print(safe.push(delta.delta))
        }
      })
    )

    return {
      closeLine: Effect.sync(closeLine),
      ended: (of) =>
        Deferred.await(endOf(of)).pipe(
          Effect.timeoutOption(endWait),
          Effect.map(Option.getOrUndefined),
          Effect.ensuring(Effect.sync(() => ends.delete(of)))
        )
    }
  })
