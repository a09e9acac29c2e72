/**
 * Streaming through the mixture: `firstValid` streams the first provider to produce content and interrupts the
 * others; every other strategy decides first and replays the winner's answer as stream parts.
 */
import type * as AiError from "effect/ai/AiError"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Response from "effect/ai/Response"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Mixture from "../../Mixture.ts"
import type * as ProviderPool from "../../ProviderPool.ts"
import * as Answer from "./Answer.ts"
import * as Attempts from "./Attempts.ts"
import * as Call from "./Call.ts"
import * as Failure from "./Failure.ts"

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
  const failed = new Failure.MixtureFailed({ strategy, failures: [Failure.providerFailure(member, error.value)] })
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
 * Streams every member at once and forwards the first one to produce content (its earlier parts included),
 * interrupting the others. The fan-out is published when the winner's stream ends, or when every member failed.
 */
export const first =
  (options: Mixture.Options, pool: ProviderPool.Service, name: string) =>
  (request: LanguageModel.ProviderOptions): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.callback<Response.StreamPartEncoded, AiError.AiError>((out) =>
      Effect.gen(function* () {
        const startedAt = yield* Clock.currentTimeMillis
        const members = options.members
        const records = Attempts.initial(members)
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

        for (let index = 0; index < members.length; index++) {
          // A provider already won while the others were being started: the rest are not asked.
          if (winner !== -1) {
            remaining -= members.length - index
            break
          }
          const member = members[index]!
          const record = records[index]!
          const buffered: Array<Response.StreamPartEncoded> = []
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
                  if (winner === -1 && isContent(part)) {
                    winner = index
                    yield* Effect.forkDetach(Fiber.interruptAll(fibers.filter((_, i) => i !== index)))
                    for (const p of buffered) Queue.offerUnsafe(out, p)
                    buffered.length = 0
                  }
                  if (winner === index) Queue.offerUnsafe(out, encoded)
                  else buffered.push(encoded)
                  return part.type === "finish"
                    ? {
                        inputTokens: part.usage.inputTokens.total ?? 0,
                        outputTokens: part.usage.outputTokens.total ?? 0
                      }
                    : usage
                })
            )
          )
          const fiber = yield* pool.call(Call.target(member), body, { usageOf: (u) => u }).pipe(
            Effect.exit,
            Effect.flatMap((exit) =>
              Effect.gen(function* () {
                remaining--
                if (Exit.isSuccess(exit)) {
                  record.outcome = winner === index ? "won" : "answered"
                  record.latencyMs = exit.value.latencyMs
                  if (winner === index) {
                    yield* finish(true)
                    yield* Queue.end(out)
                  }
                } else if (Cause.hasInterruptsOnly(exit.cause)) {
                  record.outcome = "cancelled"
                } else {
                  const error = Cause.findErrorOption(exit.cause)
                  if (error._tag === "Some") {
                    record.outcome = Attempts.outcomeOf(error.value)
                    Attempts.recordError(record, member, error.value)
                  } else {
                    Attempts.recordDefect(record, member, exit.cause)
                  }
                  if (winner === index) {
                    // The winner broke after it started streaming: its failure is the stream's failure.
                    yield* finish(false)
                    yield* Queue.failCause(out, streamFailure(member, name, exit.cause))
                  }
                }
                if (remaining === 0 && winner === -1) {
                  yield* finish(false)
                  const failed = new Failure.MixtureFailed({
                    strategy: name,
                    failures: members.map(
                      (m, i) =>
                        records[i]!.failure ?? {
                          provider: m.provider,
                          model: m.model,
                          reason: "Empty",
                          message: "its stream ended without content",
                          retryable: true
                        }
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
