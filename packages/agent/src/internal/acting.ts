/**
 * Acting: one model turn. `effect/ai`'s `generateText` makes the call and runs the tools the model called (their
 * failures come back as results the model reads); tools whose policy is not `auto` come back as approval requests
 * instead, which the run decides through its gate before the next turn.
 *
 * While somebody listens to the run's `TextDeltas`, the turn is asked with `streamText` instead and its text is
 * published as it arrives; the parts put together are the same response, so the rest of the step does not change.
 * Nobody listening, the whole turn is asked at once: the per-step cost of that path is what the benchmarks measure.
 *
 * A turn the model got wrong (a tool that does not exist, arguments that do not parse or do not match the tool's
 * parameters) is not a failure of the run: the model is told what was wrong and the step counts as failed.
 */
import { createHash } from "node:crypto"
import * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as AgentError from "../AgentError.ts"
import type * as Approvals from "../Approvals.ts"
import * as Durable from "./durable.ts"
import * as ModelCall from "./modelCall.ts"
import { promptOf, type RunContext, type RunState, withUserMessage } from "./runContext.ts"
import * as StreamedTurn from "./streamedTurn.ts"

/** What one turn did. */
export interface Turn {
  /** Tool calls the model made in this turn. */
  readonly toolCalls: number
  /** Tool calls that failed, or a turn the model got wrong (counted as one). */
  readonly failures: number
  /** The model answered without calling a tool: it thinks the task is done. */
  readonly answered: boolean
  /** Calls waiting for an approval decision. */
  readonly approvals: ReadonlyArray<Approvals.Request>
}

// The model sent something the tools cannot run: its own mistake, to be reported back to it.
const modelMistakes = new Set(["ToolNotFoundError", "ToolParameterValidationError", "InvalidOutputError"])

/** The same tool with the same arguments: the key loop detection counts. */
export const signature = (name: string, params: unknown): string => `${name} ${JSON.stringify(params)}`

// A repeat is the same call answered the same way: running the tests again after a change, or waiting again for a
// file, and being told something new is progress, not a loop. A call whose result is still to come (waiting for
// approval) counts by its arguments alone.
const repeatKey = (call: Response.ToolCallPart<string, unknown>, content: ReadonlyArray<Response.AnyPart>): string => {
  const result = content.find((p) => p.type === "tool-result" && p.id === call.id) as
    | { readonly encodedResult?: unknown; readonly result?: unknown }
    | undefined
  if (result === undefined) return signature(call.name, call.params)
  const answer = JSON.stringify(result.encodedResult ?? result.result) ?? ""
  return `${signature(call.name, call.params)} -> ${createHash("sha256").update(answer).digest("hex").slice(0, 16)}`
}

/** The toolkit, publishing each call before it runs and each final result after. */
const observed = (context: RunContext, step: number, toolkit: Toolkit.WithHandler<any>): Toolkit.WithHandler<any> => ({
  tools: toolkit.tools,
  handle: ((name: string, params: unknown, toolCallId?: string, options?: unknown) => {
    const base = { runId: context.runId, agent: context.spec.name, step, toolCallId: toolCallId ?? "", tool: name }
    // Spans skip the stack trace they would capture: it was a measurable part of a step.
    const span = {
      captureStackTrace: false,
      attributes: {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": base.toolCallId,
        "troupe.run.id": context.runId
      }
    }
    return Effect.flatMap(Clock.currentTimeMillis, (at) =>
      Effect.andThen(
        Effect.andThen(
          context.emit({
            _tag: "AgentToolCalled",
            ...base,
            at,
            params,
            ...(context.durable === undefined ? {} : { idempotencyKey: context.durable.toolCall(base.toolCallId).key })
          }),
          context.readOnly?.(name, params) === true ? Effect.void : context.barrier
        ),
        Effect.map(
          (toolkit.handle as any)(name, params, toolCallId, options),
          (results: Stream.Stream<any, any, any>) =>
            Stream.tap(
              results,
              (result: {
                readonly preliminary?: boolean
                readonly isFailure: boolean
                readonly encodedResult: unknown
              }) =>
                result.preliminary === true
                  ? Effect.void
                  : Effect.flatMap(Clock.currentTimeMillis, (end) =>
                      context.emit({
                        _tag: "AgentToolResult",
                        ...base,
                        at: end,
                        isFailure: result.isFailure,
                        result: result.encodedResult
                      })
                    )
            ).pipe(Stream.withSpan(`execute_tool ${name}`, span))
        )
      )
    )
  }) as Toolkit.WithHandler<any>["handle"]
})

/**
 * Appends a response to the history. Results of calls approved before this turn arrive first in its content (the
 * model's call and the approval are already in the history), so they go in before the model's new message: a
 * provider expects a tool call's result right after the message that made it.
 */
const appendResponse = (history: Prompt.Prompt, content: ReadonlyArray<Response.AnyPart>): Prompt.Prompt => {
  const called = new Set(content.flatMap((p) => (p.type === "tool-call" ? [p.id] : [])))
  const earlier = content.filter((p) => p.type === "tool-result" && !called.has(p.id))
  const now = earlier.length === 0 ? content : content.filter((p) => !earlier.includes(p))
  return Prompt.concat(Prompt.concat(history, Prompt.fromResponseParts(earlier)), Prompt.fromResponseParts(now))
}

