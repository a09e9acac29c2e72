/**
 * The replies of hostile or broken servers, for the fake servers' faults: a reply that is not HTTP, one that
 * drips forever, one far larger than any answer. Each writes to a `node:http` response directly and respects
 * backpressure, so a huge reply costs the fake server one chunk of memory, not the whole body.
 */
import type * as Http from "node:http"

/** Something that can schedule work and forget it when the request closes. */
export type Later = (ms: number, f: () => void) => void

/** Writes `text` on the raw socket before any HTTP response head, then closes it. */
export const garbage = (res: Http.ServerResponse, text: string): void => {
  res.socket?.end(text)
}

/** Sends a head, then `first`, then `next()` every `everyMs`, until the client goes away. */
export const drip = (
  res: Http.ServerResponse,
  contentType: string,
  first: string,
  next: () => string,
  everyMs: number,
  later: Later
): void => {
  res.writeHead(200, { "content-type": contentType, "cache-control": "no-cache" })
  res.write(first)
  const tick = () => {
    if (res.destroyed) return
    res.write(next())
    later(everyMs, tick)
  }
  later(everyMs, tick)
}

const chunkSize = 64 * 1024

/**
 * Sends a 200 of `bytes` bytes in all, no faster than the client reads: a JSON object padded with one long string,
 * or for a stream one event of that size (`events: "one"`) or `keepAlive` events adding up to it (`"many"`). With
 * `declared` the head carries the `content-length`.
 */
export const huge = (
  res: Http.ServerResponse,
  options: {
    readonly bytes: number
    readonly declared: boolean
    readonly stream: boolean
    readonly events: "one" | "many"
    readonly keepAlive: string
  }
): void => {
  const [prefix, filler, suffix] = !options.stream
    ? ['{"pad":"', "x", '"}']
    : options.events === "one"
      ? ["data: ", "x", "\n\n"]
      : ["", options.keepAlive, ""]
  const total = Math.max(options.bytes, prefix.length + suffix.length)
  res.writeHead(200, {
    "content-type": options.stream ? "text/event-stream" : "application/json",
    ...(options.declared ? { "content-length": String(total) } : {})
  })
  const chunk = Buffer.from(filler.repeat(Math.max(1, Math.floor(chunkSize / filler.length))))
  let left = total - prefix.length - suffix.length
  res.write(prefix)
  const pump = () => {
    while (left > 0) {
      if (res.destroyed) return
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left)
      left -= piece.length
      if (!res.write(piece)) return void res.once("drain", pump)
    }
    if (!res.destroyed) res.end(suffix)
  }
  pump()
}
