/**
 * The fake OpenAI-compatible model of `pnpm bench agent`: one `node:http` server on 127.0.0.1 that answers
 * `POST /v1/chat/completions` at once, as JSON or (when asked to stream) as one SSE body.
 *
 * The script is read from each request, so any number of runs can be in flight at once: while a conversation has
 * fewer than `STEPS` tool messages the model calls `lookup` for the next item, after that it answers. Structured
 * output requests (`response_format: json_schema`, named `plan` or `reflection`, as Troupe asks them) get a plan of
 * two goals, and a reflection that marks the first goal done after five lookups and says `done` once the final
 * answer has been given.
 *
 * Every request is accounted to the run tag found in its body (see `task.ts`): how many requests the run made and
 * how long the server itself took over them, from the request's arrival to the end of the response, so that the
 * benchmark can subtract it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { ANSWER, STEPS, TOOL, tagPattern } from "./task.ts"

/** What the server saw of one run. */
export interface RunStats {
  /** Model calls (chat completions) the run made. */
  requests: number
  /** The server's own time over those requests, in microseconds: from each request's last byte to the response's. */
  serverUs: number
  /** Requests that asked for a stream (SSE). */
  streamed: number
  /** When the first request arrived (`performance.now()` of this process). */
  readonly firstAt: number
}

/** A running fake server. */
export interface FakeServer {
  /** The base URL clients are given, ending in `/v1`. */
  readonly baseUrl: string
  /** Accounting by run tag. */
  readonly runs: Map<string, RunStats>
  /** Requests that named no run, or were not chat completions (each is a mistake in a runner). */
  readonly stray: Array<string>
  readonly close: () => Promise<void>
}

interface Message {
  readonly role?: string
  readonly tool_calls?: ReadonlyArray<unknown> | null
}

interface ChatRequest {
  readonly messages?: ReadonlyArray<Message>
  readonly stream?: boolean
  readonly stream_options?: { readonly include_usage?: boolean }
  readonly model?: string
  readonly response_format?: { readonly type?: string; readonly json_schema?: { readonly name?: string } }
}

type Reply =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "Call"; readonly item: number; readonly id: string }

const goal = (id: string, title: string) => ({
  id,
  title,
  status: "pending",
  dependsOn: [],
  acceptance: `${title}: every lookup answered`,
  subgoals: []
})

const plan = JSON.stringify({
  goals: [goal("first", "Look up items 1 to 5"), goal("rest", `Look up items 6 to ${STEPS} and summarise`)]
})

const reflection = (messages: ReadonlyArray<Message>, lookups: number): string => {
  const lastAssistant = messages.findLast((m) => m.role === "assistant")
  const answered = lookups >= STEPS && lastAssistant !== undefined && (lastAssistant.tool_calls ?? []).length === 0
  const progress = [
    ...(lookups >= 5 ? [{ id: "first", status: "done" }] : []),
    ...(answered ? [{ id: "rest", status: "done" }] : [])
  ]
  return JSON.stringify(
    answered
      ? { outcome: "done", reasoning: "Every item was looked up and summarised.", progress, answer: ANSWER }
      : { outcome: "continue", reasoning: `${lookups} of ${STEPS} items looked up so far.`, progress }
  )
}

const replyTo = (body: ChatRequest): Reply => {
  const messages = body.messages ?? []
  let lookups = 0
  for (const m of messages) if (m.role === "tool") lookups++
  const format = body.response_format
  if (format?.type === "json_schema") {
    return { _tag: "Text", text: format.json_schema?.name === "plan" ? plan : reflection(messages, lookups) }
  }
  return lookups < STEPS
    ? { _tag: "Call", item: lookups + 1, id: `call_${lookups + 1}` }
    : { _tag: "Text", text: ANSWER }
}

let sequence = 0

const json = (body: ChatRequest, reply: Reply): string => {
  const messages = body.messages?.length ?? 0
  return JSON.stringify({
    id: `chatcmpl-${++sequence}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model: body.model ?? "unknown",
    choices: [
      {
        index: 0,
        message:
          reply._tag === "Text"
            ? { role: "assistant", content: reply.text }
            : {
                role: "assistant",
                content: null,
                tool_calls: [
                  {
                    id: reply.id,
                    type: "function",
                    function: { name: TOOL.name, arguments: JSON.stringify({ item: reply.item }) }
                  }
                ]
              },
        finish_reason: reply._tag === "Text" ? "stop" : "tool_calls"
      }
    ],
    usage: { prompt_tokens: 40 * messages, completion_tokens: 20, total_tokens: 40 * messages + 20 }
  })
}

const sse = (body: ChatRequest, reply: Reply): string => {
  const base = { id: `chatcmpl-${++sequence}`, object: "chat.completion.chunk", created: 1_700_000_000 }
  const model = body.model ?? "unknown"
  const chunk = (delta: unknown, finish: string | null = null) =>
    `data: ${JSON.stringify({ ...base, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  const events =
    reply._tag === "Text"
      ? [chunk({ role: "assistant", content: "" }), chunk({ content: reply.text }), chunk({}, "stop")]
      : [
          chunk({
            role: "assistant",
            content: null,
            tool_calls: [{ index: 0, id: reply.id, type: "function", function: { name: TOOL.name, arguments: "" } }]
          }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify({ item: reply.item }) } }] }),
          chunk({}, "tool_calls")
        ]
  if (body.stream_options?.include_usage === true) {
    const messages = body.messages?.length ?? 0
    const usage = { prompt_tokens: 40 * messages, completion_tokens: 20, total_tokens: 40 * messages + 20 }
    events.push(`data: ${JSON.stringify({ ...base, model, choices: [], usage })}\n\n`)
  }
  events.push("data: [DONE]\n\n")
  return events.join("")
}

/** Starts the server on an ephemeral port of 127.0.0.1. */
export const start = async (): Promise<FakeServer> => {
  const runs = new Map<string, RunStats>()
  const stray: Array<string> = []

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const arrivedAt = performance.now()
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      // Waiting for the body is the client's time (it may send the headers first), not the server's.
      const received = process.hrtime.bigint()
      const text = Buffer.concat(chunks).toString("utf8")
      const tag = tagPattern.exec(text)?.[1]
      if (request.method !== "POST" || !request.url?.endsWith("/chat/completions") || tag === undefined) {
        stray.push(`${request.method} ${request.url}${tag === undefined ? " (no run tag)" : ""}`)
        response.writeHead(404, { "content-type": "application/json" })
        response.end(
          JSON.stringify({ error: { message: "not a tagged chat completion", type: "invalid_request_error" } })
        )
        return
      }
      let stats = runs.get(tag)
      if (stats === undefined) {
        stats = { requests: 0, serverUs: 0, streamed: 0, firstAt: arrivedAt }
        runs.set(tag, stats)
      }
      const counted = stats
      response.on("finish", () => {
        counted.requests++
        counted.serverUs += Number(process.hrtime.bigint() - received) / 1000
      })
      const body = JSON.parse(text) as ChatRequest
      const reply = replyTo(body)
      if (body.stream === true) {
        counted.streamed++
        response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
        response.end(sse(body, reply))
      } else {
        const payload = json(body, reply)
        response.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload)
        })
        response.end(payload)
      }
    })
  }

  const server = createServer({ keepAlive: true }, handle)
  // Idle connections of a framework that waits for its next round must still be there when it comes back.
  server.keepAliveTimeout = 10 * 60_000
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    runs,
    stray,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
