/**
 * A model turn asked as a stream, for a step somebody watches live (`TextDeltas`): each text delta is handed on as
 * it arrives, and the parts are put together into the `GenerateTextResponse` that `generateText` would have returned
 * (one text part per text block, tool calls, tool results, approval requests, metadata, finish), so the rest of the
 * step reads it unchanged.
 *
 * In a durable run the turn's answer is journalled whole (`journalled`): live, the provider's parts pass through as
 * they arrive and, put together, are the activity's result, in the same form as a `generateText` turn's; replayed,
 * the journalled answer comes back as one piece whose text is marked as replayed, and no delta of it is handed on.
 */
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import * as Response from "effect/ai/Response"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/** The parts of a stream as plain objects: what `assemble` reads of them. */
interface Piece {
  readonly type: string
  readonly id?: string
  readonly delta?: string
  readonly preliminary?: boolean
  readonly metadata?: Record<string, unknown> | undefined
}

// Replayed text carries this in its delta's metadata; assembled text parts keep only their start's and end's metadata,
// so the mark never reaches the history.
const replayMark = "troupe"

const isReplayed = (piece: Piece): boolean =>
  (piece.metadata?.[replayMark] as { readonly replayed?: unknown } | undefined)?.replayed === true

/**
 * Stream parts put together as the parts of a whole answer: a text (reasoning) block's deltas become one text
 * (reasoning) part where the block started, tool-parameter deltas and preliminary tool results are left out (the
 * tool call and the final result follow), and every other part stays as it came.
 */
const assemble = <P extends Piece>(
  pieces: ReadonlyArray<P>,
  block: (type: "text" | "reasoning", text: string, metadata: Record<string, unknown>) => P
): Array<P> => {
  const out: Array<P | undefined> = []
  const open = new Map<string, { index: number; text: string; metadata: Record<string, unknown> }>()
  const key = (piece: Piece, kind: string) => `${kind}:${piece.id ?? ""}`
  const close = (k: string, type: "text" | "reasoning", metadata: Record<string, unknown> | undefined) => {
    const active = open.get(k)
    if (active === undefined) return
    out[active.index] = block(type, active.text, { ...active.metadata, ...metadata })
    open.delete(k)
  }
  for (const piece of pieces) {
    switch (piece.type) {
      case "text-start":
      case "reasoning-start": {
        const type = piece.type === "text-start" ? "text" : "reasoning"
        close(key(piece, type), type, undefined)
        open.set(key(piece, type), { index: out.length, text: "", metadata: { ...piece.metadata } })
        out.push(undefined)
        break
      }
      case "text-delta":
      case "reasoning-delta": {
        const type = piece.type === "text-delta" ? "text" : "reasoning"
        const k = key(piece, type)
        // A delta without its start (some providers send none) opens its block.
        if (!open.has(k)) {
          open.set(k, { index: out.length, text: "", metadata: {} })
          out.push(undefined)
        }
        open.get(k)!.text += piece.delta ?? ""
        break
      }
      case "text-end":
      case "reasoning-end": {
        const type = piece.type === "text-end" ? "text" : "reasoning"
        close(key(piece, type), type, piece.metadata)
        break
      }
      case "tool-params-start":
      case "tool-params-delta":
      case "tool-params-end":
      case "error":
        break
      case "tool-result":
        if (piece.preliminary !== true) out.push(piece)
        break
      default:
        out.push(piece)
    }
  }
  // Blocks the stream never closed still count.
  for (const [k, active] of [...open]) close(k, k.startsWith("text:") ? "text" : "reasoning", active.metadata)
  return out.filter((p): p is P => p !== undefined)
}

/** The run's model seen through plain options (as `ModelCall.LooseModel` sees `generateText`). */
interface LooseStreaming {
  readonly streamText: (options: {
    readonly prompt: Prompt.Prompt
    readonly toolkit?: Toolkit.WithHandler<any> | undefined
    readonly concurrency?: number | undefined
  }) => Stream.Stream<Response.StreamPart<any>, AiError.AiError>
}

/**
 * One turn asked with `streamText`: `onDelta` gets each piece of answer text as it arrives (never a replayed one),
 * then `onEnd` once the turn has completed; the result is the whole answer, as `generateText` gives it.
 */
