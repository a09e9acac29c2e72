/**
 * A `LanguageModel` that replays a script of turns — text, tool calls, refusals, failures, delays — and records
 * every request it receives. It is real `LanguageModel.make` code, so the agent loop and the mixture see exactly
 * what a provider adapter would give them.
 *
 * Each call (`generateText`, `generateObject` or `streamText`) consumes the next turn. When the script runs out
 * the call fails with an `AiError` (`UnknownError` "script exhausted") unless `cycle` is set, which starts the
 * script over — handy for benchmarks.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as LanguageModel from "effect/ai/LanguageModel"
 * import { ScriptedLanguageModel } from "@troupe/providers"
 *
 * const program = LanguageModel.generateText({ prompt: "hi" }).pipe(
 *   Effect.provide(ScriptedLanguageModel.layer([ScriptedLanguageModel.text("hello")]))
 * )
 * ```
 */
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

/** Token counts a turn reports; by default about four characters a token of the prompt and of the answer. */
export interface TurnUsage {
  readonly inputTokens?: number
  readonly outputTokens?: number
}

/** One scripted model turn. Build them with `text`, `toolCalls`, `refusal`, `fail`, `hang` and `parts`. */
export type Turn =
  | {
      readonly _tag: "Text"
      readonly text: string
      readonly finishReason?: Response.FinishReason
      readonly usage?: TurnUsage
      readonly delay?: Duration.Input
    }
  | {
      readonly _tag: "ToolCalls"
      readonly calls: ReadonlyArray<{ readonly name: string; readonly params: unknown; readonly id?: string }>
      readonly text?: string
      readonly usage?: TurnUsage
      readonly delay?: Duration.Input
    }
  | { readonly _tag: "Failure"; readonly reason: AiError.AiErrorReason; readonly delay?: Duration.Input }
  | { readonly _tag: "Hang" }
  | {
      readonly _tag: "Parts"
      readonly parts: ReadonlyArray<Response.PartEncoded>
      readonly delay?: Duration.Input
    }
  | { readonly _tag: "Dynamic"; readonly respond: (options: LanguageModel.ProviderOptions) => Turn }

type Concrete = Exclude<Turn, { readonly _tag: "Dynamic" }>

/** A text answer, finished with `stop` unless `finishReason` says otherwise. */
export const text = (
  value: string,
  options?: {
    readonly finishReason?: Response.FinishReason
    readonly usage?: TurnUsage
    readonly delay?: Duration.Input
  }
): Turn => ({ _tag: "Text", text: value, ...options })

/** One or more tool calls (finish reason `tool-calls`); `params` are the encoded parameters the model sends. */
export const toolCalls = (
  calls: ReadonlyArray<{ readonly name: string; readonly params: unknown; readonly id?: string }>,
  options?: { readonly text?: string; readonly usage?: TurnUsage; readonly delay?: Duration.Input }
): Turn => ({ _tag: "ToolCalls", calls, ...options })

/** A refusal as providers report it: a short apology finished with `content-filter`. */
export const refusal = (
  value = "I'm sorry, but I can't help with that.",
  options?: { readonly delay?: Duration.Input }
): Turn => ({
  _tag: "Text",
  text: value,
  finishReason: "content-filter",
  ...options
})

/** A failed turn: the call fails with an `AiError` carrying `reason` (after `delay`, if any). */
export const fail = (reason: AiError.AiErrorReason, options?: { readonly delay?: Duration.Input }): Turn => ({
  _tag: "Failure",
  reason,
  ...options
})

/** A turn that never answers: only a timeout or an interruption ends it. */
export const hang: Turn = { _tag: "Hang" }

/** Raw encoded response parts, returned as they are (to script malformed answers). */
export const parts = (
  value: ReadonlyArray<Response.PartEncoded>,
  options?: { readonly delay?: Duration.Input }
): Turn => ({
  _tag: "Parts",
  parts: value,
  ...options
})

/** A turn computed from the request (for example to echo the prompt). */
export const dynamic = (respond: (options: LanguageModel.ProviderOptions) => Turn): Turn => ({
  _tag: "Dynamic",
  respond
})

/** Delays a turn: the answer (or failure) arrives after `duration`. */
export const delayed = (duration: Duration.Input, turn: Turn): Turn =>
  turn._tag === "Hang" || turn._tag === "Dynamic" ? turn : { ...turn, delay: duration }

