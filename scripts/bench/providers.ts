/**
 * `pnpm bench providers [--json]`: per-request overhead of each provider adapter against its fake server
 * at zero latency, compared in the same run with a raw `fetch` POST of the same body to the same server.
 *
 * For each of OpenAI-compatible, Anthropic and Gemini: warm up, then time N sequential
 * `LanguageModel.generateText` calls (adapter: request building, HTTP via `NodeHttpClient.layerUndici`,
 * schema decoding, response parts) and N sequential `fetch` + `response.json()` of the identical body.
 * The ratio is adapter p50 / fetch p50.
 *
 * Then hostile answers: a 50 MB and a 600 MB JSON body (with and without `content-length`) against the OpenAI adapter
 * at its default limits, reporting how the call ended, how long it took to fail and the peak growth of the process's
 * resident memory while it ran.
 */

import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { AnthropicLanguageModel, GeminiLanguageModel, OpenAiLanguageModel, Retry } from "@troupe/providers"
import { FakeAnthropic, FakeGemini, FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import { Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"
import { HttpClient, HttpClientRequest } from "effect/http"
import { quantile, report } from "./_report.ts"

const N = Number(process.env.BENCH_N ?? 2000)
const WARMUP = 500
const prompt = [
  { role: "system" as const, content: "You are a terse assistant." },
  { role: "user" as const, content: "Say hello in one word." }
]
const turns = [{ text: "Hello", usage: { input: 12, output: 1 } }]

interface Case {
  readonly name: string
  readonly server: Effect.Effect<FakeServer.FakeServer, never, import("effect").Scope.Scope>
  readonly model: (url: string) => Effect.Effect<LanguageModel.LanguageModel, never, HttpClient.HttpClient>
}

const cases: ReadonlyArray<Case> = [
  {
    name: "openai",
    server: FakeOpenAi.make({ turns }),
    model: (url) => OpenAiLanguageModel.make({ baseUrl: url, model: "gpt-bench", retry: Retry.none })
  },
  {
    name: "anthropic",
    server: FakeAnthropic.make({ turns }),
    model: (url) => AnthropicLanguageModel.make({ baseUrl: url, model: "claude-bench", retry: Retry.none })
  },
  {
    name: "gemini",
    server: FakeGemini.make({ turns }),
    model: (url) => GeminiLanguageModel.make({ baseUrl: url, model: "gemini-bench", retry: Retry.none })
  }
]

const stats = (samples: Array<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: quantile(sorted, 0.5) * 1000, p99: quantile(sorted, 0.99) * 1000 }
}

const ROUNDS = 4

// Adapter and fetch alternate in rounds so drift on a shared machine hits both sides alike.
const timeAdapter = (model: LanguageModel.LanguageModel, count: number) =>
  Effect.gen(function* () {
    const call = LanguageModel.generateText({ prompt }).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
    const samples: Array<number> = []
    for (let i = 0; i < count; i++) {
      const start = performance.now()
      yield* call
      samples.push(performance.now() - start)
    }
    return samples
  })

// The same POST through the same effect HttpClient the adapters use, without any adapter work: shows how
// much of the adapter's time is the HTTP client itself.
const timeClient = (url: string, headers: Record<string, string>, body: string, count: number) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.bodyText(HttpClientRequest.post(url, { headers }), body, "application/json")
    const samples: Array<number> = []
    for (let i = 0; i < count; i++) {
      const start = performance.now()
      const response = yield* client.execute(request)
      yield* response.json
      samples.push(performance.now() - start)
    }
    return samples
  }).pipe(Effect.orDie)

const timeFetch = async (url: string, headers: Record<string, string>, body: string, count: number) => {
  const samples: Array<number> = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    const response = await fetch(url, { method: "POST", headers, body })
    await response.json()
    samples.push(performance.now() - start)
  }
  return samples
}

interface Figures {
  readonly p50: number
  readonly p99: number
}
const results: Record<string, { adapter: Figures; httpClient: Figures; fetch: Figures; ratio: number }> = {}

