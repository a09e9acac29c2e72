/**
 * The mixture's answer as `LanguageModel` parts: the winner's response, encoded, with the decision reported in
 * its `response-metadata` part, and `decisionOf` to read it back.
 */
import * as AiError from "effect/ai/AiError"
import * as Response from "effect/ai/Response"
import * as Toolkit from "effect/ai/Toolkit"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Mixture from "../Mixture.ts"
import * as MixtureEvent from "../MixtureEvent.ts"
import type * as Scorer from "../Scorer.ts"

const encodeParts = Schema.encodeUnknownEffect(Schema.Array(Response.Part()))

const decodeAnyParts = Schema.decodeEffect(Schema.mutable(Schema.Array(Response.Part(Toolkit.empty))))

type Decoded = Effect.Success<ReturnType<typeof decodeAnyParts>>

// The schemas of the union above that a plain answer's parts have, each compiled once, chosen by the part's type:
// the union would pick the same one by the same literal, after more work on the path of every answer.
const plainDecoders = new Map<string, (part: unknown) => Result.Result<Decoded[number], Schema.SchemaError>>([
  ["text", Schema.decodeUnknownResult(Response.TextPart)],
  ["reasoning", Schema.decodeUnknownResult(Response.ReasoningPart)],
  ["response-metadata", Schema.decodeUnknownResult(Response.ResponseMetadataPart)],
  ["finish", Schema.decodeUnknownResult(Response.FinishPart)]
])

// The parts an adapter sends for a plain answer, in the shapes they usually have (no provider metadata, no HTTP
// details, tokens as integers), read field by field into what their schemas decode them to. The decoding of the
// last provider's answer is on the path of every fan-out, after it has waited for that provider, when the schema
// interpreter's code has gone cold: read this way it costs a fraction (see BENCHMARKS.md). Any other shape is left
// to the schemas (`undefined`).
type PlainPart = Decoded[number]

const isStringOrAbsent = (part: object, key: string): boolean => {
  const value = (part as Record<string, unknown>)[key]
  return value === undefined || typeof value === "string"
}

// Fields the schemas fill in themselves: an encoded part that sets them goes through the schemas.
const setsDecodedFields = (part: Record<string, unknown>): boolean =>
  part.metadata !== undefined || Response.isPart(part)

const textPart = (part: Record<string, unknown>): PlainPart | undefined =>
  typeof part.text === "string" ? Response.makePart("text", { text: part.text }) : undefined

const metadataPart = (part: Record<string, unknown>): PlainPart | undefined => {
  if (!isStringOrAbsent(part, "id") || !isStringOrAbsent(part, "modelId") || !isStringOrAbsent(part, "timestamp")) {
    return undefined
  }
  // `Schema.optional` keeps a key given as undefined, and leaves out one that is absent.
  const fields: { -readonly [K in "id" | "modelId" | "timestamp"]?: unknown } = {}
  if ("id" in part) fields.id = part.id
  if ("modelId" in part) fields.modelId = part.modelId
  if ("timestamp" in part) {
    if (part.timestamp === undefined) fields.timestamp = undefined
    else {
      const at = DateTime.make(part.timestamp as string)
      if (Option.isNone(at)) return undefined
      fields.timestamp = DateTime.toUtc(at.value)
    }
  }
  return Response.makePart("response-metadata", fields as Parameters<typeof Response.makePart<"response-metadata">>[1])
}

const finishReasons: ReadonlySet<unknown> = new Set(Response.FinishReason.literals)

// The token counts of one side of `Usage`: each key known and an integer when present.
const tokenCounts = (value: unknown, keys: ReadonlyArray<string>): Record<string, unknown> | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const counts: Record<string, unknown> = {}
  for (const key in value) {
    const n = (value as Record<string, unknown>)[key]
    if (!keys.includes(key) || (n !== undefined && !Number.isSafeInteger(n))) return undefined
    counts[key] = n
  }
  return counts
}

const inputTokenKeys = ["uncached", "total", "cacheRead", "cacheWrite"]
const outputTokenKeys = ["total", "text", "reasoning"]

