/**
 * Streaming through the mixture. `firstValid` on a plain text request streams the first provider to produce
 * acceptable content and interrupts the others; every other case decides first and replays the winner's answer as
 * stream parts (see `decidesFirst`).
 *
 * Screening a stream: a provider whose first content is text is held back until its opening is long enough for the
 * refusal heuristic of `Scorers.rejection` (which reads only an answer's opening words), or until its text ends;
 * an opening refusal puts it out of the race. Limits: a `content-filter` finish is seen only if it arrives
 * before the opening is judged, and a provider whose first content is reasoning (or a file) wins on it unscreened,
 * since its answer text is not known yet. Requests with tools or a structured output are not streamed this way:
 * their validity needs the whole answer.
 *
 * Time limits: a member's `timeout` bounds its time to the first content part only (rate-limit wait included);
 * after that the adapter's own between-events timeout applies, so a long answer streams to its end.
 */
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Response from "effect/ai/Response"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Mixture from "../Mixture.ts"
import * as MixtureError from "../MixtureError.ts"
import * as ProviderPool from "../ProviderPool.ts"
import type * as Scorer from "../Scorer.ts"
import * as Scorers from "../Scorers.ts"
import * as Answer from "./answer.ts"
import * as Attempts from "./attempts.ts"
import * as Call from "./call.ts"
import * as Failure from "./failure.ts"

const encodeStreamPart = Schema.encodeUnknownEffect(Response.StreamPart())

// Replays a decided answer as stream parts (text and reasoning as one delta each).
const toStreamParts = (parts: ReadonlyArray<Response.PartEncoded>): Array<Response.StreamPartEncoded> => {
  const out: Array<Response.StreamPartEncoded> = []
  parts.forEach((part, i) => {
    if (part.type === "text") {
      const id = `text_${i}`
      out.push({ type: "text-start", id }, { type: "text-delta", id, delta: part.text }, { type: "text-end", id })
    } else if (part.type === "reasoning") {
      const id = `reasoning_${i}`
      out.push(
        { type: "reasoning-start", id },
        { type: "reasoning-delta", id, delta: part.text },
        { type: "reasoning-end", id }
      )
    } else if (part.type !== "reasoning-delta" && part.type !== "reasoning-end") {
      out.push(part as Response.StreamPartEncoded)
    }
  })
  return out
}

/** A decided answer (the encoded parts of `generateText`) replayed as a stream. */
export const replay = (parts: ReadonlyArray<Response.PartEncoded>): Stream.Stream<Response.StreamPartEncoded> =>
  Stream.fromIterable(toStreamParts(parts))

const streamFailure = (
  member: Mixture.Member,
  strategy: string,
  cause: Cause.Cause<ProviderPool.CallError>
): Cause.Cause<AiError.AiError> => {
  const error = Cause.findErrorOption(cause)
  if (error._tag === "None") return cause as Cause.Cause<never>
  if (error.value._tag === "AiError") return Cause.fail(error.value)
  const failed = new MixtureError.MixtureFailed({ strategy, failures: [Failure.providerFailure(member, error.value)] })
  return Cause.fail(Failure.toAiError(failed, "streamText"))
}

// The parts that decide the race: a provider that has only sent metadata or started a block has not answered yet.
const isContent = (part: Response.StreamPart<any, "deferred">): boolean =>
  part.type === "text-delta" ||
  part.type === "reasoning-delta" ||
  part.type === "tool-call" ||
  part.type === "tool-params-start" ||
  part.type === "file"

/**
 * True when a `firstValid` stream must decide before streaming: with tools or a structured output, an answer is
 * only known to be valid (tool calls matching the toolkit, JSON matching the schema) once it is complete.
 */
export const decidesFirst = (request: LanguageModel.ProviderOptions): boolean =>
  request.tools.length > 0 || request.responseFormat.type === "json"

// Enough opening text to judge a refusal: the refusal heuristic matches opening phrases of at most about 25
// characters ("I am not able to provide"), so a longer opening gives the verdict the whole text would.
const openingLength = 32

type Screen = "wait" | "accept" | "refusal"

