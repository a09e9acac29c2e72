/**
 * The conversation of an interactive session, carried from one turn to the next.
 *
 * An agent pursues one goal per run and keeps no chat history between runs, so each turn is a run whose goal is
 * the person's line followed by the latest exchanges. The carried context is bounded (the last `maxExchanges`,
 * each answer cut to `maxAnswer` characters) so that a long session does not grow every prompt without end.
 */

/** One turn: what the person asked and what the agent answered. */
export interface Exchange {
  readonly prompt: string
  readonly answer: string
}

/** The exchanges so far, oldest first. */
export type Conversation = ReadonlyArray<Exchange>

/** Exchanges carried into the next goal. */
export const maxExchanges = 6

/** Characters kept of each earlier prompt and answer. */
export const maxAnswer = 2_000

/** No exchange yet (also what `/clear` returns to). */
export const empty: Conversation = []

const cut = (text: string): string => (text.length <= maxAnswer ? text : `${text.slice(0, maxAnswer)}…`)

/** The conversation with `exchange` added, keeping the last `maxExchanges`. */
export const add = (conversation: Conversation, exchange: Exchange): Conversation =>
  [...conversation, { prompt: cut(exchange.prompt), answer: cut(exchange.answer) }].slice(-maxExchanges)

/**
 * The goal of the next run: the person's line first (so it heads the audit trail and the run's first line), then
 * the earlier exchanges as context.
 */
export const goalOf = (conversation: Conversation, prompt: string): string =>
  conversation.length === 0
    ? prompt
    : [
        prompt,
        "",
        "(Earlier in this conversation, oldest first; use it to understand the request above:",
        ...conversation.flatMap((e) => [`Person: ${e.prompt}`, `You answered: ${e.answer}`]),
        ")"
      ].join("\n")