for (const c of cases) {
  const program = Effect.gen(function* () {
    const server = yield* c.server
    const model = yield* c.model(server.url)
    yield* timeAdapter(model, WARMUP)
    const first = server.requests[0]!
    const headers: Record<string, string> = { "content-type": "application/json" }
    for (const [k, v] of Object.entries(first.headers)) {
      if (typeof v === "string" && (k.startsWith("x-") || k.startsWith("anthropic") || k === "authorization")) {
        headers[k] = v
      }
    }
    const url = `${server.origin}${first.path}`
    const body = JSON.stringify(first.body)
    yield* Effect.promise(() => timeFetch(url, headers, body, WARMUP))
    yield* timeClient(url, headers, body, WARMUP)
    const adapter: Array<number> = []
    const client: Array<number> = []
    const raw: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      adapter.push(...(yield* timeAdapter(model, N / ROUNDS)))
      client.push(...(yield* timeClient(url, headers, body, N / ROUNDS)))
      raw.push(...(yield* Effect.promise(() => timeFetch(url, headers, body, N / ROUNDS))))
    }
    return { adapter, client, raw }
  }).pipe(Effect.scoped, Effect.provide(Layer.fresh(NodeHttpClient.layerUndici)))
  const { adapter, client, raw } = await Effect.runPromise(program)
  const a = stats(adapter)
  const h = stats(client)
  const f = stats(raw)
  results[c.name] = { adapter: a, httpClient: h, fetch: f, ratio: a.p50 / f.p50 }
}

// One call against a server answering with `bytes` of JSON; the peak resident memory is sampled while it runs.
const hostile = (bytes: number, declared: boolean) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAi.make({ faults: [FakeServer.huge(bytes, { declared })] })
    const model = yield* OpenAiLanguageModel.make({ baseUrl: server.url, model: "gpt-bench", retry: Retry.none })
    globalThis.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 5)
    const start = performance.now()
    const exit = yield* Effect.exit(
      LanguageModel.generateText({ prompt }).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
    )
    const ms = performance.now() - start
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    const outcome =
      exit._tag === "Success"
        ? "answered"
        : exit.cause.reasons.map((r) => (r._tag === "Fail" ? r.error.reason._tag : r._tag)).join(",")
    return { bytes, declared, outcome, ms: Math.round(ms), peak_rss_growth_mb: Math.round((peak - before) / 1e6) }
  }).pipe(Effect.scoped, Effect.provide(Layer.fresh(NodeHttpClient.layerUndici)))

const hostileResults: Array<Effect.Success<ReturnType<typeof hostile>>> = []
for (const bytes of [50_000_000, 600_000_000]) {
  for (const declared of [false, true]) hostileResults.push(await Effect.runPromise(hostile(bytes, declared)))
}

const us = (n: number) => `${n.toFixed(0)} µs`
report(
  `Provider adapters vs raw fetch, ${N} sequential generateText calls at zero latency (Node ${process.version})`,
  { n: N, results, hostile: hostileResults },
  Object.entries(results)
    .flatMap(
      ([name, r]) =>
        [
          [`${name} adapter p50 / p99`, `${us(r.adapter.p50)} / ${us(r.adapter.p99)}`],
          [`${name} same POST, effect HttpClient p50 / p99`, `${us(r.httpClient.p50)} / ${us(r.httpClient.p99)}`],
          [`${name} same POST, raw fetch p50 / p99`, `${us(r.fetch.p50)} / ${us(r.fetch.p99)}`],
          [`${name} adapter ÷ fetch (p50)`, `${r.ratio.toFixed(2)}×`]
        ] as Array<[string, string]>
    )
    .concat(
      hostileResults.map((h) => [
        `${h.bytes / 1e6} MB answer${h.declared ? " (content-length)" : " (chunked)"}`,
        `${h.outcome} after ${h.ms} ms, peak RSS +${h.peak_rss_growth_mb} MB`
      ])
    )
)
