/**
 * The one place adapters send HTTP: JSON POST with status mapping, size limits, per-attempt timeout, retries
 * and an overall deadline, and the SSE variant. Interrupting the returned effect or stream aborts the request.
 */

import type * as AiError from "effect/ai/AiError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Sse from "effect/encoding/Sse"
import type * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Connection from "../Connection.ts"
import * as ProviderError from "../ProviderError.ts"
import * as Retry from "../Retry.ts"
import * as Body from "./body.ts"
import * as Timeout from "./timeout.ts"

/** One request: where it goes, what it carries, and which connection settings apply. */
export interface Call {
  readonly site: ProviderError.Site
  readonly endpoint: Connection.Endpoint
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly connection: Connection.Resolved
}

const sourceOf = (call: Call): Body.Source => ({
  site: call.site,
  display: call.endpoint.display,
  secrets: call.connection.secrets
})

const send = (
  client: HttpClient.HttpClient,
  call: Call,
  accept: string
): Effect.Effect<HttpClientResponse.HttpClientResponse, AiError.AiError> =>
  Effect.flatMap(
    Effect.mapError(
      client.execute(
        HttpClientRequest.bodyText(
          HttpClientRequest.post(call.endpoint.url, { headers: { ...call.headers, accept } }),
          JSON.stringify(call.body),
          "application/json"
        )
      ),
      (error) => ProviderError.fromHttpClientError(call.site, call.endpoint.display, error, call.connection.secrets)
    ),
    (response) =>
      response.status < 400
        ? Effect.succeed(response)
        : Effect.flatMap(
            Effect.zip(
              Effect.orElseSucceed(
                Body.read(response, call.connection.limits.errorBodyBytes, "cut", sourceOf(call)),
                () => ({ text: "", cut: false })
              ),
              Clock.currentTimeMillis
            ),
            ([body, nowMillis]) =>
              Effect.fail(
                ProviderError.fromResponse({
                  module: call.site.module,
                  method: call.site.method,
                  url: call.endpoint.display,
                  status: response.status,
                  headers: response.headers,
                  body: body.text,
                  cut: body.cut,
                  nowMillis,
                  secrets: call.connection.secrets
                })
              )
          )
  )

const withTimeout = <A, R>(call: Call, effect: Effect.Effect<A, AiError.AiError, R>) =>
  Timeout.timeoutOrElse(effect, {
    duration: call.connection.timeout,
    orElse: () =>
      Effect.fail(ProviderError.timeout(call.site, call.endpoint.display, "attempt", call.connection.timeout))
  })

const overall = (call: Call) =>
  ProviderError.timeout(call.site, call.endpoint.display, "overall", call.connection.deadline)

const contentType = (response: HttpClientResponse.HttpClientResponse): string =>
  response.headers["content-type"] ?? "no content type"

/** The body as JSON, or an `InvalidResponseError` quoting what the server sent instead. */
const parseBody = (call: Call, response: HttpClientResponse.HttpClientResponse, text: string) => {
  const json = ProviderError.parseJson(text)
  return json === undefined
    ? Effect.fail(
        ProviderError.invalidResponse(
          call.site,
          `response body is not JSON (${ProviderError.quote(contentType(response), [])}): ${ProviderError.quote(text, call.connection.secrets)}`
        )
      )
    : Effect.succeed(json)
}

/**
 * POSTs JSON and decodes the JSON reply with `schema`. Each attempt (body included) has the connection's
 * `timeout`, retries follow its policy, and the whole call its `deadline`; the body is read up to its size limit.
 */
export const postJson = <A, RD>(
  client: HttpClient.HttpClient,
  call: Call,
  schema: Schema.ConstraintDecoder<A, RD>
): Effect.Effect<A, AiError.AiError, RD> => {
  const decode = Schema.decodeUnknownEffect(schema)
  const attempt = Effect.flatMap(send(client, call, "application/json"), (response) =>
    Effect.flatMap(Body.read(response, call.connection.limits.bodyBytes, "fail", sourceOf(call)), ({ text }) =>
      Effect.flatMap(parseBody(call, response, text), (json) =>
        Effect.mapError(decode(json), (error) =>
          ProviderError.invalidResponse(
            call.site,
            `unexpected response shape: ${ProviderError.quote(error.message, call.connection.secrets, 500)}`
          )
        )
      )
    )
  )
  const { timeout, deadline, retry } = call.connection
  const attemptFirst = Duration.isLessThanOrEqualTo(timeout, deadline)
  // A deadline shorter than an attempt's timeout is the only limit that can end the call: one timer does.
  if (!attemptFirst) {
    return Timeout.timeoutOrElse(Retry.retry(retry)(attempt), {
      duration: deadline,
      orElse: () => Effect.fail(overall(call))
    })
  }
  const first = withTimeout(call, attempt)
  if (retry.maxRetries <= 0) return first
  // The first attempt ends (at its timeout at the latest) by the deadline: the deadline's own timer starts with
  // the retries, for what is left of it. Nearly every call ends in its first attempt, with one timer.
  return Effect.flatMap(Clock.currentTimeMillis, (start) =>
    Retry.retry(retry, (retries) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Timeout.timeoutOrElse(retries, {
          duration: Duration.max(Duration.subtract(deadline, Duration.millis(now - start)), Duration.zero),
          orElse: () => Effect.fail(overall(call))
        })
      )
    )(first)
  )
}

