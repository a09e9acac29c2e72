/**
 * A run made durable with `effect/workflow`: every model call, tool call, approval decision, memory recall and memory
 * write is an `Activity`, so the workflow engine journals its result before the run goes on, and a resumed run
 * (replayed from its start) is answered from the journal up to where it stopped, without asking the model or running
 * the tool again.
 *
 * Activity names are deterministic, which replay needs: model calls are numbered in the order the run makes them
 * (`model/3`), a tool call is named after the model call whose answer asked for it and the provider's call id
 * (`tool/3/call_2_0`), approvals after their (deterministic) id, memory after the step. The events a replay emits
 * again are already in the run's audit trail: the trail skips them (see `skipReplayed`).
 */
import { createHash } from "node:crypto"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Response from "effect/ai/Response"
import type * as Tool from "effect/ai/Tool"
import type * as Toolkit from "effect/ai/Toolkit"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Activity from "effect/workflow/Activity"
import type * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import type * as AgentEvent from "../AgentEvent.ts"
import type * as Approvals from "../Approvals.ts"
import * as RunJournal from "../RunJournal.ts"
import * as StreamedTurn from "./streamedTurn.ts"

/** The durable side of a run, in its context. */
export interface Durable {
  /**
   * Runs `effect` as the activity `name`: answered from the journal when it completed before (with a value, or a
   * typed failure of `options.error`); otherwise run, and its result journalled before the run goes on.
   */
  readonly step: <A, E>(
    name: string,
    effect: Effect.Effect<A, E>,
    options?: RunJournal.ActivityOptions<A>
  ) => Effect.Effect<A, E>
  /** The activity name and idempotency key of a tool call made at this point of the run. */
  readonly toolCall: (toolCallId: string) => { readonly name: string; readonly key: string }
  /** Returns once the journal is durable (a barrier). */
  readonly sync: Effect.Effect<void>
  /** The name of the next model call's activity. */
  readonly nextModelCall: () => string
}

// An activity interrupted from outside (a timeout, a cancellation) is not retried: the run decides what follows.
const noRetry = Schedule.recurs(0) as unknown as Schedule.Schedule<any, any>

/** The durable side of the run `runId`, over the workflow execution in context. */
export const make = (
  runId: string,
  journal: RunJournal.Service | undefined
): Effect.Effect<Durable, never, WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance> =>
  Effect.map(
    Effect.context<WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance>(),
    (services: Context.Context<WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance>): Durable => {
      let modelCalls = 0
      // The keys of the calls of the latest model call, by activity name.
      const keys = new Map<string, string>()
      return {
        step: <A, E>(name: string, effect: Effect.Effect<A, E>, options?: RunJournal.ActivityOptions<A>) => {
          if (journal !== undefined) return journal.activity(runId, name, effect, options)
          const encode = options?.encode
          const decode = options?.decode
          const activity = Activity.make({
            name,
            success: Schema.Any,
            error: (options?.error ?? Schema.Never) as Schema.Codec<E, unknown>,
            execute: encode === undefined ? effect : Effect.map(effect, encode),
            interruptRetryPolicy: noRetry
          })
          return Effect.provideContext(
            decode === undefined ? activity : Effect.map(activity, decode),
            services
          ) as Effect.Effect<A, E>
        },
        toolCall: (toolCallId) => {
          const name = `tool/${modelCalls}/${toolCallId}`
          // Asked twice per call (its event, then the call itself): hashed once.
          let key = keys.get(name)
          if (key === undefined) {
            key = createHash("sha256").update(`${runId}/${name}`).digest("hex").slice(0, 32)
            keys.set(name, key)
          }
          return { name, key }
        },
        sync: journal === undefined ? Effect.void : journal.sync(runId),
        nextModelCall: () => {
          keys.clear()
          return `model/${++modelCalls}`
        }
      }
    }
  )

// -----------------------------------------------------------------------------
// The model: each call an activity
// -----------------------------------------------------------------------------

const encodeParts = Schema.encodeUnknownEffect(Schema.Array(Response.Part()))