/** Options of a scripted model. */
export interface Options {
  /** Start the script over when it runs out instead of failing (default false). */
  readonly cycle?: boolean
  /** Characters per `text-delta` when streaming (default 16). */
  readonly chunkSize?: number
  /** Pause between streamed chunks (default none). */
  readonly chunkDelay?: Duration.Input
  /** The model id reported in `response-metadata` (default "scripted"). */
  readonly modelId?: string
}

/** What a scripted model exposes besides the `LanguageModel` itself: what it was asked and what happened. */
export interface Handle {
  readonly languageModel: LanguageModel.LanguageModel
  /** Every request received, in order (prompt, tools, response format, tool choice). */
  readonly requests: Effect.Effect<ReadonlyArray<LanguageModel.ProviderOptions>>
  /** The prompts of every request received, in order. */
  readonly prompts: Effect.Effect<ReadonlyArray<Prompt.Prompt>>
  /** How many calls were interrupted before they answered (losers cancelled by a mixture, timeouts). */
  readonly interruptions: Effect.Effect<number>
  /** How many calls completed, successfully or not. */
  readonly completed: Effect.Effect<number>
}

/** The handle of the scripted model provided by `layer`, to read back its requests in a test. */
export class ScriptedLanguageModel extends Context.Service<ScriptedLanguageModel, Handle>()(
  "@troupe/providers/ScriptedLanguageModel"
) {}

/** The plain text of a prompt (all text parts and system messages), used for the default token estimate. */
export const promptText = (prompt: Prompt.Prompt): string => {
  let out = ""
  for (const message of prompt.content) {
    if (message.role === "system") {
      out += `${message.content}\n`
      continue
    }
    for (const part of message.content) {
      if (part.type === "text") out += `${part.text}\n`
    }
  }
  return out
}

const estimateTokens = (s: string): number => Math.max(1, Math.ceil(s.length / 4))

const usageOf = (options: LanguageModel.ProviderOptions, answer: string, usage: TurnUsage | undefined) => ({
  inputTokens: { total: usage?.inputTokens ?? estimateTokens(promptText(options.prompt)) },
  outputTokens: { total: usage?.outputTokens ?? estimateTokens(answer) }
})

const exhausted = AiError.make({
  module: "ScriptedLanguageModel",
  method: "generateText",
  reason: new AiError.UnknownError({ description: "script exhausted" })
})

const toAiError = (method: string, reason: AiError.AiErrorReason) =>
  AiError.make({ module: "ScriptedLanguageModel", method, reason })