// A reply labelled as one of these is a document, not an event stream (an error page, a JSON answer from a
// server that ignored `stream: true`).
const notEventStream = /json|html|xml/i

const expectEventStream = (call: Call, response: HttpClientResponse.HttpClientResponse) => {
  const type = response.headers["content-type"]
  if (type === undefined || !notEventStream.test(type)) return Effect.succeed(response)
  return Effect.flatMap(
    Effect.orElseSucceed(Body.read(response, call.connection.limits.errorBodyBytes, "cut", sourceOf(call)), () => ({
      text: "",
      cut: false
    })),
    (body) =>
      Effect.fail(
        ProviderError.invalidResponse(
          call.site,
          `expected an event stream, got ${ProviderError.quote(type, [])}: ${ProviderError.quote(
            body.cut ? ProviderError.trimSecretPrefix(body.text, call.connection.secrets) : body.text,
            call.connection.secrets
          )}`
        )
      )
  )
}

const streamError =
  (call: Call) => (error: AiError.AiError | HttpClientError.HttpClientError | Sse.SseError | Sse.Retry) => {
    switch (error._tag) {
      case "AiError":
        return error
      case "HttpClientError":
        return ProviderError.truncated(call.site, call.endpoint.display, `connection broke: ${error.reason._tag}`)
      case "SseError":
        return ProviderError.tooLarge(call.site, "one server-sent event", call.connection.limits.eventBytes)
      case "Retry":
        return ProviderError.invalidResponse(call.site, "unexpected `retry` field in the event stream")
    }
  }

const events = (
  call: Call,
  response: HttpClientResponse.HttpClientResponse
): Stream.Stream<Sse.Event, AiError.AiError> => {
  const limit = call.connection.limits.streamBytes
  let total = 0
  let opening = ""
  let events = 0
  // A body that held text but not one event was never an event stream (an error page sent as one): a bad reply,
  // not a stream cut short by the network.
  const noEvents = Stream.suspend(() =>
    events === 0 && opening.trim() !== ""
      ? Stream.fail(
          ProviderError.invalidResponse(
            call.site,
            `the event stream held no event: ${ProviderError.quote(opening, call.connection.secrets)}`
          )
        )
      : Stream.empty
  )
  return response.stream.pipe(
    Stream.mapEffect((chunk) => {
      total += chunk.length
      return total <= limit
        ? Effect.succeed(chunk)
        : Effect.fail(ProviderError.tooLarge(call.site, "the event stream", limit))
    }),
    Stream.decodeText(),
    Stream.tap((text) =>
      Effect.sync(() => {
        if (opening.length < 400) opening += text.slice(0, 400 - opening.length)
      })
    ),
    Stream.pipeThroughChannel(Sse.decode({ maxEventSize: call.connection.limits.eventBytes })),
    Stream.tap(() =>
      Effect.sync(() => {
        events++
      })
    ),
    Stream.concat(noEvents),
    Stream.mapError(streamError(call)),
    // The per-attempt timeout also bounds the silence between events, so a stalled stream fails.
    Stream.timeoutOrElse({
      duration: call.connection.timeout,
      orElse: () =>
        Stream.fail(ProviderError.timeout(call.site, call.endpoint.display, "silence", call.connection.timeout))
    })
  )
}

/**
 * POSTs JSON and returns the server-sent events of the reply. Retries cover the request until the response
 * headers arrive; the `timeout` bounds that wait and then each wait for the next event; the `deadline` bounds
 * the whole stream. A broken body becomes a truncated-stream error, an oversized one `tooLarge`.
 */
export const postSse = (client: HttpClient.HttpClient, call: Call): Stream.Stream<Sse.Event, AiError.AiError> =>
  Stream.unwrap(
    Effect.map(
      Retry.retry(call.connection.retry)(
        withTimeout(
          call,
          Effect.flatMap(send(client, call, "text/event-stream"), (response) => expectEventStream(call, response))
        )
      ),
      (response) => events(call, response)
    )
  ).pipe(
    // Built when the deadline passes: an error captures a stack trace, which is not free on every stream.
    Stream.interruptWhen(
      Effect.andThen(
        Effect.sleep(call.connection.deadline),
        Effect.failSync(() => overall(call))
      )
    )
  )

/** Decodes one SSE `data` payload as JSON with `schema`, as an `InvalidResponseError` on mismatch. */
export const decodeEvent = <A>(
  site: ProviderError.Site,
  schema: Schema.ConstraintDecoder<A>,
  data: string,
  secrets: ReadonlyArray<string>
): Effect.Effect<A, AiError.AiError> => {
  const json = ProviderError.parseJson(data)
  if (json === undefined) {
    return Effect.fail(
      ProviderError.invalidResponse(site, `stream event is not JSON: ${ProviderError.quote(data, secrets)}`)
    )
  }
  return Effect.mapError(Schema.decodeUnknownEffect(schema)(json), (error) =>
    ProviderError.invalidResponse(
      site,
      `unexpected stream event shape: ${ProviderError.quote(error.message, secrets, 500)}`
    )
  )
}
