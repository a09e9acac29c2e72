/**
 * Wraps every model call of a `LanguageModel` (to time it, count it or delay it), including the adapter methods
 * of our own adapters, which the mixture and the pool call directly: a probe on `generateText` alone would miss
 * those calls.
 */
import type * as AiError from "effect/ai/AiError"
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Effect from "effect/Effect"
import * as Common from "../internal/common.ts"

/** What a probe does around one call: it must run `call` once and return its outcome. */
export type Around = <A, R>(call: Effect.Effect<A, AiError.AiError, R>) => Effect.Effect<A, AiError.AiError, R>

/** `model` with `around` applied to every `generateText` call, through the service or the adapter's methods. */
export const around = (model: LanguageModel.LanguageModel, wrap: Around): LanguageModel.LanguageModel => {
  const loose = model as unknown as {
    readonly generateText: (options: unknown) => Effect.Effect<unknown, AiError.AiError>
  }
  const wrapped = {
    ...model,
    generateText: (options: unknown) => wrap(loose.generateText(options))
  } as unknown as LanguageModel.LanguageModel
  const methods = Common.methodsOf(model)
  return methods === undefined
    ? wrapped
    : Common.withMethods(wrapped, {
        ...methods,
        generateText: (options) => wrap(methods.generateText(options))
      })
}
