/**
 * The built-in scorers of the mixture: a heuristic quality score, validity against the requested output schema,
 * validity of tool calls against the toolkit's schemas, agreement with the other answers, and an optional judge
 * model. `defaults` is what the `weighted-score` strategy uses unless told otherwise.
 */
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Tool from "effect/ai/Tool"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Call from "./internal/call.ts"
import type * as MixtureEvent from "./MixtureEvent.ts"
import * as ProviderPool from "./ProviderPool.ts"
import * as Scorer from "./Scorer.ts"

const notJson: Result.Result<unknown, unknown> = Result.fail("not JSON")

// Only text that starts like a JSON object or array is parsed (structured output is always one): a failing JSON.parse throws, and the exception's stack
// trace costs far more than the parse, on every answer of every fan-out.
const parseJson = (text: string): Result.Result<unknown, unknown> => {
  const first = text.trimStart()[0]
  return first === "{" || first === "[" ? Result.try(() => JSON.parse(text) as unknown) : notJson
}

// Refusals open with an apology or a statement of inability; checked on the first sentence only, so an answer
// that mentions "I can't" later on is not a refusal.
const refusalPattern =
  /^\s*(i'?m sorry|i am sorry|sorry,|i apologi[sz]e|unfortunately,? i|as an ai\b|i can(?:'|no)t (?:help|assist|comply|do that|provide)|i (?:cannot|can not|won'?t|will not|am unable to|'m unable to|am not able to) (?:help|assist|comply|provide|do)|i must decline)/i

/** True when an answer is a refusal: a `content-filter` finish, or an opening apology/statement of inability. */
export const isRefusal = (response: LanguageModel.GenerateTextResponse<any, any>): boolean => {
  let refused = refusals.get(response)
  if (refused === undefined) {
    refused =
      response.finishReason === "content-filter" ||
      (response.toolCalls.length === 0 && refusalPattern.test(response.text.slice(0, 200)))
    refusals.set(response, refused)
  }
  return refused
}

// Asked of every answer by its quality, by the rejection gate and again when the winner is chosen: answered once.
const refusals = new WeakMap<LanguageModel.GenerateTextResponse<any, any>, boolean>()

/** True when an answer has neither text nor tool calls. */
export const isEmpty = (response: LanguageModel.GenerateTextResponse<any, any>): boolean =>
  response.text.trim() === "" && response.toolCalls.length === 0

// Scoring one fan-out reads each answer's words many times (quality, repetition, every pair's agreement); they are
// split once per text. The last few texts are enough: a fan-out has a handful of answers.
const wordsOf = new Map<string, ReadonlyArray<string>>()
const wordsKept = 16

const words = (text: string): ReadonlyArray<string> => {
  let found = wordsOf.get(text)
  if (found === undefined) {
    found = text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []
    if (wordsOf.size >= wordsKept) wordsOf.delete(wordsOf.keys().next().value!)
    wordsOf.set(text, found)
  }
  return found
}

/** The share of repeated lines and repeated word 4-grams: 0 for varied text, towards 1 for loops. */
export const repetition = (text: string): number => {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
  const lineRepeats = lines.length < 2 ? 0 : 1 - new Set(lines).size / lines.length
  const w = words(text)
  if (w.length < 8) return lineRepeats
  const grams = new Set<string>()
  let total = 0
  for (let i = 0; i + 4 <= w.length; i++) {
    grams.add(w.slice(i, i + 4).join(" "))
    total++
  }
  return Math.max(lineRepeats, 1 - grams.size / total)
}

/**
 * A heuristic quality score of one answer, in [0, 1]: rewards structure (paragraphs, lists, headings, balanced
 * code fences), completeness (a `stop` finish, a finished last sentence) and valid JSON when the answer looks
 * like JSON; penalises repetition, refusals, truncation (`length`) and emptiness.
 */
export const quality = (response: LanguageModel.GenerateTextResponse<any, any>): number => {
  let score = qualities.get(response)
  if (score === undefined) {
    score = computeQuality(response)
    qualities.set(response, score)
  }
  return score
}