// The wrapped model is called with the request as the run's `LanguageModel` built it, tool calls left unresolved: the
// outer `LanguageModel` decodes the journalled answer and runs the tools (each an activity of its own). Toolkits are
// kept by their tools' names: `LanguageModel` compiles its answer decoders once per toolkit object.
const requestOf = (toolkits: Map<string, unknown>, request: LanguageModel.ProviderOptions) => {
  let toolkit: unknown
  if (request.tools.length > 0) {
    const key = request.tools.map((t) => t.name).join("\n")
    toolkit = toolkits.get(key)
    if (toolkit === undefined) {
      const tools: Record<string, Tool.Any> = {}
      for (const tool of request.tools) tools[tool.name] = tool
      toolkit = { tools, handle: () => Effect.die("a durable model call never resolves tool calls") }
      toolkits.set(key, toolkit)
    }
  }
  return {
    prompt: request.prompt,
    toolChoice: request.toolChoice,
    disableToolCallResolution: true as const,
    toolCallValidation: "deferred" as const,
    ...(toolkit === undefined ? {} : { toolkit })
  }
}

interface LooseModel {
  readonly generateText: (options: unknown) => Effect.Effect<{ readonly content: unknown }, AiError.AiError>
  readonly generateObject: (options: unknown) => Effect.Effect<{ readonly content: unknown }, AiError.AiError>
  readonly streamText: (options: unknown) => Stream.Stream<Response.StreamPart<any, any>, AiError.AiError>
}

/** `model` with every call an activity of the run: its answer (the provider's parts) journalled. */
export const model = (
  inner: LanguageModel.LanguageModel,
  durable: Durable
): Effect.Effect<LanguageModel.LanguageModel> => {
  const loose = inner as unknown as LooseModel
  const toolkits = new Map<string, unknown>()
  const generateText = (request: LanguageModel.ProviderOptions) => {
    const call =
      request.responseFormat.type === "json"
        ? loose.generateObject({
            ...requestOf(toolkits, request),
            schema: request.responseFormat.schema,
            objectName: request.responseFormat.objectName
          })
        : loose.generateText(requestOf(toolkits, request))
    const encoded = Effect.flatMap(call, (response) =>
      encodeParts(response.content).pipe(
        Effect.mapError((error) =>
          AiError.make({
            module: "DurableRun",
            method: "generateText",
            reason: AiError.InvalidOutputError.fromSchemaError(error)
          })
        )
      )
    )
    return durable.step(durable.nextModelCall(), encoded, { error: AiError.AiError }) as Effect.Effect<
      Array<Response.PartEncoded>,
      AiError.AiError
    >
  }
  // A call without tools is journalled whole, answer and all: live, the inner model's answer is used as it is (its
  // encoded parts are not decoded a second time), and only its journal line is encoded.
  const whole = <R extends { readonly content: ReadonlyArray<unknown> }>(
    call: Effect.Effect<R, AiError.AiError>,
    rebuild: (content: Array<Response.AnyPart>, line: { readonly value?: unknown }) => R,
    value?: (response: R) => unknown
  ) =>
    durable.step(durable.nextModelCall(), call, {
      error: AiError.AiError,
      encode: (response) => ({
        content: encodePartsSync(response.content),
        ...(value === undefined ? {} : { value: value(response) })
      }),
      decode: (encoded) => {
        const line = encoded as { readonly content: unknown; readonly value?: unknown }
        return rebuild(decodePartsSync(line.content) as Array<Response.AnyPart>, line)
      }
    })
  const plain = inner as unknown as LooseService
  return Effect.map(
    LanguageModel.make({
      generateText,
      // A streamed call (a step watched live) is journalled whole, and a replayed one streams nothing live.
      streamText: (request) =>
        StreamedTurn.journalled(durable, loose.streamText(requestOf(toolkits, request)), AiError.AiError)
    }),
    (withTools): LanguageModel.LanguageModel => {
      const service = withTools as unknown as LooseService
      return {
        ...withTools,
        generateText: ((options: { readonly toolkit?: unknown }) =>
          options.toolkit !== undefined
            ? service.generateText(options)
            : whole(
                plain.generateText(options),
                (content) => new LanguageModel.GenerateTextResponse(content as never)
              )) as never,
        generateObject: ((options: { readonly toolkit?: unknown; readonly schema: Schema.Top }) => {
          if (options.toolkit !== undefined) return service.generateObject(options)
          const codec = valueCodecOf(options.schema)
          return whole(
            plain.generateObject(options),
            (content, line) => new LanguageModel.GenerateObjectResponse(codec.decode(line.value), content as never),
            (response) => codec.encode(response.value)
          )
        }) as never
      }
    }
  )
}

interface LooseService {
  readonly generateText: (options: unknown) => Effect.Effect<any, AiError.AiError>
  readonly generateObject: (options: unknown) => Effect.Effect<any, AiError.AiError>
}

