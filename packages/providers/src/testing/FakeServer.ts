/**
 * The shared core of the fake provider servers: a `node:http` server on 127.0.0.1 (port 0) that records
 * every request, replays scripted turns in a provider's wire format (JSON or SSE), and injects faults.
 *
 * Use the provider-specific constructors (`FakeOpenAi.make`, `FakeAnthropic.make`, `FakeGemini.make`);
 * this module holds the script and fault types they share.
 *
 * ```ts
 * const server = yield* FakeOpenAi.make({
 *   turns: [{ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }, { text: "Sunny" }],
 *   faults: [FakeServer.status(429, { retryAfter: "0" })]
 * })
 * // server.url is the base URL; server.requests holds what arrived
 * ```
 *
 * Faults are chosen per request index (`faults[i]`, counting every request including failed ones) or,
 * when none is scripted, with probability `failureRate.p` from a seeded generator, so runs repeat.
 */

import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Abusive from "./internal/abusive.ts"
import { isStream, parseBody, renderEvent } from "./internal/request.ts"
import * as SeededRandom from "./SeededRandom.ts"

/** One scripted model turn. With neither text nor tool calls the reply is the text `"ok"`. */
export interface Turn {
  readonly text?: string | undefined
  readonly reasoning?: string | undefined
  /** `arguments` objects are JSON-encoded; a string is sent verbatim (to script malformed JSON). */
  readonly toolCalls?: ReadonlyArray<{ readonly id?: string; readonly name: string; readonly arguments: unknown }>
  /** Default: `tool-calls` when there are tool calls, otherwise `stop`. */
  readonly finish?: "stop" | "length" | "tool-calls" | "content-filter" | "refusal" | undefined
  /** Default: 10 input tokens, 5 output tokens. */
  readonly usage?: { readonly input: number; readonly output: number } | undefined
}

/** A fault injected into one response. */
export type Fault =
  | {
      readonly _tag: "Status"
      readonly status: number
      readonly retryAfter?: string | undefined
      readonly code?: string | undefined
      readonly message?: string | undefined
      /** The raw body to send instead of the provider-shaped error. */
      readonly body?: string | undefined
    }
  /** Streams stop before the final event(s); JSON bodies are cut in half. Status 200. */
  | { readonly _tag: "Truncate" }
  /** The socket is destroyed: before any response, or midway through a stream. */
  | { readonly _tag: "Destroy" }
  /** Tool-call arguments are not valid JSON. */
  | { readonly _tag: "MalformedToolArguments" }
  /** Status 200 with a body that is not the wire format. */
  | { readonly _tag: "InvalidBody" }
  /** Never answers; the request stays open until the client goes away. */
  | { readonly _tag: "Hang" }
  /**
   * Status 200 with exactly this body; for streams it is the raw event text (`data: ...\n\n`). The content type
   * is the route's (JSON or event stream) unless given.
   */
  | { readonly _tag: "Body"; readonly body: string; readonly contentType?: string | undefined }
  /**
   * Never ends: a stream sends its opening events, then an event with no content every `everyMs`; a JSON reply
   * sends `{`, then a space every `everyMs`.
   */
  | { readonly _tag: "Drip"; readonly everyMs: number }
  /**
   * Status 200 with a body of `bytes` bytes, sent only as fast as the client reads: a JSON object padded with one
   * long string, or for streams one event of that size (`events: "one"`) or empty events adding up to it
   * (`"many"`). With `declared` the head carries the `content-length`.
   */
  | { readonly _tag: "Huge"; readonly bytes: number; readonly declared: boolean; readonly events: "one" | "many" }
  /** Bytes that are not HTTP on the raw socket, before any response head. */
  | { readonly _tag: "Garbage"; readonly text: string }
  /**
   * A stream sends its first `events` events, then waits until `until` is opened before it sends the rest: a test
   * can see what a reader did with the opening while the server still holds the answer.
   */
  | { readonly _tag: "Hold"; readonly events: number; readonly until: Gate }

/** Opened once by a test; whatever waits on it goes on then (at once when already open). */
export interface Gate {
  readonly open: Effect.Effect<void>
  readonly isOpen: () => boolean
  readonly onOpen: (f: () => void) => void
}

/** A closed gate. */
export const gate = (): Gate => {
  let opened = false
  const waiting: Array<() => void> = []
  return {
    open: Effect.sync(() => {
      opened = true
      for (const f of waiting.splice(0)) f()
    }),
    isOpen: () => opened,
    onOpen: (f) => {
      if (opened) f()
      else waiting.push(f)
    }
  }
}

/** An HTTP error status with a provider-shaped error body; `retryAfter` sets the `Retry-After` header. */
export const status = (
  code: number,
  options: {
    readonly retryAfter?: string
    readonly code?: string
    readonly message?: string
    readonly body?: string
  } = {}
): Fault => ({ _tag: "Status", status: code, ...options })

