/**
 * The one task every framework runs in `pnpm bench agent`: look up items 1 to 10 with one `lookup` tool call per
 * step, then answer. The fake server scripts the model's side (see `fakeServer.ts`); each runner supplies the
 * framework's side through the `Runner` contract below.
 */

/** Tool steps in one run: the model calls `lookup` this many times, then answers. */
export const STEPS = 10

/** The model name every runner asks for. */
export const MODEL = "gpt-5-mini"

/** The dummy key runners give clients that insist on one. */
export const API_KEY = "sk-bench-not-a-real-key"

/** The one tool. */
export const TOOL = {
  name: "lookup",
  description: "Look up an item by its number and return what is known about it."
} as const

/** The system prompt of runners that take one. */
export const SYSTEM = "You are a careful assistant. Use the lookup tool once per item, then summarise."

/** The final answer the fake model gives after the last lookup. */
export const ANSWER = `Looked up items 1 to ${STEPS}: all ok.`

/** What the `lookup` tool returns for an item. */
export const lookup = (item: number): string => `item ${item}: ok`

/**
 * The task as the user states it. The tag names the run so that the fake server can account its requests (their
 * count and its own time) to it; it travels in the first user message, which every framework sends unchanged.
 */
export const prompt = (tag: string): string =>
  `[run ${tag}] Look up items 1 to ${STEPS}, one lookup per step, then summarise.`

/** Finds the run tag in a request body. */
export const tagPattern = /\[run ([\w.-]+)\]/

/** One framework, ready to run the task. */
export interface Runner {
  /** Runs the task once, to its end; resolves with the final answer. */
  readonly run: (tag: string) => Promise<string>
}

/** What a runner module exports as `make`: builds the framework's agent once, for the fake server at `baseUrl`. */
export type MakeRunner = (baseUrl: string) => Promise<Runner>