const finishPart = (part: Record<string, unknown>): PlainPart | undefined => {
  if (!finishReasons.has(part.reason) || part.response !== undefined) return undefined
  const usage = part.usage as Record<string, unknown> | null | undefined
  if (typeof usage !== "object" || usage === null) return undefined
  const inputTokens = tokenCounts(usage.inputTokens, inputTokenKeys)
  const outputTokens = tokenCounts(usage.outputTokens, outputTokenKeys)
  if (inputTokens === undefined || outputTokens === undefined) return undefined
  // Checked above as the schema checks them; its structure is still parsed by the constructor.
  const fields = {
    reason: part.reason as Response.FinishReason,
    usage: new Response.Usage({ inputTokens, outputTokens }, { disableChecks: true })
  }
  return Response.makePart("finish", "response" in part ? { ...fields, response: undefined } : fields)
}

const plainReaders: Readonly<Record<string, (part: Record<string, unknown>) => PlainPart | undefined>> = {
  text: textPart,
  "response-metadata": metadataPart,
  finish: finishPart
}

const readPlain = (part: Response.PartEncoded): PlainPart | undefined => {
  const fields = part as unknown as Record<string, unknown>
  const read = Object.hasOwn(plainReaders, part.type) ? plainReaders[part.type] : undefined
  return read === undefined || setsDecodedFields(fields) ? undefined : read(fields)
}

/**
 * Decodes the parts of an answer to a request without tools, as `LanguageModel` does: the usual plain shapes read
 * directly, other plain parts with decoders compiled once (`LanguageModel` compiles a new one on every such call).
 * An answer with other parts, or with a part that does not decode, goes through the whole union, whose error is the
 * one `LanguageModel` would report.
 */
export const decodeParts = (parts: Array<Response.PartEncoded>): Effect.Effect<Decoded, Schema.SchemaError> => {
  const decoded: Decoded = []
  for (const part of parts) {
    const read = readPlain(part)
    if (read !== undefined) {
      decoded.push(read)
      continue
    }
    const result = plainDecoders.get(part.type)?.(part)
    if (result === undefined || Result.isFailure(result)) return decodeAnyParts(parts)
    decoded.push(result.success)
  }
  return Effect.succeed(decoded)
}
const decodeSummary = Schema.decodeUnknownResult(MixtureEvent.DecisionSummary)

/** An encoding failure of the mixture's own output, as the `AiError` its `LanguageModel` may fail with. */
export const schemaFailure = (method: string) => (error: Schema.SchemaError) =>
  AiError.make({ module: "Mixture", method, reason: AiError.InvalidOutputError.fromSchemaError(error) })

// Every attempt that reached its provider may be billed, the scorers' (a judge's) included; one that never
// started (skipped) may not.
const chargesOf = (event: MixtureEvent.FanOut): Array<MixtureEvent.Charge> =>
  [...event.attempts, ...(event.scoring ?? [])]
    .filter((a) => a.outcome !== "skipped")
    .map((a) => ({
      provider: a.provider,
      model: a.model,
      inputTokens: a.inputTokens ?? 0,
      outputTokens: a.outputTokens ?? 0,
      ...(a.costUsd === undefined ? {} : { costUsd: a.costUsd }),
      estimated: a.inputTokens === undefined
    }))

const summaryOf = (decision: Mixture.Decision, strategy: string): MixtureEvent.DecisionSummary => ({
  provider: decision.winner.provider,
  model: decision.winner.model,
  strategy,
  scores: decision.scores.map((s) => ({
    provider: s.provider,
    score: s.score,
    ...(s.rejectedBy === undefined ? {} : { rejectedBy: s.rejectedBy })
  })),
  charges: chargesOf(decision.event)
})

/** The encoded parts of a response, annotated with `summary` in their `response-metadata` part. */
export const encodeWith = (
  content: ReadonlyArray<Response.AnyPart>,
  summary: MixtureEvent.DecisionSummary,
  method: string
): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError> =>
  Effect.map(encodeParts(content).pipe(Effect.mapError(schemaFailure(method))), (parts) =>
    annotate(parts as ReadonlyArray<Response.PartEncoded>, summary)
  )

// A summary read once per summary object: a caller reads the answer's charges and its scores, each a decode. The
// summaries this module puts in answers are known as they are, when they are what the schema admits.
const decodedSummaries = new WeakMap<object, MixtureEvent.DecisionSummary | undefined>()

const isString = (u: unknown): boolean => typeof u === "string"

// What decoding `summary` with `MixtureEvent.DecisionSummary` checks, for a summary made here.
const admitted = (summary: MixtureEvent.DecisionSummary): boolean =>
  isString(summary.provider) &&
  isString(summary.model) &&
  isString(summary.strategy) &&
  summary.scores.every(
    (s) => isString(s.provider) && Number.isFinite(s.score) && (s.rejectedBy === undefined || isString(s.rejectedBy))
  ) &&
  (summary.charges === undefined ||
    summary.charges.every(
      (c) =>
        isString(c.provider) &&
        isString(c.model) &&
        Number.isSafeInteger(c.inputTokens) &&
        Number.isSafeInteger(c.outputTokens) &&
        (c.costUsd === undefined || Number.isFinite(c.costUsd)) &&
        typeof c.estimated === "boolean"
    ))