// A provider's answer so far (its text, and its finish part once sent), as the rejection gate sees answers.
const openingOf = (
  member: Mixture.Member,
  text: string,
  finish?: Response.StreamPart<any, "deferred">
): Scorer.Candidate => {
  const parts: Array<unknown> = [Response.makePart("text", { text })]
  if (finish !== undefined) parts.push(finish)
  return {
    provider: member.provider,
    model: member.model,
    weight: member.weight ?? 1,
    response: new LanguageModel.GenerateTextResponse<any, "deferred">(parts as never)
  }
}

// Whether a provider's answer may take the race, given what just arrived (a part, or the end of its stream) and
// its text so far.
const screen = (
  event: Response.StreamPart<any, "deferred"> | "end",
  text: string,
  member: Mixture.Member,
  request: LanguageModel.ProviderOptions
): Screen => {
  const judge = (finish?: Response.StreamPart<any, "deferred">): Screen =>
    Scorers.rejection(openingOf(member, text, finish), request) === "refusal" ? "refusal" : "accept"
  const hasText = text.trim() !== ""
  if (event === "end") return hasText ? judge() : "wait"
  switch (event.type) {
    case "text-delta":
      return text.trimStart().length >= openingLength ? judge() : "wait"
    case "text-end":
      return hasText ? judge() : "wait"
    case "finish":
      return hasText ? judge(event) : "wait"
    case "reasoning-delta":
    case "tool-call":
    case "tool-params-start":
    case "file":
      return hasText ? judge() : "accept"
    default:
      return "wait"
  }
}

// Fails with `error` at `at` (epoch ms) unless `passed()` by then.
const deadline = <E>(at: number, error: E, passed: () => boolean): Effect.Effect<never, E> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(Math.max(0, at - now))).pipe(
    Effect.andThen(Effect.suspend(() => (passed() ? Effect.never : Effect.fail(error))))
  )

/**
 * Streams every member at once and forwards the first one to produce acceptable content (its earlier parts
 * included), interrupting the others. The fan-out is published when the winner's stream ends, or when every
 * member failed.
 */