/** See {@link Fault}. */
export const truncate: Fault = { _tag: "Truncate" }
/** See {@link Fault}. */
export const destroy: Fault = { _tag: "Destroy" }
/** See {@link Fault}. */
export const malformedToolArguments: Fault = { _tag: "MalformedToolArguments" }
/** See {@link Fault}. */
export const invalidBody: Fault = { _tag: "InvalidBody" }
/** See {@link Fault}. */
export const hang: Fault = { _tag: "Hang" }
/** See {@link Fault}. */
export const body = (text: string, options: { readonly contentType?: string } = {}): Fault => ({
  _tag: "Body",
  body: text,
  ...options
})
/** See {@link Fault}. */
export const drip = (everyMs: number): Fault => ({ _tag: "Drip", everyMs })
/** See {@link Fault}. */
export const huge = (
  bytes: number,
  options: { readonly declared?: boolean; readonly events?: "one" | "many" } = {}
): Fault => ({ _tag: "Huge", bytes, declared: options.declared ?? false, events: options.events ?? "one" })
/** See {@link Fault}. */
export const hold = (events: number, until: Gate): Fault => ({ _tag: "Hold", events, until })
/** See {@link Fault}. */
export const garbage = (text = "SSH-2.0-OpenSSH_9.6\r\n\r\n"): Fault => ({ _tag: "Garbage", text })

/** Server options: the script, faults, latency and random failures. */
export interface Options {
  /** Turns in order (the last one repeats), or a function of the request. Default: one `"ok"` turn. */
  readonly turns?: ReadonlyArray<Turn> | ((request: Received, chatIndex: number) => Turn) | undefined
  /** Faults by request index, or a function of it. */
  readonly faults?: ReadonlyArray<Fault | undefined> | ((index: number) => Fault | undefined) | undefined
  /** Added before each response: `fixedMs` plus a uniform `[0, jitterMs)` from the seeded generator. */
  readonly latency?: { readonly fixedMs?: number; readonly jitterMs?: number } | undefined
  /** Delay between streamed events, in milliseconds. Default 0. */
  readonly chunkDelayMs?: number | undefined
  /** Fail a request with probability `p` (seeded) using `fault` (default: 503). */
  readonly failureRate?: { readonly p: number; readonly seed?: number; readonly fault?: Fault } | undefined
  /** Seed of the generator used for jitter and random failures. Default 1. */
  readonly seed?: number | undefined
  /** Length of the vectors the embedding endpoints return. Default 8. */
  readonly embeddingDimensions?: number | undefined
}

/** A request as the server received it. `state` changes while the exchange goes on. */
export interface Received {
  readonly index: number
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The parsed JSON body, or the raw text when it is not JSON. */
  readonly body: unknown
  /**
   * Arrival time in milliseconds from `performance.now()`: wall time measured by the server itself,
   * outside any Effect clock, so tests can check real gaps such as a honoured `Retry-After`.
   */
  readonly receivedAt: number
  state: "open" | "completed" | "aborted"
}

/** A running fake server. */
export interface FakeServer {
  /** Base URL to configure the adapter with (already includes `/v1` or `/v1beta` where the API has one). */
  readonly url: string
  /** The origin, `http://127.0.0.1:PORT`. */
  readonly origin: string
  /** Every request so far, in arrival order (a live view). */
  readonly requests: ReadonlyArray<Received>
  /** Waits until `predicate` holds for the received requests. */
  readonly waitFor: (predicate: (requests: ReadonlyArray<Received>) => boolean) => Effect.Effect<void>
  /**
   * How request `index` ended, once it has (`completed` or `aborted`), or `open` if it is still open after
   * `withinMs` (default 5000) of wall time. The bound turns a request that should have been aborted but was not
   * into a failing assertion rather than a hanging test; it is not a measurement.
   */
  readonly settled: (index: number, withinMs?: number) => Effect.Effect<Received["state"]>
}

/** One server-sent event. */
export interface SseEvent {
  readonly event?: string | undefined
  readonly data: string
}

/** What a request asks for, as understood by a wire format. */
export type Route =
  | { readonly _tag: "Chat"; readonly stream: boolean; readonly model: string }
  | { readonly _tag: "Embed"; readonly model: string; readonly inputs: ReadonlyArray<string>; readonly single: boolean }

