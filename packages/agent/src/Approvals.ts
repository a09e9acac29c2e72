/**
 * Approvals scaled to irreversibility: the spec's policy (`auto | ask | deny`, per tool or by whether its effect can
 * be undone) decides which tool calls wait for a person, through `effect/ai`'s own mechanism: such tools get
 * `needsApproval`, the model's call comes back as a `tool-approval-request` part, and the decision goes back to the
 * model as a `tool-approval-response` part (a denial, with its reason, is a result the model must plan around).
 *
 * A `Gate` is where a run waits for a decision. `deny` is decided at once by the policy; `ask` waits for a person
 * unless the gate approves `ask` calls by itself (`troupe run --yes`). Nothing a tool returns can decide an approval:
 * decisions arrive only through the gate, from outside the run.
 */
import * as AgentSpec from "@troupe/agent-spec/AgentSpec"
import type * as Tool from "effect/ai/Tool"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** A tool call waiting for a decision. */
export const Request = Schema.Struct({
  approvalId: Schema.String,
  runId: Schema.String,
  toolCallId: Schema.String,
  tool: Schema.String,
  params: Schema.Unknown,
  /** The model's stated reason: its text before the call. */
  reason: Schema.String,
  policy: AgentSpec.Policy
})

/** A tool call waiting for a decision. */
export type Request = typeof Request.Type

/** A decision on a request, and who made it (a person's name, `policy`, or `auto-approve`). */
export const Decision = Schema.Struct({
  approved: Schema.Boolean,
  by: Schema.String,
  reason: Schema.optionalKey(Schema.String)
})

/** A decision on a request. */
export type Decision = typeof Decision.Type

/** Where a run waits for decisions. */
export interface Gate {
  /** Waits for the decision on `request` (at once for `deny`, or for `ask` when approving automatically). */
  readonly decide: (request: Request) => Effect.Effect<Decision>
  /** The requests still waiting for a person. */
  readonly pending: Effect.Effect<ReadonlyArray<Request>>
  /** Records a person's decision; `false` when no such request waits. */
  readonly resolve: (approvalId: string, decision: Decision) => Effect.Effect<boolean>
}

/**
 * A gate in memory. With `approveAsk`, `ask` calls are approved at once (by `auto-approve`); `deny` calls are
 * always refused.
 */
export const makeGate = (options: { readonly approveAsk?: boolean } = {}): Gate => {
  const waiting = new Map<string, { readonly request: Request; readonly decision: Deferred.Deferred<Decision> }>()
  return {
    decide: (request) =>
      Effect.suspend(() => {
        if (request.policy === "deny") {
          return Effect.succeed({ approved: false, by: "policy", reason: `the policy denies ${request.tool}` })
        }
        if (request.policy === "auto" || options.approveAsk === true) {
          return Effect.succeed({ approved: true, by: request.policy === "auto" ? "policy" : "auto-approve" })
        }
        const decision = Deferred.makeUnsafe<Decision>()
        waiting.set(request.approvalId, { request, decision })
        return Deferred.await(decision).pipe(Effect.ensuring(Effect.sync(() => waiting.delete(request.approvalId))))
      }),
    pending: Effect.sync(() => [...waiting.values()].map((w) => w.request)),
    resolve: (approvalId, decision) =>
      Effect.suspend(() => {
        const entry = waiting.get(approvalId)
        return entry === undefined ? Effect.succeed(false) : Deferred.succeed(entry.decision, decision)
      })
  }
}

/** The policy for a call of `tool` by an agent of `spec` (see `AgentSpec.policyFor`). */
export const policyOf = (spec: AgentSpec.AgentSpec, tool: string): AgentSpec.Policy => AgentSpec.policyFor(spec, tool)

/**
 * The toolkit with `needsApproval` set on every tool whose policy is not `auto` (`deny` too: its calls are refused
 * through the same request and response, so the model sees why). Handlers are the toolkit's own.
 */
export const withPolicy = <Tools extends Record<string, Tool.Any>>(
  toolkit: Toolkit.WithHandler<Tools>,
  policy: (tool: string) => AgentSpec.Policy
): Toolkit.WithHandler<Tools> => {
  const tools: Record<string, Tool.Any> = {}
  for (const [name, tool] of Object.entries(toolkit.tools)) {
    tools[name] = policy(tool.name) === "auto" ? tool : tool.setNeedsApproval(true)
  }
  return { tools: tools as Tools, handle: toolkit.handle }
}
