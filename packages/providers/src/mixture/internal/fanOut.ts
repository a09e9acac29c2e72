/**
 * One fan-out of a request to the mixture's members: launching the calls through the pool (timeouts, breakers,
 * rate limits, accounting), collecting their outcomes as they arrive, letting the strategy decide, interrupting
 * the losers, publishing the fan-out and failing with every provider's reason when nobody won.
 */
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import type * as Mixture from "../Mixture.ts"
import * as MixtureError from "../MixtureError.ts"
import type * as MixtureEvent from "../MixtureEvent.ts"
import * as ProviderPool from "../ProviderPool.ts"
import type * as Scorer from "../Scorer.ts"
import * as Scorers from "../Scorers.ts"
import * as Answer from "./answer.ts"
import * as Attempts from "./attempts.ts"
import * as Call from "./call.ts"
import * as Failure from "./failure.ts"
import * as Hedge from "./hedge.ts"
import * as Strategy from "./strategy.ts"

type Event =
  | {
      readonly _tag: "Done"
      readonly index: number
      readonly exit: Exit.Exit<Scorer.Candidate, ProviderPool.CallError>
    }
  | Hedge.Tick

/** Runs one fan-out and returns the winner, or `MixtureFailed`; see `Mixture.decide`. */
export const decide = (
  options: Mixture.Options
): ((
  request: LanguageModel.ProviderOptions
) => Effect.Effect<Mixture.Decision, MixtureError.MixtureFailed, ProviderPool.ProviderPool>) => {
  const run = decideOn(options)
  return (request) => Effect.flatMap(Effect.service(ProviderPool.ProviderPool), (pool) => run(pool, request))
}