/** Builds a scripted model and its handle. */
export const make = Effect.fnUntraced(function* (script: ReadonlyArray<Turn>, options: Options = {}) {
  const requests: Array<LanguageModel.ProviderOptions> = []
  let next = 0
  let interruptions = 0
  let completed = 0
  const chunkSize = Math.max(1, options.chunkSize ?? 16)
  const modelId = options.modelId ?? "scripted"

  // `Dynamic` turns are resolved here, so the code below only ever sees a concrete turn.
  const take = (request: LanguageModel.ProviderOptions): Concrete | undefined => {
    requests.push(request)
    if (next >= script.length) {
      if (options.cycle !== true || script.length === 0) return undefined
      next = 0
    }
    let turn = script[next++]!
    while (turn._tag === "Dynamic") turn = turn.respond(request)
    return turn
  }

  const track = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(
      Effect.onInterrupt(() => Effect.sync(() => interruptions++)),
      Effect.onExit((exit) =>
        Effect.sync(() => {
          if (Exit.isSuccess(exit) || !Cause.hasInterruptsOnly(exit.cause)) completed++
        })
      )
    )

  const wait = (turn: Concrete) =>
    turn._tag !== "Hang" && turn.delay !== undefined ? Effect.sleep(turn.delay) : Effect.void

  // Tool calls without an id of their own get one unique over the model's life, as providers give them: two calls
  // sharing an id would make an approved call look already answered.
  let nextCallId = 0
  const finalParts = (
    request: LanguageModel.ProviderOptions,
    turn: Extract<Turn, { _tag: "Text" | "ToolCalls" | "Parts" }>
  ): Array<Response.PartEncoded> => {
    if (turn._tag === "Parts") return [...turn.parts]
    if (turn._tag === "Text") {
      return [
        { type: "response-metadata", modelId },
        { type: "text", text: turn.text },
        { type: "finish", reason: turn.finishReason ?? "stop", usage: usageOf(request, turn.text, turn.usage) }
      ]
    }
    const out: Array<Response.PartEncoded> = [{ type: "response-metadata", modelId }]
    if (turn.text !== undefined) out.push({ type: "text", text: turn.text })
    turn.calls.forEach((call) => {
      out.push({
        type: "tool-call",
        id: call.id ?? `call_${nextCallId++}`,
        name: call.name,
        params: call.params,
        providerExecuted: false
      })
    })
    out.push({ type: "finish", reason: "tool-calls", usage: usageOf(request, JSON.stringify(turn.calls), turn.usage) })
    return out
  }

  const answer = (
    request: LanguageModel.ProviderOptions,
    turn: Concrete
  ): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError> => {
    switch (turn._tag) {
      case "Hang":
        return Effect.never
      case "Failure":
        return Effect.fail(toAiError("generateText", turn.reason))
      default:
        return Effect.succeed(finalParts(request, turn))
    }
  }

  const streamParts = (
    request: LanguageModel.ProviderOptions,
    turn: Concrete
  ): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> => {
    switch (turn._tag) {
      case "Hang":
        return Stream.never
      case "Failure":
        return Stream.fail(toAiError("streamText", turn.reason))
      case "Parts":
        return Stream.fromIterable(turn.parts as ReadonlyArray<Response.StreamPartEncoded>)
      case "ToolCalls": {
        const lead: Array<Response.StreamPartEncoded> =
          turn.text === undefined
            ? []
            : [
                { type: "text-start", id: "t0" },
                { type: "text-delta", id: "t0", delta: turn.text },
                { type: "text-end", id: "t0" }
              ]
        const rest = finalParts(request, turn).filter((p) => p.type !== "text") as Array<Response.StreamPartEncoded>
        return Stream.fromIterable([...lead, ...rest])
      }
      case "Text": {
        const chunks: Array<Response.StreamPartEncoded> = []
        for (let i = 0; i < turn.text.length; i += chunkSize) {
          chunks.push({ type: "text-delta", id: "t0", delta: turn.text.slice(i, i + chunkSize) })
        }
        const chunkDelay = options.chunkDelay
        const deltas = Stream.fromIterable(chunks)
        const paced = chunkDelay === undefined ? deltas : deltas.pipe(Stream.tap(() => Effect.sleep(chunkDelay)))
        const head: Array<Response.StreamPartEncoded> = [
          { type: "response-metadata", modelId },
          { type: "text-start", id: "t0" }
        ]
        const tail: Array<Response.StreamPartEncoded> = [
          { type: "text-end", id: "t0" },
          { type: "finish", reason: turn.finishReason ?? "stop", usage: usageOf(request, turn.text, turn.usage) }
        ]
        return Stream.fromIterable(head).pipe(Stream.concat(paced), Stream.concat(Stream.fromIterable(tail)))
      }
    }
  }

  const languageModel = yield* LanguageModel.make({
    generateText: (request) =>
      track(
        Effect.suspend(() => {
          const turn = take(request)
          if (turn === undefined) return Effect.fail(exhausted)
          return wait(turn).pipe(Effect.andThen(answer(request, turn)))
        })
      ),
    streamText: (request) =>
      Stream.unwrap(
        Effect.sync(() => {
          const turn = take(request)
          if (turn === undefined) return Stream.fail(exhausted)
          return Stream.fromEffectDrain(wait(turn)).pipe(Stream.concat(streamParts(request, turn)))
        })
      ).pipe(
        Stream.onExit((exit) =>
          Effect.sync(() => {
            if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) interruptions++
            else completed++
          })
        )
      )
  })

  return ScriptedLanguageModel.of({
    languageModel,
    requests: Effect.sync(() => [...requests]),
    prompts: Effect.sync(() => requests.map((r) => r.prompt)),
    interruptions: Effect.sync(() => interruptions),
    completed: Effect.sync(() => completed)
  })
})

/** Provides the scripted `LanguageModel` and its `ScriptedLanguageModel` handle. */
export const layer = (
  script: ReadonlyArray<Turn>,
  options?: Options
): Layer.Layer<LanguageModel.LanguageModel | ScriptedLanguageModel> =>
  Layer.effectContext(
    Effect.map(make(script, options), (handle) =>
      Context.make(ScriptedLanguageModel, handle).pipe(Context.add(LanguageModel.LanguageModel, handle.languageModel))
    )
  )
