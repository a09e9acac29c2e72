/**
 * Calling one member of the mixture: the request as the member receives it, and what the pool needs to
 * account the call (target, token usage, token estimate).
 */
import * as AiError from "effect/ai/AiError"
import * as IdGenerator from "effect/ai/IdGenerator"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import type * as Tool from "effect/ai/Tool"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import * as Common from "../../internal/common.ts"
import type * as Mixture from "../Mixture.ts"
import type * as ProviderPool from "../ProviderPool.ts"
import * as Answer from "./answer.ts"

/** A member's answer, its tool calls still undecoded. */
export type AnyResponse = LanguageModel.GenerateTextResponse<any, "deferred">

/** A member's time limit per call when it sets none (see `Mixture.defaultMemberTimeout`). */
export const defaultTimeout: Duration.Duration = Duration.seconds(60)

/**
 * Where the pool sends a member's call, with the member's time limit (60 seconds unless set), decoded here once
 * rather than on every call (a limit written as text, `"20 seconds"`, is parsed).
 */
export const target = (member: Mixture.Member): ProviderPool.Target => ({
  provider: member.provider,
  model: member.model,
  timeout: member.timeout === undefined ? defaultTimeout : Duration.fromInputUnsafe(member.timeout)
})

/** A member's time limit in milliseconds (60 seconds unless set). */
export const timeoutMillis = (member: Mixture.Member): number => Duration.toMillis(member.timeout ?? defaultTimeout)

// The member is called with the request as the mixture received it, tool calls left unresolved and unvalidated:
// the mixture validates them itself (tool-call gate) and the outer `LanguageModel` decodes and runs only the
// winner's. The toolkit needs no handlers since nothing is resolved.
const innerOptions = (request: LanguageModel.ProviderOptions) => {
  const tools: Record<string, Tool.Any> = {}
  for (const tool of request.tools) tools[tool.name] = tool
  return {
    prompt: request.prompt,
    toolChoice: request.toolChoice,
    disableToolCallResolution: true as const,
    toolCallValidation: "deferred" as const,
    ...(request.tools.length === 0
      ? {}
      : { toolkit: { tools, handle: () => Effect.die("the mixture never resolves tool calls itself") } })
  }
}

// The options above are built at run time from `ProviderOptions`, which the typed `LanguageModel` methods cannot
// express (their toolkit and schema types are inferred from literals), so members are called through this view.
interface LooseModel {
  readonly generateText: (options: unknown) => Effect.Effect<AnyResponse, AiError.AiError>
  readonly generateObject: (options: unknown) => Effect.Effect<AnyResponse, AiError.AiError>
  readonly streamText: (options: unknown) => Stream.Stream<Response.StreamPart<any, "deferred">, AiError.AiError>
}

/** A member's answer, and its parts as the adapter sent them when they were taken directly from it. */
export interface Answered {
  readonly response: AnyResponse
  readonly encoded: ReadonlyArray<Response.PartEncoded> | undefined
}

// `LanguageModel` compiles a new parts decoder on every call that has no tools (it caches only per toolkit), which
// made up most of the mixture's own cost. A plain text turn of one of our adapters is decoded here with one
// decoder compiled once, and its encoded parts are kept so that the winner is not encoded again.

const plainText = (request: LanguageModel.ProviderOptions): boolean =>
  request.tools.length === 0 && request.responseFormat.type === "text"

const generateDirect = (
  methods: Common.LanguageModelMethods,
  request: LanguageModel.ProviderOptions
): Effect.Effect<Answered, AiError.AiError> =>
  Effect.gen(function* () {
    // The mixture's `LanguageModel` has provided a generator already: the context is copied only without one.
    const ids = yield* Effect.serviceOption(IdGenerator.IdGenerator)
    const encoded = yield* Option.isSome(ids)
      ? (methods.generateText(request) as Effect.Effect<Array<Response.PartEncoded>, AiError.AiError>)
      : Effect.provideService(methods.generateText(request), IdGenerator.IdGenerator, IdGenerator.defaultIdGenerator)
    const content = yield* Answer.decodeParts(encoded).pipe(
      Effect.mapError((error) =>
        AiError.make({
          module: "Mixture",
          method: "generateText",
          reason: AiError.InvalidOutputError.fromSchemaError(error)
        })
      )
    )
    return { response: new LanguageModel.GenerateTextResponse(content) as unknown as AnyResponse, encoded }
  })

/**
 * One model turn of a member: a plain text turn of one of our adapters directly from its methods, otherwise
 * `generateObject` for JSON requests and `generateText` for the rest.
 */
export const answer = (
  model: LanguageModel.LanguageModel,
  request: LanguageModel.ProviderOptions
): Effect.Effect<Answered, AiError.AiError> => {
  const methods = plainText(request) ? Common.methodsOf(model) : undefined
  return methods === undefined
    ? Effect.map(generate(model, request), (response) => ({ response, encoded: undefined }))
    : generateDirect(methods, request)
}

/** One model turn of a member: `generateObject` for JSON requests, `generateText` otherwise. */
export const generate = (
  model: LanguageModel.LanguageModel,
  request: LanguageModel.ProviderOptions
): Effect.Effect<AnyResponse, AiError.AiError> => {
  const loose = model as unknown as LooseModel
  const base = innerOptions(request)
  return request.responseFormat.type === "json"
    ? loose.generateObject({
        ...base,
        schema: request.responseFormat.schema,
        objectName: request.responseFormat.objectName
      })
    : loose.generateText(base)
}

/** One model turn of a member, streamed. */
export const stream = (
  model: LanguageModel.LanguageModel,
  request: LanguageModel.ProviderOptions
): Stream.Stream<Response.StreamPart<any, "deferred">, AiError.AiError> =>
  (model as unknown as LooseModel).streamText(innerOptions(request))

/** The token usage a finish part reports, for the pool's accounting. */
export const finishUsage = (finish: Response.FinishPart): ProviderPool.TokenUsage => ({
  inputTokens: finish.usage.inputTokens.total ?? 0,
  outputTokens: finish.usage.outputTokens.total ?? 0
})

/** The token usage an answer reports in its finish part, for the pool's accounting. */
export const usageOf = (response: AnyResponse): ProviderPool.TokenUsage | undefined => {
  const finish = response.content.find((p) => p.type === "finish")
  return finish === undefined ? undefined : finishUsage(finish)
}

/** The token usage of a member's answer, for the pool's accounting. */
export const answeredUsage = (answered: Answered): ProviderPool.TokenUsage | undefined => usageOf(answered.response)

/**
 * A rough input-token count of a prompt (its system and text parts, about four characters a token): what the rate
 * limiter reserves before the call, since the real count is only known from the answer.
 */
export const estimatedTokens = (prompt: Prompt.Prompt): number => {
  let n = 0
  for (const message of prompt.content) {
    if (message.role === "system") n += message.content.length
    else for (const part of message.content) if (part.type === "text") n += part.text.length
  }
  return Math.ceil(n / 4)
}