/** `decide` on a given pool (the mixture's `LanguageModel` has it at hand: no context to copy per request). */
export const decideOn = (
  options: Mixture.Options
): ((
  pool: ProviderPool.Service,
  request: LanguageModel.ProviderOptions
) => Effect.Effect<Mixture.Decision, MixtureError.MixtureFailed>) => {
  const members = options.members
  const targets = members.map(Call.target)
  const rules = Strategy.rulesOf(options.strategy)
  const name = Strategy.strategyName(options.strategy)
  const hedgeMillis = Hedge.delayOf(options, rules)

  return (pool, request) =>
    Effect.gen(function* () {
      // Read directly rather than through an effect each time: every attempt reads it when it starts and ends.
      const clock = yield* Clock.Clock
      const startedAt = clock.currentTimeMillisUnsafe()
      const estimatedTokens = Call.estimatedTokens(request.prompt)
      const records = Attempts.initial(members)
      const candidates: Array<Scorer.Candidate | undefined> = members.map(() => undefined)
      // Completions and hedge timers arrive here. The one that posts resumes the waiting loop directly, where a
      // Queue would wake it a turn of the event loop later — on the path of every answer.
      const inbox: Array<Event> = []
      let waiting: ((event: Effect.Effect<Event>) => void) | undefined
      const deliver = (event: Event): void => {
        const resume = waiting
        if (resume === undefined) inbox.push(event)
        else {
          waiting = undefined
          resume(Effect.succeed(event))
        }
      }
      const post = (event: Event) => Effect.sync(() => deliver(event))
      const next: Effect.Effect<Event> = Effect.suspend(() =>
        inbox.length > 0
          ? Effect.succeed(inbox.shift()!)
          : Effect.callback<Event>((resume) => {
              waiting = resume
            })
      )
      const fibers = new Map<number, Fiber.Fiber<unknown>>()
      let launched = 0
      const order = launchOrder(members, rules, hedgeMillis !== undefined, pool)
      const hedge = hedgeMillis === undefined ? undefined : Hedge.make(hedgeMillis, post)

      // One member's call, its outcome recorded and posted to the loop when it ends, however it ends.
      const attempt = (index: number): Effect.Effect<unknown> => {
        const member = members[index]!
        const record = records[index]!
        const call = rules.persist(
          pool.call(targets[index]!, Call.answer(member.languageModel, request), {
            usageOf: Call.answeredUsage,
            estimatedTokens
          })
        )
        return Effect.suspend(() => {
          const start = clock.currentTimeMillisUnsafe()
          record.startedAt = start
          const ended = Effect.onExit(call, (exit) => {
            if (Exit.isSuccess(exit)) {
              const accounted = exit.value
              Attempts.recordAnswer(record, accounted, "answered")
              const candidate: Scorer.Candidate = {
                provider: member.provider,
                model: member.model,
                weight: member.weight ?? 1,
                response: accounted.value.response
              }
              if (accounted.value.encoded !== undefined) Answer.keepEncoded(candidate, accounted.value.encoded)
              deliver({ _tag: "Done", index, exit: Exit.succeed(candidate) })
              return Effect.void
            }
            const failed = Cause.findError(exit.cause)
            if (Result.isSuccess(failed)) {
              record.latencyMs = clock.currentTimeMillisUnsafe() - start
              Attempts.recordError(record, member, failed.success)
            }
            if (Cause.hasInterrupts(exit.cause)) {
              record.outcome = "cancelled"
              record.latencyMs = clock.currentTimeMillisUnsafe() - start
            }
            deliver({ _tag: "Done", index, exit: Exit.failCause(exit.cause) })
            return Effect.void
          })
          // The outcome is the loop's business, posted above: the fiber itself ends without an error.
          return Effect.exit(ended)
        })
      }

      const launch = Effect.suspend(() => {
        if (launched >= members.length) return Effect.void
        const index = order[launched++]!
        return Effect.flatMap(
          // Started at once rather than on the scheduler's next turn: the call's request leaves before the next
          // member's is built, and the event loop's turn (a tenth of a millisecond or more under load) is not
          // paid before the first request.
          Effect.forkChild(attempt(index), { startImmediately: true }),
          (fiber) => {
            fibers.set(index, fiber)
            return hedge === undefined || launched >= members.length ? Effect.void : hedge.arm
          }
        )
      })

      // Sequential strategies start one provider; hedging starts more over time; the others start everyone.
      const sequential = rules.sequential || hedge !== undefined
      if (sequential) yield* launch
      else for (let i = 0; i < members.length; i++) yield* launch

      const tally = rules.tally()
      let winner: Scorer.Candidate | undefined
      let pending = launched

      while (pending > 0 && winner === undefined) {
        const event = yield* next
        if (event._tag === "Hedge") {
          if (hedge?.isCurrent(event) === true && launched < members.length) {
            yield* launch
            pending++
          }
          continue
        }
        pending--
        fibers.delete(event.index)
        if (
          Exit.isFailure(event.exit) &&
          !Cause.hasFails(event.exit.cause) &&
          !Cause.hasInterruptsOnly(event.exit.cause)
        ) {
          Attempts.recordDefect(records[event.index]!, members[event.index]!, event.exit.cause)
        }
        if (Exit.isSuccess(event.exit)) {
          const candidate = event.exit.value
          candidates[event.index] = candidate
          const rejected = rules.screens ? Scorers.rejection(candidate, request) : undefined
          if (rejected !== undefined) {
            Attempts.reject(records[event.index]!, candidate, rejected)
          } else {
            winner = tally(candidate)
          }
        }
        // A failed or rejected sequential attempt hands over to the next provider at once.
        if (sequential && winner === undefined && launched < members.length) {
          yield* launch
          pending++
        }
      }

      // The decision is made: the calls still running lost. They are interrupted in the background, after the
      // caller has had its turn, so tearing down their HTTP requests does not delay the answer; the event
      // already reports them cancelled.
      if (fibers.size > 0) {
        const now = clock.currentTimeMillisUnsafe()
        for (const index of fibers.keys()) {
          const record = records[index]!
          record.outcome = "cancelled"
          if (record.startedAt !== undefined) record.latencyMs = now - record.startedAt
        }
        yield* Effect.forkDetach(Effect.yieldNow.pipe(Effect.andThen(Fiber.interruptAll([...fibers.values()]))))
      }

      let scores: Mixture.Decision["scores"] = []
      let scoring: ReadonlyArray<MixtureEvent.Attempt> = []
      if (rules.conclude !== undefined) {
        const verdict = yield* rules.conclude(candidates, records, request)
        winner = verdict.winner
        scores = verdict.scores
        scoring = verdict.scoring ?? []
      }

      if (winner !== undefined) records[candidates.indexOf(winner)]!.outcome = "won"
      const event = yield* Attempts.publish(pool, { strategy: name, startedAt, members, records, winner, scoring })

      if (winner === undefined) {
        const failures = members.map((member, i): MixtureError.ProviderFailure => {
          const r = records[i]!
          if (r.failure !== undefined) return r.failure
          return r.outcome === "answered"
            ? Failure.failure(member, "Disagreed", "its answer found no quorum", true)
            : Failure.failure(member, "NotAttempted", "not attempted", true)
        })
        const detail = rules.detail?.(records)
        const failed = new MixtureError.MixtureFailed({
          strategy: name,
          failures,
          ...(detail === undefined ? {} : { detail })
        })
        return yield* Effect.fail(Failure.withReasons(failed, Attempts.aiReasons(records)))
      }
      return { winner, scores, event }
    })
}

// All members start at once, but each one's request is built on this one thread before the next begins (about
// a tenth of a millisecond with the HTTP adapters), and the fan-out ends with the slowest of the answers it waits
// for. Those start first, the slowest of them first, so the others are prepared while they work: when every answer
// is awaited the slowest provider goes first, when the first answer wins the fastest, and a quorum of k starts the
// k fastest, the k-th first. The rest follow fastest first. Ordered strategies (fallback, hedging) keep the
// configured order. Providers without a latency yet keep their place, in front.
const launchOrder = (
  members: ReadonlyArray<Mixture.Member>,
  rules: Strategy.Rules,
  hedged: boolean,
  pool: ProviderPool.Service
): ReadonlyArray<number> => {
  const indices = members.map((_, i) => i)
  if (rules.order === "configured" || hedged) return indices
  const expected = indices.map((i) => pool.expectedLatency(members[i]!.provider))
  const unknown = indices.filter((i) => expected[i] === undefined)
  // A stable sort: equal latencies keep the configured order.
  const known = indices.filter((i) => expected[i] !== undefined).sort((a, b) => expected[a]! - expected[b]!)
  const awaited = known.slice(0, rules.order.awaits).sort((a, b) => expected[b]! - expected[a]!)
  return [...unknown, ...awaited, ...known.slice(rules.order.awaits)]
}