export const first =
  (options: Mixture.Options, pool: ProviderPool.Service, name: string) =>
  (request: LanguageModel.ProviderOptions): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.callback<Response.StreamPartEncoded, AiError.AiError>((out) =>
      Effect.gen(function* () {
        const startedAt = yield* Clock.currentTimeMillis
        const members = options.members
        const records = Attempts.initial(members)
        const estimatedTokens = Call.estimatedTokens(request.prompt)
        const fibers: Array<Fiber.Fiber<void>> = []
        let winner = -1
        let remaining = members.length
        const finish = (won: boolean) =>
          Attempts.publish(pool, {
            strategy: name,
            startedAt,
            members,
            records,
            winner: won ? members[winner]! : undefined
          })
        // Takes the race for `index`: its held parts go out first, and the others are interrupted.
        const claim = (index: number, held: Array<Response.StreamPartEncoded>) =>
          Effect.suspend(() => {
            winner = index
            for (const p of held) Queue.offerUnsafe(out, p)
            held.length = 0
            return Effect.forkDetach(Fiber.interruptAll(fibers.filter((_, i) => i !== index)))
          })

        for (let index = 0; index < members.length; index++) {
          // A provider already won while the others were being started: the rest are not asked.
          if (winner !== -1) {
            remaining -= members.length - index
            break
          }
          const member = members[index]!
          const record = records[index]!
          record.startedAt = startedAt
          const held: Array<Response.StreamPartEncoded> = []
          let text = ""
          let started = false
          let answered = false
          let refused = false
          const body = Call.stream(member.languageModel, request).pipe(
            Stream.runFoldEffect(
              () => undefined as ProviderPool.TokenUsage | undefined,
              (usage, part) =>
                Effect.gen(function* () {
                  // Lost the race before its interruption arrived: stop reading at once.
                  if (winner !== -1 && winner !== index) return yield* Effect.interrupt
                  const encoded = (yield* encodeStreamPart(part).pipe(
                    Effect.mapError(Answer.schemaFailure("streamText"))
                  )) as Response.StreamPartEncoded
                  if (isContent(part)) answered = true
                  if (winner === index) {
                    Queue.offerUnsafe(out, encoded)
                  } else {
                    held.push(encoded)
                    if (part.type === "text-delta") text += part.delta
                    const verdict = screen(part, text, member, request)
                    if (verdict === "accept") yield* claim(index, held)
                    else if (verdict === "refusal") {
                      // Out of the race: its record says why, and its stream is not read any further.
                      refused = true
                      Attempts.reject(record, openingOf(member, text), "refusal")
                      return yield* Effect.interrupt
                    }
                  }
                  return part.type === "finish" ? Call.finishUsage(part) : usage
                })
            )
          )
          // The member's timeout bounds the wait for its first content part, not the whole stream. The pool is
          // asked without a timeout and two deadlines stand in for it: inside the pooled call (so the pool and
          // the breaker count a silent provider as failed, like any timeout) and around it, for a call still
          // waiting for its rate limit. The inner one fails with a stand-in `AiError`, which is all a pooled
          // effect may fail with, and becomes the `ProviderTimeout` it stands for on the way out. A rate limit
          // that could not let the call start within the timeout refuses it at once (`RateLimited`).
          const timeoutMillis = Call.timeoutMillis(member)
          const deadlineAt = startedAt + timeoutMillis
          const timedOut = new ProviderPool.ProviderTimeout({ provider: member.provider, timeoutMillis })
          const silent = AiError.make({
            module: "Mixture",
            method: "streamText",
            reason: new AiError.UnknownError({ description: `no content within ${timeoutMillis} ms` })
          })
          const bounded = Effect.suspend(() => {
            started = true
            return Effect.raceFirst(
              body,
              deadline(deadlineAt, silent, () => answered)
            )
          })
          const pooled = pool
            .call(
              { provider: member.provider, model: member.model, maxWait: Duration.millis(timeoutMillis) },
              bounded,
              { usageOf: (u) => u, estimatedTokens }
            )
            .pipe(Effect.mapError((error) => (error === silent ? timedOut : error)))
          const fiber = yield* Effect.raceFirst(
            pooled,
            deadline(deadlineAt, timedOut, () => started)
          ).pipe(
            Effect.exit,
            Effect.flatMap((exit) =>
              Effect.gen(function* () {
                remaining--
                // A stream that ended without text-end or finish still gets its held opening judged.
                if (Exit.isSuccess(exit) && winner === -1 && !refused) {
                  const verdict = screen("end", text, member, request)
                  if (verdict === "accept") yield* claim(index, held)
                  else if (verdict === "refusal") {
                    refused = true
                    Attempts.reject(record, openingOf(member, text), "refusal")
                  }
                }
                // A refused provider is already recorded as rejected.
                if (!refused) {
                  if (Exit.isSuccess(exit)) {
                    Attempts.recordAnswer(record, exit.value, winner === index ? "won" : "answered")
                    if (winner === index) {
                      yield* finish(true)
                      yield* Queue.end(out)
                    }
                  } else if (Cause.hasInterruptsOnly(exit.cause)) {
                    record.outcome = "cancelled"
                  } else {
                    record.latencyMs = (yield* Clock.currentTimeMillis) - startedAt
                    const error = Cause.findErrorOption(exit.cause)
                    if (error._tag === "Some") Attempts.recordError(record, member, error.value)
                    else Attempts.recordDefect(record, member, exit.cause)
                    if (winner === index) {
                      // The winner broke after it started streaming: its failure is the stream's failure.
                      yield* finish(false)
                      yield* Queue.failCause(out, streamFailure(member, name, exit.cause))
                    }
                  }
                }
                if (remaining === 0 && winner === -1) {
                  yield* finish(false)
                  const failed = new MixtureError.MixtureFailed({
                    strategy: name,
                    failures: members.map(
                      (m, i) =>
                        records[i]!.failure ?? Failure.failure(m, "Empty", "its stream ended without content", true)
                    )
                  })
                  yield* Queue.failCause(
                    out,
                    Cause.fail(
                      Failure.toAiError(Failure.withReasons(failed, Attempts.aiReasons(records)), "streamText")
                    )
                  )
                }
              })
            ),
            // Scoped to the stream: the calls live as long as the caller reads it.
            Effect.forkScoped
          )
          fibers.push(fiber)
        }
      })
    )