const known = (summary: MixtureEvent.DecisionSummary): MixtureEvent.DecisionSummary => {
  if (admitted(summary)) decodedSummaries.set(summary, summary)
  return summary
}

/** Puts the decision in the answer's response-metadata part (adding one when the provider sent none). */
export const annotate = <P extends { readonly type: string }>(
  parts: ReadonlyArray<P>,
  summary: MixtureEvent.DecisionSummary
): Array<P> => {
  known(summary)
  const at = parts.findIndex((p) => p.type === "response-metadata")
  const existing = (at === -1 ? { type: "response-metadata" } : parts[at]) as P & {
    readonly metadata?: Record<string, unknown>
    readonly modelId?: string
  }
  const annotated = {
    ...existing,
    modelId: existing.modelId ?? summary.model,
    metadata: { ...existing.metadata, mixture: summary }
  } as unknown as P
  return at === -1 ? [annotated, ...parts] : parts.map((p, i) => (i === at ? annotated : p))
}

// The parts a candidate's adapter sent, when the fan-out took them directly from it: its answer needs no encoding.
const encodedParts = new WeakMap<Scorer.Candidate, ReadonlyArray<Response.PartEncoded>>()

/** Keeps the parts `candidate`'s adapter sent, so that `encode` returns them rather than encoding its response. */
export const keepEncoded = (candidate: Scorer.Candidate, parts: ReadonlyArray<Response.PartEncoded>): void => {
  encodedParts.set(candidate, parts)
}

/** The winner's response as encoded parts for `generateText`, annotated with the decision. */
export const encode = (
  decision: Mixture.Decision,
  strategy: string
): Effect.Effect<Array<Response.PartEncoded>, AiError.AiError> => {
  const summary = summaryOf(decision, strategy)
  const kept = encodedParts.get(decision.winner)
  return kept === undefined
    ? encodeWith(decision.winner.response.content, summary, "generateText")
    : Effect.succeed(annotate(kept, summary))
}

// Parts whose decoded form is what encoding and decoding them again would give: the winner's own can be returned.
const plainPartTypes: ReadonlySet<string> = new Set(["text", "reasoning", "response-metadata", "finish"])

/**
 * The winner's decoded parts annotated with the decision, as `LanguageModel` would decode `encode`'s parts for a
 * request without tools: taken as they are when they are plain (text, reasoning, metadata, finish), otherwise
 * encoded and decoded again.
 */
export const decoded = (
  decision: Mixture.Decision,
  strategy: string
): Effect.Effect<Array<Response.AnyPart>, AiError.AiError> => {
  const content = decision.winner.response.content as ReadonlyArray<Response.AnyPart>
  if (!content.every((part) => plainPartTypes.has(part.type))) {
    return Effect.flatMap(encode(decision, strategy), (parts) =>
      decodeParts(parts).pipe(
        Effect.mapError((error) =>
          AiError.make({
            module: "LanguageModel",
            method: "generateText",
            reason: AiError.InvalidOutputError.fromSchemaError(error)
          })
        )
      )
    )
  }
  const summary = summaryOf(decision, strategy)
  return Effect.succeed(
    content.some((part) => part.type === "response-metadata")
      ? annotate(content, summary)
      : [
          Response.makePart("response-metadata", { modelId: summary.model, metadata: { mixture: known(summary) } }),
          ...content
        ]
  )
}

/** The decision of the mixture that produced `response`, if a mixture did. */
export const decisionOf = (response: {
  readonly content: ReadonlyArray<{ readonly type: string }>
}): MixtureEvent.DecisionSummary | undefined => {
  const part = response.content.find((p) => p.type === "response-metadata") as
    | { readonly metadata?: Record<string, unknown> }
    | undefined
  const raw = part?.metadata?.mixture
  if (raw === undefined) return undefined
  if (typeof raw !== "object" || raw === null) return Result.getOrUndefined(decodeSummary(raw))
  if (decodedSummaries.has(raw)) return decodedSummaries.get(raw)
  const decoded = Result.getOrUndefined(decodeSummary(raw))
  decodedSummaries.set(raw, decoded)
  return decoded
}