/** How one provider's wire format routes requests and renders turns, embeddings and errors. */
export interface Wire {
  /** Path prefix of the API on the server, e.g. `/v1`. */
  readonly prefix: string
  /** `body` is the parsed JSON body, or `{}` when it is not a JSON object. */
  readonly route: (path: string, body: Readonly<Record<string, unknown>>) => Route | undefined
  readonly chat: (turn: Turn, context: RenderContext) => unknown
  /** The events of a streamed turn; the events from index `final` on are dropped when truncating. */
  readonly chatStream: (
    turn: Turn,
    context: RenderContext
  ) => {
    readonly events: ReadonlyArray<SseEvent>
    readonly final: number
  }
  readonly embed: (vectors: ReadonlyArray<ReadonlyArray<number>>, route: Route & { readonly _tag: "Embed" }) => unknown
  readonly error: (status: number, message: string, code: string | undefined) => unknown
  /** An event that is valid in a stream but carries no content (what a dripping stream repeats). */
  readonly keepAlive: SseEvent
}

/** Facts a wire format needs to render a reply. */
export interface RenderContext {
  readonly model: string
  readonly index: number
  readonly malformedArguments: boolean
}

/** Normalised view of a turn used by the wire formats. */
export const finishOf = (turn: Turn): NonNullable<Turn["finish"]> =>
  turn.finish ?? (turn.toolCalls !== undefined && turn.toolCalls.length > 0 ? "tool-calls" : "stop")

/** Default text when a turn scripts nothing. */
export const textOf = (turn: Turn): string | undefined =>
  turn.text ?? (turn.toolCalls === undefined || turn.toolCalls.length === 0 ? "ok" : undefined)

/** Usage of a turn with defaults. */
export const usageOf = (turn: Turn): { readonly input: number; readonly output: number } =>
  turn.usage ?? { input: 10, output: 5 }

/** Tool-call arguments as JSON text (or the scripted raw string, or broken JSON when malformed). */
export const argumentsText = (args: unknown, malformed: boolean): string => {
  const text = typeof args === "string" ? args : JSON.stringify(args ?? {})
  return malformed ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text
}

/** A tool call id when the script gives none. */
export const callId = (index: number, position: number): string => `call_${index}_${position}`

/** A deterministic pseudo-embedding of `text`: same text, same vector. */
export const vectorOf = (text: string, dimensions: number): Array<number> => {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  const next = SeededRandom.make(h >>> 0)
  return Array.from({ length: dimensions }, () => Math.round((next() * 2 - 1) * 1e6) / 1e6)
}

