/**
 * A time limit around one provider call, as `Effect.timeoutOrElse` sets it, at a lower price. `Effect.timeoutOrElse`
 * races the call against a sleep: two fibers, and the loser interrupted (an interruption cause built, annotated and
 * awaited) on every call, even the calls that end in time, which are nearly all. Here the call runs in one child
 * fiber and the limit is a timer, cleared when the call ends. Every model call goes through two such limits (the
 * pool's and the HTTP attempt's), and a mixture's calls in parallel.
 *
 * Same outcomes: the call's own exit when it ends first; past the limit, the call interrupted (and awaited) and then
 * `orElse`; interrupted from outside, the call interrupted too. Under any clock but Effect's own (a test's
 * `TestClock`), `Effect.timeoutOrElse` itself runs, so that the clock still decides when the limit passes.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

// Effect's own clock sleeps with `setTimeout`; it is told apart from a test's clock by its class.
const DefaultClock = Clock.Clock.defaultValue().constructor

// What `setTimeout` accepts; a longer limit goes through the clock.
const maxTimerMillis = 2 ** 31 - 1

export const timeoutOrElse = <A, E, R, A2, E2, R2>(
  self: Effect.Effect<A, E, R>,
  options: { readonly duration: Duration.Input; readonly orElse: () => Effect.Effect<A2, E2, R2> }
): Effect.Effect<A | A2, E | E2, R | R2> =>
  Effect.clockWith((clock) => {
    const millis = Duration.toMillis(Duration.fromInputUnsafe(options.duration))
    if (clock.constructor !== DefaultClock || !(millis >= 0 && millis <= maxTimerMillis)) {
      return Effect.timeoutOrElse(self, options)
    }
    return Effect.flatMap(Effect.forkChild(self, { startImmediately: true }), (fiber) =>
      Effect.callback<A | A2, E | E2, R2>((resume) => {
        let stopObserving: () => void = () => {}
        const timer = setTimeout(() => {
          stopObserving()
          resume(Effect.andThen(Fiber.interrupt(fiber), options.orElse()))
        }, millis)
        stopObserving = fiber.addObserver((exit) => {
          clearTimeout(timer)
          resume(exit)
        })
        return Effect.suspend(() => {
          clearTimeout(timer)
          stopObserving()
          return Fiber.interrupt(fiber)
        })
      })
    )
  })
