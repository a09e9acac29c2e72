/**
 * Long conversations: when the history nears the model's input limit, its older part is summarised by the model
 * into one message, kept after the task. Nothing is lost: every turn was already published as an event (the audit
 * trail holds them all); only what the model is sent shrinks.
 */
import * as Prompt from "effect/ai/Prompt"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as AgentError from "../AgentError.ts"
import * as ModelCall from "./modelCall.ts"
import type { RunContext, RunState } from "./runContext.ts"

// Characters of each message, kept while the message lives: messages never change once made, and the run measures
// its whole history before every step.
const measured = new WeakMap<Prompt.Message, number>()

const charsOf = (message: Prompt.Message): number => {
  const known = measured.get(message)
  if (known !== undefined) return known
  let chars = 0
  if (message.role === "system") {
    chars = message.content.length
  } else {
    for (const part of message.content) {
      switch (part.type) {
        case "text":
        case "reasoning":
          chars += part.text.length
          break
        case "tool-call":
          chars += part.name.length + JSON.stringify(part.params ?? null).length
          break
        case "tool-result":
          chars += JSON.stringify(part.result ?? null).length
          break
        default:
          chars += 16
      }
    }
  }
  measured.set(message, chars)
  return chars
}

/** About four characters a token: close enough to decide when to summarise. */
export const estimateTokens = (prompt: Prompt.Prompt): number => {
  let chars = 0
  for (const message of prompt.content) chars += charsOf(message)
  return Math.ceil(chars / 4)
}

/** Whether the history (with the system prompt) has passed 80% of the context budget: `fit` has work to do. */
export const overBudget = (context: Pick<RunContext, "spec" | "system">, state: Pick<RunState, "history">): boolean =>
  estimateTokens(state.history) + Math.ceil(context.system.length / 4) > context.spec.limits.contextTokens * 0.8

/**
 * Where the history can be cut: a message that opens a turn (user or assistant) right after a message that leaves
 * nothing pending, so a tool call is never separated from its result. The earliest such place after which at most
 * `keepTokens` remain.
 */
export const cutPoint = (messages: ReadonlyArray<Prompt.Message>, keepTokens: number): number | undefined => {
  let kept = 0
  let cut: number | undefined
  for (let i = messages.length - 1; i >= 2; i--) {
    kept += Math.ceil(charsOf(messages[i]!) / 4)
    if (kept > keepTokens) break
    const opens = messages[i]!.role === "user" || messages[i]!.role === "assistant"
    const previous = messages[i - 1]!
    const settled =
      previous.role === "user" ||
      previous.role === "tool" ||
      (previous.role === "assistant" && !previous.content.some((p) => p.type === "tool-call"))
    if (opens && settled) cut = i
  }
  return cut
}

const transcript = (messages: ReadonlyArray<Prompt.Message>): string =>
  messages
    .map((m) => {
      if (m.role === "system") return `system: ${m.content}`
      const parts = m.content.map((p) => {
        switch (p.type) {
          case "text":
            return p.text
          case "tool-call":
            return `[called ${p.name} ${JSON.stringify(p.params ?? null)}]`
          case "tool-result":
            return `[${p.name} ${p.isFailure ? "failed" : "returned"} ${JSON.stringify(p.result ?? null).slice(0, 2000)}]`
          default:
            return ""
        }
      })
      return `${m.role}: ${parts.join(" ")}`
    })
    .join("\n")

/**
 * Summarises the older part of the history when it passes 80% of the context budget, keeping the task (the first
 * message) and the newest turns (up to 40% of the budget).
 */
export const fit = (context: RunContext, state: RunState): Effect.Effect<RunState, AgentError.ModelFailed> =>
  overBudget(context, state) ? summarise(context, state) : Effect.succeed(state)

const summarise = (context: RunContext, state: RunState): Effect.Effect<RunState, AgentError.ModelFailed> =>
  Effect.gen(function* () {
    const before = estimateTokens(state.history) + Math.ceil(context.system.length / 4)
    const messages = state.history.content
    const cut = cutPoint(messages, Math.floor(context.spec.limits.contextTokens * 0.4))
    if (cut === undefined || cut <= 1) return state
    const older = messages.slice(1, cut)
    const summarised = yield* ModelCall.run(
      context,
      state,
      "summarise",
      ModelCall.loose(context.model).generateText({
        prompt: Prompt.make([
          {
            role: "system",
            content:
              "Summarise this part of an agent's work for the agent itself: what was done, what was found, what failed and why, decisions made, and anything still open. Keep names, paths, numbers and errors exact."
          },
          { role: "user", content: transcript(older) }
        ])
      })
    )
    const history = Prompt.fromMessages([
      messages[0]!,
      Prompt.makeMessage("user", {
        content: [
          Prompt.makePart("text", {
            text: `Summary of the earlier part of this run (${older.length} messages):\n${summarised.response.text}`
          })
        ]
      }),
      ...messages.slice(cut)
    ])
    const after = estimateTokens(history) + Math.ceil(context.system.length / 4)
    yield* context.emit({
      _tag: "AgentHistorySummarised",
      runId: context.runId,
      agent: context.spec.name,
      at: yield* Clock.currentTimeMillis,
      messages: older.length,
      tokensBefore: before,
      tokensAfter: after
    })
    return { ...summarised.state, history }
  })