/** Starts a fake server speaking `wire` and closes it (and every open connection) when the scope ends. */
export const make = (wire: Wire, options: Options = {}): Effect.Effect<FakeServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Http.Server; readonly fake: FakeServer }>((resume) => {
      const requests: Array<Received> = []
      const listeners = new Set<() => void>()
      const notify = () => {
        for (const listener of [...listeners]) listener()
      }
      const random = SeededRandom.make(options.seed ?? 1)
      const failureRandom = SeededRandom.make(options.failureRate?.seed ?? options.seed ?? 1)
      let chats = 0
      const dimensions = options.embeddingDimensions ?? 8

      const faultFor = (index: number): Fault | undefined => {
        const scripted =
          typeof options.faults === "function" ? options.faults(index) : (options.faults?.[index] ?? undefined)
        if (scripted !== undefined) return scripted
        const rate = options.failureRate
        if (rate !== undefined && failureRandom() < rate.p) return rate.fault ?? status(503)
        return undefined
      }
      const turnFor = (request: Received): Turn => {
        const index = chats++
        const turns = options.turns
        if (turns === undefined) return {}
        if (typeof turns === "function") return turns(request, index)
        return turns[Math.min(index, turns.length - 1)] ?? {}
      }

      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          const body = parseBody(text)
          const received: Received = {
            index: requests.length,
            method: req.method ?? "GET",
            path: req.url ?? "/",
            headers: { ...req.headers },
            body,
            receivedAt: performance.now(),
            state: "open"
          }
          requests.push(received)
          const timers = new Set<ReturnType<typeof setTimeout>>()
          const later = (ms: number, f: () => void) => {
            if (ms <= 0) return f()
            const timer = setTimeout(() => {
              timers.delete(timer)
              f()
            }, ms)
            timers.add(timer)
          }
          res.on("close", () => {
            for (const timer of timers) clearTimeout(timer)
            received.state = res.writableFinished ? "completed" : "aborted"
            notify()
          })
          notify()
          const fault = faultFor(received.index)
          const latency = (options.latency?.fixedMs ?? 0) + random() * (options.latency?.jitterMs ?? 0)

          const sendJson = (code: number, json: unknown, headers: Record<string, string> = {}) => {
            const payload = JSON.stringify(json)
            res.writeHead(code, { "content-type": "application/json", ...headers })
            res.end(payload)
          }

          function respond(request: Received, fault: Fault | undefined) {
            if (fault?._tag === "Hang") return
            if (fault?._tag === "Garbage") return Abusive.garbage(res, fault.text)
            if (fault?._tag === "Destroy" && !isStream(request)) return void res.socket?.destroy()
            if (fault?._tag === "Status") {
              const headers: Record<string, string> =
                fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter }
              if (fault.body !== undefined) {
                res.writeHead(fault.status, { "content-type": "application/json", ...headers })
                return void res.end(fault.body)
              }
              return sendJson(
                fault.status,
                wire.error(fault.status, fault.message ?? "injected fault", fault.code),
                headers
              )
            }
            // Routed on the path alone: a query string (a gateway's `api-version`, Gemini's `alt=sse`) is no route.
            const pathname = request.path.split("?")[0]!
            const path = pathname.startsWith(wire.prefix) ? pathname.slice(wire.prefix.length) : pathname
            const fields = typeof request.body === "object" && request.body !== null ? request.body : {}
            const route = request.method === "POST" ? wire.route(path, fields as Record<string, unknown>) : undefined
            if (route === undefined) return sendJson(404, wire.error(404, `no route for ${request.path}`, "not_found"))
            const stream = route._tag === "Chat" && route.stream
            if (fault?._tag === "InvalidBody" || fault?._tag === "Body") {
              const contentType = fault._tag === "Body" ? fault.contentType : undefined
              res.writeHead(200, { "content-type": contentType ?? (stream ? "text/event-stream" : "application/json") })
              if (fault._tag === "Body") return void res.end(fault.body)
              return void res.end(stream ? "data: {not json\n\n" : "<html>not json</html>")
            }
            if (fault?._tag === "Huge")
              return Abusive.huge(res, { ...fault, stream, keepAlive: renderEvent(wire.keepAlive) })
            if (route._tag === "Embed") {
              return sendJson(
                200,
                wire.embed(
                  route.inputs.map((input) => vectorOf(input, dimensions)),
                  route
                )
              )
            }
            const turn = turnFor(request)
            const context: RenderContext = {
              model: route.model,
              index: request.index,
              malformedArguments: fault?._tag === "MalformedToolArguments"
            }
            if (!route.stream) {
              if (fault?._tag === "Drip")
                return Abusive.drip(res, "application/json", "{", () => " ", fault.everyMs, later)
              if (fault?._tag === "Truncate") {
                const payload = JSON.stringify(wire.chat(turn, context))
                res.writeHead(200, { "content-type": "application/json" })
                return void res.end(payload.slice(0, Math.floor(payload.length / 2)))
              }
              return sendJson(200, wire.chat(turn, context))
            }
            const rendered = wire.chatStream(turn, context)
            if (fault?._tag === "Drip") {
              const opening = rendered.events.slice(0, rendered.final).map(renderEvent).join("")
              return Abusive.drip(
                res,
                "text/event-stream",
                opening,
                () => renderEvent(wire.keepAlive),
                fault.everyMs,
                later
              )
            }
            const cut = fault?._tag === "Truncate" || fault?._tag === "Destroy"
            const events = cut ? rendered.events.slice(0, rendered.final) : rendered.events
            res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
            const delay = options.chunkDelayMs ?? 0
            // A loop rather than recursion: a long answer is tens of thousands of events.
            const held = fault?._tag === "Hold" ? fault : undefined
            const writeFrom = (start: number) => {
              for (let i = start; i < events.length; i++) {
                if (res.destroyed) return
                if (held !== undefined && i === held.events && !held.until.isOpen()) {
                  return void held.until.onOpen(() => writeFrom(i))
                }
                res.write(renderEvent(events[i]!))
                if (delay > 0) return void later(delay, () => writeFrom(i + 1))
              }
              if (res.destroyed) return
              if (fault?._tag === "Destroy") return void res.socket?.destroy()
              res.end()
            }
            writeFrom(0)
          }
          later(latency, () => respond(received, fault))
        })
      })
      server.keepAliveTimeout = 5000
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        const origin = `http://127.0.0.1:${port}`
        const fake: FakeServer = {
          url: `${origin}${wire.prefix}`,
          origin,
          requests,
          waitFor: (predicate) =>
            Effect.callback<void>((resume) => {
              const check = () => {
                if (predicate(requests)) {
                  listeners.delete(check)
                  resume(Effect.void)
                }
              }
              listeners.add(check)
              check()
              return Effect.sync(() => listeners.delete(check))
            }),
          settled: (index, withinMs = 5000) =>
            Effect.callback<Received["state"]>((resume) => {
              const timer = setTimeout(() => {
                done()
                resume(Effect.succeed(requests[index]?.state ?? "open"))
              }, withinMs)
              const check = () => {
                const state = requests[index]?.state
                if (state === undefined || state === "open") return
                done()
                resume(Effect.succeed(state))
              }
              const done = () => {
                clearTimeout(timer)
                listeners.delete(check)
              }
              listeners.add(check)
              check()
              return Effect.sync(done)
            })
        }
        resume(Effect.succeed({ server, fake }))
      })
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  ).pipe(Effect.map(({ fake }) => fake))
