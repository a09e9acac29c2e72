/**
 * Helpers shared by the mixture tests: members over scripted models, and ways to let the test clock and the
 * mixture's background fibers move.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import type * as Mixture from "../../src/mixture/Mixture.ts"
import type * as Scripted from "../../src/testing/ScriptedLanguageModel.ts"

/** A member named `provider` answering with the scripted model of `handle`. */
export const member = (
  provider: string,
  handle: Scripted.Handle,
  options: { readonly weight?: number; readonly timeout?: Duration.Input; readonly model?: string } = {}
): Mixture.Member => ({
  provider,
  model: options.model ?? `${provider}-model`,
  languageModel: handle.languageModel,
  ...(options.weight === undefined ? {} : { weight: options.weight }),
  ...(options.timeout === undefined ? {} : { timeout: options.timeout })
})

/** Runs `effect` in a fiber while the test clock moves forward by `millis`, then joins it. */
export const withClock = <A, E, R>(effect: Effect.Effect<A, E, R>, millis: number) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(millis)
    return yield* Fiber.join(fiber)
  })

/** Lets every fiber that can run do so before the test looks (the clock does not move). */
export const settle = Effect.gen(function* () {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

/** Losers are interrupted in the background once the mixture has decided: gives that fiber its turn. */
export const interrupted = (handle: Scripted.Handle) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100 && (yield* handle.interruptions) === 0; i++) yield* Effect.yieldNow
    return yield* handle.interruptions
  })