const encodePartsSync = Schema.encodeUnknownSync(Schema.Array(Response.Part()))
const decodePartsSync = Schema.decodeUnknownSync(Schema.Array(Response.Part()))

// The JSON codec of a structured answer's schema, built once per schema.
const valueCodecs = new WeakMap<
  Schema.Top,
  { readonly encode: (u: unknown) => unknown; readonly decode: (u: unknown) => unknown }
>()
const valueCodecOf = (schema: Schema.Top) => {
  let codec = valueCodecs.get(schema)
  if (codec === undefined) {
    const json = Schema.toCodecJson(schema as Schema.Codec<unknown, unknown>)
    codec = { encode: Schema.encodeUnknownSync(json), decode: Schema.decodeUnknownSync(json) }
    valueCodecs.set(schema, codec)
  }
  return codec
}

// -----------------------------------------------------------------------------
// The tools: each call an activity, with its idempotency key
// -----------------------------------------------------------------------------

interface Outcome {
  readonly isFailure: boolean
  readonly result: unknown
  readonly encodedResult: unknown
  readonly modelOutput?: unknown
  readonly preliminary?: boolean
}

/**
 * `toolkit` with every call an activity: its final result journalled (synced at the run's next barrier, before the
 * next tool runs), the call's idempotency key in `RunJournal.CurrentIdempotencyKey` while it runs. Preliminary
 * results are not replayed.
 */
export const toolkit = (inner: Toolkit.WithHandler<any>, durable: Durable): Toolkit.WithHandler<any> => ({
  tools: inner.tools,
  handle: ((name: string, params: unknown, toolCallId?: string, options?: unknown) => {
    const call = durable.toolCall(toolCallId ?? name)
    const run = Effect.flatMap(
      (inner.handle as any)(name, params, toolCallId, options) as Effect.Effect<Stream.Stream<any, any>, any>,
      (results) => Stream.runLast(Stream.filter(results, (r: Outcome) => r.preliminary !== true))
    ).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.die(`tool ${name} produced no final result`),
          onSome: (r: Outcome): Effect.Effect<Outcome> =>
            Effect.succeed({
              isFailure: r.isFailure,
              result: r.result,
              encodedResult: r.encodedResult,
              ...(r.modelOutput === undefined ? {} : { modelOutput: r.modelOutput })
            })
        })
      ),
      Effect.provideService(RunJournal.CurrentIdempotencyKey, call.key)
    )
    return Effect.map(durable.step(call.name, run, { error: AiError.AiError }), (outcome: Outcome) =>
      Stream.make({ ...outcome, preliminary: false })
    )
  }) as Toolkit.WithHandler<any>["handle"]
})

/** The gate with every decision an activity: a decision made before a crash is not asked for again. */
export const gate = (inner: Approvals.Gate, durable: Durable): Approvals.Gate => ({
  decide: (request) => durable.step(`approval/${request.approvalId}`, inner.decide(request)),
  pending: inner.pending,
  resolve: inner.resolve
})

/**
 * A deterministic approval id for a call: `effect/ai` draws a random one, which a replayed run would not draw again,
 * and the id is what a person approves from another process (`troupe approvals approve ID`).
 */
export const approvalId = (runId: string, step: number, toolCallId: string): string =>
  `${runId}-${step}-${createHash("sha256").update(toolCallId).digest("hex").slice(0, 12)}`

/**
 * The trail's writer for a resumed run: the first events the replay emits are those already in the trail (same
 * types, in the same order) and are not written again. The first event that differs, and every one after it, is
 * written. Skipped approval requests still waiting for a decision are published again (not written), so that
 * whoever watches the run sees them.
 */
export const skipReplayed = (
  existing: ReadonlyArray<string>,
  write: (event: AgentEvent.AgentEvent) => Effect.Effect<void>,
  publish: (event: AgentEvent.AgentEvent) => Effect.Effect<void>,
  decided: (approvalId: string) => boolean
): ((event: AgentEvent.AgentEvent) => Effect.Effect<void>) => {
  let index = 0
  let replaying = existing.length > 0
  return (event) =>
    Effect.suspend(() => {
      if (replaying && existing[index] === event._tag) {
        index++
        return event._tag === "AgentApprovalRequested" && !decided(event.approvalId) ? publish(event) : Effect.void
      }
      replaying = false
      return write(event)
    })
}