// A durable run's approval ids must come out the same when the run is replayed (see `Durable.approvalId`).
const stableApprovalIds = (
  context: RunContext,
  step: number,
  content: ReadonlyArray<Response.AnyPart>
): ReadonlyArray<Response.AnyPart> =>
  context.durable === undefined
    ? content
    : content.map((p) =>
        p.type === "tool-approval-request"
          ? ({ ...p, approvalId: Durable.approvalId(context.runId, step, p.toolCallId) } as Response.AnyPart)
          : p
      )

/** One model turn and the tools it called. */
export const act = (
  context: RunContext,
  state: RunState
): Effect.Effect<{ readonly state: RunState; readonly turn: Turn }, AgentError.ModelFailed> => {
  const prompt = promptOf(context, state)
  const toolkit = context.toolkit === undefined ? undefined : observed(context, state.step, context.toolkit)
  const deltas = context.textDeltas
  const call =
    deltas === undefined || !deltas.listening()
      ? ModelCall.loose(context.model).generateText({ prompt, toolkit, concurrency: 4 })
      : StreamedTurn.generate(
          context.model,
          { prompt, toolkit, concurrency: 4 },
          (delta) => deltas.publish({ runId: context.runId, agent: context.spec.name, step: state.step, delta }),
          deltas.publish({ runId: context.runId, agent: context.spec.name, step: state.step, delta: "", end: true })
        )
  return ModelCall.run(context, state, "act", call).pipe(
    Effect.map(({ response, state: charged }) => {
      const content = stableApprovalIds(context, state.step, response.content as ReadonlyArray<Response.AnyPart>)
      const toolCalls = content.filter((p): p is Response.ToolCallPart<string, unknown> => p.type === "tool-call")
      const failures = content.filter((p) => p.type === "tool-result" && p.isFailure).length
      const calls = new Map(charged.calls)
      for (const c of toolCalls) {
        const key = repeatKey(c, content)
        calls.set(key, (calls.get(key) ?? 0) + 1)
      }
      const approvals = content.flatMap((p): Array<Approvals.Request> => {
        if (p.type !== "tool-approval-request") return []
        const toolCall = toolCalls.find((c) => c.id === p.toolCallId)
        const tool = toolCall?.name ?? "unknown"
        return [
          {
            approvalId: p.approvalId,
            runId: context.runId,
            toolCallId: p.toolCallId,
            tool,
            params: toolCall?.params,
            reason: response.text,
            policy: context.policy(tool, toolCall?.params)
          }
        ]
      })
      const text = response.text
      return {
        state: {
          ...charged,
          history: appendResponse(charged.history, content),
          calls,
          answer: text.trim() === "" ? charged.answer : text
        },
        turn: { toolCalls: toolCalls.length, failures, answered: toolCalls.length === 0, approvals }
      }
    }),
    Effect.catchIf(
      (failure) => modelMistakes.has(failure.reason),
      (failure) =>
        Effect.succeed({
          state: withUserMessage(
            { ...state, spend: failure.partial.spend },
            `Your last turn could not be carried out: ${failure.description}. Check the tool names and their parameters, then try again.`
          ),
          turn: { toolCalls: 0, failures: 1, answered: false, approvals: [] }
        })
    )
  )
}

/**
 * Decides every waiting call through the gate (publishing the request and the decision) and appends the decisions
 * to the history, where the next turn's `generateText` runs the approved calls and tells the model of the denials.
 */
export const decide = (
  context: RunContext,
  state: RunState,
  requests: ReadonlyArray<Approvals.Request>
): Effect.Effect<RunState> =>
  Effect.gen(function* () {
    const base = { runId: context.runId, agent: context.spec.name }
    // Every request is published before any is waited on, so a person sees all of a turn's requests at once.
    for (const request of requests) {
      yield* context.emit({
        _tag: "AgentApprovalRequested",
        ...base,
        at: yield* Clock.currentTimeMillis,
        approvalId: request.approvalId,
        toolCallId: request.toolCallId,
        tool: request.tool,
        params: request.params,
        reason: request.reason
      })
    }
    const responses = yield* Effect.forEach(
      requests,
      (request) =>
        Effect.gen(function* () {
          const decision = yield* context.gate.decide(request)
          yield* context.emit({
            _tag: "AgentApprovalDecided",
            ...base,
            at: yield* Clock.currentTimeMillis,
            approvalId: request.approvalId,
            approved: decision.approved,
            by: decision.by,
            ...(decision.reason === undefined ? {} : { reason: decision.reason })
          })
          return Prompt.makePart("tool-approval-response", {
            approvalId: request.approvalId,
            approved: decision.approved,
            ...(decision.reason === undefined ? {} : { reason: decision.reason })
          })
        }),
      { concurrency: "unbounded" }
    )
    return {
      ...state,
      history: Prompt.concat(state.history, Prompt.fromMessages([Prompt.makeMessage("tool", { content: responses })]))
    }
  })
