/**
 * The one place adapters send HTTP: JSON POST with status mapping, per-request timeout and retries,
 * and the SSE variant. Interrupting the returned effect or stream aborts the request.
 */

import type * as AiError from "effect/ai/AiError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Sse from "effect/encoding/Sse"
import type * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Connection from "../Connection.ts"
import * as ProviderError from "../ProviderError.ts"
import * as Retry from "../Retry.ts"

/** One request: where it goes, what it carries, and which connection settings apply. */
export interface Call {
  readonly site: ProviderError.Site
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly connection: Connection.Resolved
}

const send = (
  client: HttpClient.HttpClient,
  call: Call,
  accept: string
): Effect.Effect<HttpClientResponse.HttpClientResponse, AiError.AiError> =>
  Effect.flatMap(
    Effect.mapError(
      client.execute(
        HttpClientRequest.bodyText(
          HttpClientRequest.post(call.url, { headers: { ...call.headers, accept } }),
          JSON.stringify(call.body),
          "application/json"
        )
      ),
      (error) => ProviderError.fromHttpClientError(call.site, call.url, error, call.connection.secrets)
    ),
    (response) =>
      response.status < 400
        ? Effect.succeed(response)
        : Effect.flatMap(
            Effect.zip(
              Effect.orElseSucceed(response.text, () => ""),
              Clock.currentTimeMillis
            ),
            ([body, nowMillis]) =>
              Effect.fail(
                ProviderError.fromResponse({
                  module: call.site.module,
                  method: call.site.method,
                  url: call.url,
                  status: response.status,
                  headers: response.headers,
                  body,
                  nowMillis,
                  secrets: call.connection.secrets
                })
              )
          )
  )

const withTimeout = <A, R>(call: Call, effect: Effect.Effect<A, AiError.AiError, R>) =>
  Effect.timeoutOrElse(effect, {
    duration: call.connection.timeout,
    orElse: () => Effect.fail(ProviderError.timeout(call.site, call.url, call.connection.timeout))
  })

/** POSTs JSON and decodes the JSON reply with `schema`; retried and timed out per the connection. */
export const postJson = <A, RD>(
  client: HttpClient.HttpClient,
  call: Call,
  schema: Schema.ConstraintDecoder<A, RD>
): Effect.Effect<A, AiError.AiError, RD> => {
  const decode = Schema.decodeUnknownEffect(schema)
  const attempt = Effect.flatMap(send(client, call, "application/json"), (response) =>
    Effect.flatMap(
      Effect.mapError(response.text, (error) =>
        ProviderError.fromHttpClientError(call.site, call.url, error, call.connection.secrets)
      ),
      (text) => {
        const json = ProviderError.parseJson(text)
        if (json === undefined) {
          return Effect.fail(
            ProviderError.invalidResponse(call.site, `response body is not JSON: ${text.slice(0, 200)}`)
          )
        }
        return Effect.mapError(decode(json), (error) =>
          ProviderError.invalidResponse(call.site, `unexpected response shape: ${error.message}`)
        )
      }
    )
  )
  return Retry.retry(call.connection.retry)(withTimeout(call, attempt))
}

/**
 * POSTs JSON and returns the server-sent events of the reply. Retries cover the request until the
 * response headers arrive; the timeout bounds that wait and then each wait for the next event. A broken
 * or stalled body becomes a truncated-stream error.
 */
export const postSse = (client: HttpClient.HttpClient, call: Call): Stream.Stream<Sse.Event, AiError.AiError> =>
  Stream.unwrap(
    Effect.map(
      Retry.retry(call.connection.retry)(withTimeout(call, send(client, call, "text/event-stream"))),
      (response) =>
        response.stream.pipe(
          Stream.decodeText(),
          Stream.pipeThroughChannel(Sse.decode()),
          Stream.mapError((error) =>
            error._tag === "HttpClientError"
              ? ProviderError.truncated(call.site, call.url, `connection broke: ${error.reason._tag}`)
              : ProviderError.invalidResponse(call.site, `malformed server-sent events: ${error._tag}`)
          ),
          // The per-request timeout also bounds the silence between events, so a stalled stream fails.
          Stream.timeoutOrElse({
            duration: call.connection.timeout,
            orElse: () =>
              Stream.fail(
                ProviderError.truncated(
                  call.site,
                  call.url,
                  `no event within ${Duration.format(call.connection.timeout)}`
                )
              )
          })
        )
    )
  )

/** Decodes one SSE `data` payload as JSON with `schema`, as an `InvalidResponseError` on mismatch. */
export const decodeEvent = <A>(
  site: ProviderError.Site,
  schema: Schema.ConstraintDecoder<A>,
  data: string
): Effect.Effect<A, AiError.AiError> => {
  const json = ProviderError.parseJson(data)
  if (json === undefined) {
    return Effect.fail(ProviderError.invalidResponse(site, `stream event is not JSON: ${data.slice(0, 200)}`))
  }
  return Effect.mapError(Schema.decodeUnknownEffect(schema)(json), (error) =>
    ProviderError.invalidResponse(site, `unexpected stream event shape: ${error.message}`)
  )
}

/** Joins a base URL and a path with exactly one slash. */
export const join = (baseUrl: string, path: string): string => `${baseUrl}/${path.replace(/^\/+/, "")}`