export const generate = (
  model: LanguageModel.LanguageModel,
  options: {
    readonly prompt: Prompt.Prompt
    readonly toolkit?: Toolkit.WithHandler<any> | undefined
    readonly concurrency?: number | undefined
  },
  onDelta: (delta: string) => Effect.Effect<void>,
  onEnd: Effect.Effect<void>
): Effect.Effect<LanguageModel.GenerateTextResponse<any>, AiError.AiError> =>
  Effect.suspend(() => {
    const parts: Array<Response.StreamPart<any>> = []
    return (model as unknown as LooseStreaming).streamText(options).pipe(
      Stream.runForEach((part) => {
        parts.push(part)
        return part.type === "text-delta" && part.delta !== "" && !isReplayed(part) ? onDelta(part.delta) : Effect.void
      }),
      Effect.andThen(onEnd),
      Effect.map(
        () =>
          new LanguageModel.GenerateTextResponse<any>(
            assemble(
              parts as ReadonlyArray<Response.StreamPart<any> & Piece>,
              (type, text, metadata) => Response.makePart(type, { text, metadata: metadata as never }) as never
            ) as never
          )
      )
    )
  })

// -----------------------------------------------------------------------------
// Durable runs
// -----------------------------------------------------------------------------

const encodeStreamPart = Schema.encodeUnknownEffect(Response.StreamPart())

/** What `journalled` needs of a durable run: its activities (`Durable.step`) and model-call names. */
export interface Journal {
  readonly step: <A, E>(
    name: string,
    effect: Effect.Effect<A, E>,
    options?: { readonly error?: Schema.Codec<E, any> }
  ) => Effect.Effect<A, E>
  readonly nextModelCall: () => string
}

/** A whole answer as stream parts, its text marked as replayed (one delta per block). */
const replayOf = (parts: ReadonlyArray<Response.PartEncoded>): Array<Response.StreamPartEncoded> =>
  parts.flatMap((part, i): Array<Response.StreamPartEncoded> => {
    if (part.type !== "text" && part.type !== "reasoning") return [part as Response.StreamPartEncoded]
    const id = `replayed_${i}`
    const kind = part.type
    return [
      { type: `${kind}-start`, id, ...(part.metadata === undefined ? {} : { metadata: part.metadata }) },
      { type: `${kind}-delta`, id, delta: part.text, metadata: { [replayMark]: { replayed: true } } },
      { type: `${kind}-end`, id }
    ] as Array<Response.StreamPartEncoded>
  })

/**
 * A streamed model call of a durable run, as one activity: live, `stream`'s parts pass through as they arrive and
 * the whole answer is journalled when it ends (the same record as a `generateText` call's); replayed, the journalled
 * answer is sent as one piece, marked so that `generate` hands none of its text on.
 */
export const journalled = (
  journal: Journal,
  stream: Stream.Stream<Response.StreamPart<any, any>, AiError.AiError>,
  error: Schema.Codec<AiError.AiError, any>
): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
  Stream.callback<Response.StreamPartEncoded, AiError.AiError>((out) =>
    Effect.gen(function* () {
      let ran = false
      const live = Effect.suspend(() => {
        ran = true
        const pieces: Array<Response.StreamPartEncoded> = []
        return stream.pipe(
          Stream.runForEach((part) =>
            encodeStreamPart(part).pipe(
              Effect.mapError((e) =>
                AiError.make({
                  module: "DurableRun",
                  method: "streamText",
                  reason: AiError.InvalidOutputError.fromSchemaError(e)
                })
              ),
              Effect.flatMap((encoded) => {
                pieces.push(encoded as Response.StreamPartEncoded)
                return Queue.offer(out, encoded as Response.StreamPartEncoded)
              })
            )
          ),
          Effect.map(() =>
            assemble(
              pieces as ReadonlyArray<Response.StreamPartEncoded & Piece>,
              (type, text, metadata) =>
                ({ type, text, ...(Object.keys(metadata).length === 0 ? {} : { metadata }) }) as never
            )
          )
        )
      })
      const parts = yield* journal.step(journal.nextModelCall(), live, { error })
      if (!ran) yield* Queue.offerAll(out, replayOf(parts as ReadonlyArray<Response.PartEncoded>))
      yield* Queue.end(out)
    })
  )
