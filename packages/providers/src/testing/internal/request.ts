/**
 * How the fake servers read a request and write an event: private helpers of `FakeServer`.
 */
import * as Result from "effect/Result"
import type { Received, SseEvent } from "../FakeServer.ts"

/** One event as it goes on the wire. */
export const renderEvent = (event: SseEvent): string =>
  `${event.event === undefined ? "" : `event: ${event.event}\n`}data: ${event.data}\n\n`

/** Whether a request asks for a stream (OpenAI and Anthropic say so in the body, Gemini in the path). */
export const isStream = (request: Received): boolean => {
  const body = request.body
  if (typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true) return true
  return request.path.includes("streamGenerateContent")
}

/** A request body as JSON, or its raw text when it is not JSON. */
export const parseBody = (text: string): unknown =>
  text.length === 0
    ? undefined
    : Result.getOrElse(
        Result.try(() => JSON.parse(text) as unknown),
        () => text
      )
