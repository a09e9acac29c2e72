/**
 * Reading a response body with a size limit, as it streams in, so that an answer of any size costs at most the
 * limit in memory and the rest is never downloaded (the request is aborted once reading stops).
 */
import type * as AiError from "effect/ai/AiError"
import * as Effect from "effect/Effect"
import type * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Stream from "effect/Stream"
import * as ProviderError from "../ProviderError.ts"

/** What was read of a body: its text, and whether reading stopped at the limit before its end. */
export interface Read {
  readonly text: string
  readonly cut: boolean
}

/** The reader's view of where it reads from, for its errors. */
export interface Source {
  readonly site: ProviderError.Site
  /** The URL as errors may print it. */
  readonly display: string
  readonly secrets: ReadonlyArray<string>
}

const declaredLength = (response: HttpClientResponse.HttpClientResponse): number | undefined => {
  const header = response.headers["content-length"]
  if (header === undefined || !/^\d+$/.test(header)) return undefined
  return Number(header)
}

/** Maps a failure to read the body (the connection broke) onto the error the adapters raise. */
export const readFailure =
  (source: Source) =>
  (error: AiError.AiError | HttpClientError.HttpClientError): AiError.AiError =>
    error._tag === "AiError"
      ? error
      : ProviderError.fromHttpClientError(source.site, source.display, error, source.secrets)

/**
 * Reads at most `limit` bytes of the body. With `overflow: "fail"` a longer body fails with `tooLarge` (at once
 * when its `content-length` says so); with `"cut"` the text read so far is returned with `cut: true`.
 */
export const read = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number,
  overflow: "fail" | "cut",
  source: Source
): Effect.Effect<Read, AiError.AiError> => {
  const declared = declaredLength(response)
  // The client holds exactly `content-length` bytes or fails, so a declared size within the limit is safe to
  // read in one piece: the fast path for nearly every answer.
  if (declared !== undefined && declared <= limit) {
    return Effect.mapBoth(response.text, {
      onFailure: readFailure(source),
      onSuccess: (text) => ({ text, cut: false })
    })
  }
  // Built only when needed: an error captures a stack trace, which costs more than reading a small body.
  const tooLarge = () =>
    ProviderError.tooLarge(
      source.site,
      declared === undefined ? "the response body" : `the response body (${declared} bytes declared)`,
      limit
    )
  if (declared !== undefined && overflow === "fail") {
    // Reading one chunk and stopping ends the body stream, which aborts the request.
    return Effect.andThen(Effect.ignore(Stream.runHead(response.stream)), Effect.fail(tooLarge()))
  }
  return Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    let cut = false
    // Whole arrays of chunks at a time: per-chunk stream steps cost more than the reading itself on small bodies.
    // Stopping early is a failure the reader catches: it ends the body stream, which aborts the request.
    return response.stream.pipe(
      Stream.runForEachArray((array): Effect.Effect<void, AiError.AiError | typeof stop> => {
        for (const chunk of array) {
          if (size + chunk.length <= limit) {
            chunks.push(chunk)
            size += chunk.length
            continue
          }
          if (overflow === "fail") return Effect.fail(tooLarge())
          chunks.push(chunk.subarray(0, limit - size))
          size = limit
          cut = true
          return Effect.fail(stop)
        }
        return Effect.void
      }),
      Effect.catchIf(
        (error): error is typeof stop => error === stop,
        () => Effect.void
      ),
      Effect.mapError(readFailure(source)),
      Effect.map(() => ({ text: decodeUtf8(chunks, size), cut }))
    )
  })
}

// Ends the reading of a body cut at its limit.
const stop: { readonly _tag: "Stop" } = { _tag: "Stop" }

const decoder = new TextDecoder()

const decodeUtf8 = (chunks: ReadonlyArray<Uint8Array>, size: number): string => {
  if (chunks.length === 1) return decoder.decode(chunks[0])
  const all = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.length
  }
  return decoder.decode(all)
}