// An answer's quality is read by the scorer and again by a quorum choosing its group's answer: measured once.
const qualities = new WeakMap<LanguageModel.GenerateTextResponse<any, any>, number>()

const computeQuality = (response: LanguageModel.GenerateTextResponse<any, any>): number => {
  if (isEmpty(response)) return 0
  if (response.toolCalls.length > 0 && response.text.trim() === "") {
    return response.finishReason === "length" ? 0.4 : 0.8
  }
  const text = response.text.trim()
  let score = 0.5
  const fences = (text.match(/^\s*```/gm) ?? []).length
  if (fences > 0) score += fences % 2 === 0 ? 0.1 : -0.2
  if (/\n\s*\n/.test(text)) score += 0.05
  if (/^\s*([-*+]|\d+[.)])\s+/m.test(text)) score += 0.05
  if (/^#{1,6}\s/m.test(text)) score += 0.05
  const first = text[0]
  if (first === "{" || first === "[") {
    score += Result.isSuccess(parseJson(text)) ? 0.2 : -0.2
  } else if (fences % 2 === 0 && !/[.!?:)`"'\]}*]$/.test(text)) {
    score -= 0.05
  }
  if (words(text).length >= 5) score += 0.05
  if (response.finishReason === "stop" || response.finishReason === "tool-calls") score += 0.1
  if (response.finishReason === "length") score -= 0.25
  score -= 0.6 * repetition(text)
  if (isRefusal(response)) score -= 0.5
  return Math.min(1, Math.max(0, score))
}

/** Heuristic quality (see `quality`). */
export const heuristic: Scorer.Scorer = Scorer.make("quality", (c) => quality(c.response))

// True when `text` is JSON that decodes with the requested output schema; a text request always matches.
const matchesSchema = (text: string, request: LanguageModel.ProviderOptions): boolean => {
  if (request.responseFormat.type !== "json") return true
  const decoded = parseJson(text)
  if (Result.isFailure(decoded)) return false
  const schema = request.responseFormat.schema as unknown as Schema.Codec<unknown, unknown>
  return Result.isSuccess(Schema.decodeUnknownResult(schema)(decoded.success))
}

/**
 * Validity against the requested output schema (a gate): for `generateObject` requests the answer's text must
 * be JSON that decodes with the schema. Text requests always pass.
 */
export const schemaValidity: Scorer.Scorer = Scorer.make(
  "schema",
  (c, request) => (matchesSchema(c.response.text, request) ? 1 : 0),
  { gate: true, weight: 0.5 }
)

/** True when `params` decode with the parameters schema of the tool named `name` among `tools`. */
export const isValidToolCall = (tools: ReadonlyArray<Tool.Any>, name: string, params: unknown): boolean => {
  const tool = tools.find((t) => t.name === name)
  if (tool === undefined) return false
  const schema = tool.parametersSchema as unknown as Schema.Codec<unknown, unknown>
  return Result.isSuccess(Schema.decodeUnknownResult(schema)(params))
}

// The tool calls the caller runs (a provider-executed call was already run by the provider).
const clientCalls = (response: LanguageModel.GenerateTextResponse<any, any>) =>
  response.toolCalls.filter((call) => call.providerExecuted !== true)

const callsAreValid = (calls: ReturnType<typeof clientCalls>, request: LanguageModel.ProviderOptions): boolean =>
  calls.every((call) => isValidToolCall(request.tools, call.name, call.params))

/**
 * Validity of tool calls against the toolkit (a gate): every call must name a tool of the request and carry
 * parameters its schema accepts, and a request whose tool choice requires a call must get one.
 */
export const toolCallValidity: Scorer.Scorer = Scorer.make(
  "tools",
  (c, request) => {
    const calls = clientCalls(c.response)
    const required =
      request.toolChoice === "required" ||
      (typeof request.toolChoice === "object" &&
        ("tool" in request.toolChoice || request.toolChoice.mode === "required"))
    if (calls.length === 0) return required ? 0 : 1
    return callsAreValid(calls, request) ? 1 : 0
  },
  { gate: true, weight: 0.5 }
)

const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/**
 * The key two answers must share to agree exactly: their tool calls (names and canonical parameters), else
 * their canonical JSON when the text is JSON, else their normalised text.
 */
export const agreementKey = (response: LanguageModel.GenerateTextResponse<any, any>): string => {
  let key = agreementKeys.get(response)
  if (key === undefined) {
    key = computeAgreementKey(response)
    agreementKeys.set(response, key)
  }
  return key
}

// Every pair of answers compares their keys: each answer's is made once.
const agreementKeys = new WeakMap<LanguageModel.GenerateTextResponse<any, any>, string>()

const computeAgreementKey = (response: LanguageModel.GenerateTextResponse<any, any>): string => {
  const calls = clientCalls(response)
  if (calls.length > 0) return `tools:${calls.map((call) => `${call.name}(${canonical(call.params)})`).join(";")}`
  const text = response.text.trim()
  if (text.startsWith("{") || text.startsWith("[")) {
    const json = parseJson(text)
    if (Result.isSuccess(json)) return `json:${canonical(json.success)}`
  }
  return `text:${words(text).join(" ")}`
}

/** Similarity of two answers in [0, 1]: 1 for the same agreement key, else the Jaccard index of their words. */
export const similarity = (
  a: LanguageModel.GenerateTextResponse<any, any>,
  b: LanguageModel.GenerateTextResponse<any, any>
): number => {
  const ka = agreementKey(a)
  const kb = agreementKey(b)
  if (ka === kb) return 1
  if (ka.startsWith("tools:") || kb.startsWith("tools:")) return 0
  const wa = new Set(words(a.text))
  const wb = new Set(words(b.text))
  if (wa.size === 0 && wb.size === 0) return 1
  let shared = 0
  for (const w of wa) if (wb.has(w)) shared++
  return shared / (wa.size + wb.size - shared)
}

const agreements = (candidates: ReadonlyArray<Scorer.Candidate>): ReadonlyArray<number> =>
  candidates.map((c, i) => {
    if (candidates.length < 2) return 1
    let sum = 0
    candidates.forEach((other, j) => {
      if (j !== i) sum += similarity(c.response, other.response)
    })
    return sum / (candidates.length - 1)
  })

/** Agreement with the other answers: the mean similarity to them (1 when there is no other answer). */
export const agreement: Scorer.Scorer = {
  name: "agreement",
  score: (candidates) => Effect.sync(() => agreements(candidates)),
  scoreNow: agreements
}

const Verdict = Schema.Struct({ scores: Schema.Array(Schema.Finite) })
type Verdict = LanguageModel.GenerateObjectResponse<{}, typeof Verdict.Type, "opaque">

const lastUserText = (request: LanguageModel.ProviderOptions): string => {
  for (let i = request.prompt.content.length - 1; i >= 0; i--) {
    const message = request.prompt.content[i]!
    if (message.role === "user") {
      return message.content.map((p) => (p.type === "text" ? p.text : "")).join("\n")
    }
  }
  return ""
}

const judgeTimeout = Duration.seconds(30)

/** A judge model named by provider and model, so that its calls go through the pool and are accounted and priced. */
export interface JudgeModel {
  readonly provider: string
  readonly model: string
  readonly languageModel: LanguageModel.LanguageModel
}

const isNamed = (model: LanguageModel.LanguageModel | JudgeModel): model is JudgeModel => "languageModel" in model

// One judge call as the fan-out's event records it. A call that never answered is billed as an estimate.
const judgeAttempt = (
  judge: { readonly provider: string; readonly model: string },
  outcome: MixtureEvent.Outcome,
  latencyMs: number,
  usage: ProviderPool.TokenUsage | undefined,
  costUsd: number | undefined
): MixtureEvent.Attempt => ({
  provider: judge.provider,
  model: judge.model,
  outcome,
  latencyMs,
  ...(usage === undefined ? {} : { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens }),
  ...(costUsd === undefined ? {} : { costUsd })
})

/**
 * A judge model rates all answers in one call (0–10 each, asked for as a JSON object). A judge that fails, answers
 * out of shape or has not answered within `timeout` (default 30 seconds) gives every answer a neutral 0.5, so the
 * judge can never sink or stall a fan-out.
 *
 * Its call is billed like a member's: reported to the fan-out (its event and the answer's charges). A judge given
 * with its provider and model (`JudgeModel`) is also called through the `ProviderPool` when there is one (breaker,
 * rate limits, accounting and price); a bare `LanguageModel` is reported as provider and model `judge`, unpriced.
 */
export const judge = (
  model: LanguageModel.LanguageModel | JudgeModel,
  options: { readonly weight?: number; readonly timeout?: Duration.Input } = {}
): Scorer.Scorer => {
  const named = isNamed(model) ? model : undefined
  const languageModel = named === undefined ? (model as LanguageModel.LanguageModel) : named.languageModel
  const who = named ?? { provider: "judge", model: "judge" }
  const timeout = options.timeout ?? judgeTimeout
  return {
    name: "judge",
    weight: options.weight ?? 2,
    waits: true,
    score: (candidates, request, report) =>
      Effect.gen(function* () {
        const answers = candidates.map((c, i) => `Answer ${i + 1}:\n${c.response.text}`).join("\n\n")
        const prompt =
          "Rate each answer to the request below for correctness, completeness and clarity, from 0 (useless) to 10 " +
          `(excellent). Reply with {"scores": [...]}, one number per answer, in order.\n\nRequest:\n${lastUserText(request)}\n\n${answers}`
        const neutral = candidates.map(() => 0.5)
        const pool =
          named === undefined
            ? undefined
            : Option.getOrUndefined(yield* Effect.serviceOption(ProviderPool.ProviderPool))
        const started = yield* Clock.currentTimeMillis
        const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - started)
        const ask = languageModel.generateObject({ prompt, schema: Verdict, objectName: "verdict" })
        const accounted: Effect.Effect<ProviderPool.Accounted<Verdict>, unknown> = pool === undefined
          ? Effect.flatMap(ask, (value) =>
              Effect.map(elapsed, (latencyMs) => ({ value, latencyMs, usage: Call.usageOf(value), costUsd: undefined }))
            )
          : pool.call({ provider: who.provider, model: who.model, timeout }, ask, {
              usageOf: Call.usageOf,
              estimatedTokens: Math.ceil(prompt.length / 4)
            })
        return yield* accounted.pipe(
          Effect.map((answered) => {
            report?.(judgeAttempt(who, "answered", answered.latencyMs, answered.usage, answered.costUsd))
            const scores = answered.value.value.scores
            return scores.length === candidates.length ? scores.map((s) => Math.min(10, Math.max(0, s)) / 10) : neutral
          }),
          Effect.catch(() =>
            Effect.map(elapsed, (latencyMs) => {
              report?.(judgeAttempt(who, "failed", latencyMs, undefined, undefined))
              return neutral
            })
          ),
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () =>
              Effect.map(elapsed, (latencyMs) => {
                report?.(judgeAttempt(who, "timeout", latencyMs, undefined, undefined))
                return neutral
              })
          })
        )
      })
  }
}

/** The default scorers of `weighted-score`: quality, schema validity, tool-call validity and agreement. */
export const defaults: ReadonlyArray<Scorer.Scorer> = [heuristic, schemaValidity, toolCallValidity, agreement]

/** The validity gates alone, which decide whether an answer is acceptable for `first-valid` and `fallback`. */
export const gates: ReadonlyArray<Scorer.Scorer> = [schemaValidity, toolCallValidity]

/** Why an answer is not acceptable on its own (`empty`, `refusal`, `schema`, `tools`), or undefined. */
export const rejection = (candidate: Scorer.Candidate, request: LanguageModel.ProviderOptions): string | undefined => {
  if (isEmpty(candidate.response)) return "empty"
  if (isRefusal(candidate.response)) return "refusal"
  if (!matchesSchema(candidate.response.text, request)) return "schema"
  if (!callsAreValid(clientCalls(candidate.response), request)) return "tools"
  return undefined
}
