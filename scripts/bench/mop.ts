/**
 * `pnpm bench mop [--json]`: the Mixture of Providers against fake OpenAI servers on 127.0.0.1.
 *
 * Three providers answer after 20 ms, 50 ms and 200 ms (each with uniform jitter); the 50 ms one fails 5% of
 * its calls with a 503. For each strategy it measures the wall time of sequential requests (p50/p99) next to
 * the fastest and the slowest provider alone, and the mixture's own overhead: wall time minus the latency of
 * the slowest provider call the mixture waited for (measured around each member's `generateText`, so HTTP is
 * on the provider's side of the line). It also checks that losing calls really stop: every call the mixture cancelled
 * must show on its fake server as an aborted request (`losers`). Then hedging under an injected tail: two 20 ms
 * providers that each take 300 ms longer on 5% of calls, one provider alone against `firstValid` hedged after 50 ms.
 *
 * HTTP goes through `@effect/platform-node`'s undici client, the one the CLI uses; `--fetch` uses `effect/http`'s
 * `FetchHttpClient`.
 */

import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Mixture, OpenAiLanguageModel, ProviderPool, Retry } from "@troupe/providers"
import { FakeOpenAi, ModelProbe, SeededRandom } from "@troupe/providers/testing"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import { quantile, report } from "./_report.ts"

const requests = Number(process.env.MOP_REQUESTS ?? 100)
const warmup = 10
const answer = "The answer is 42. It is the product of six and seven."

interface Call {
  readonly member: string
  readonly ms: number
  readonly completed: boolean
}

// Every call interrupted before it ended (a loser the mixture cancelled), whenever its interruption lands.
const cancelled = { count: 0 }

// Wraps a model so that every call's latency lands in `log` (through the adapter's methods too, which the mixture
// calls directly); an optional tail delays some calls.
const timed = (
  member: string,
  model: LanguageModel.LanguageModel,
  log: Array<Call>,
  tail?: { readonly p: number; readonly ms: number; readonly random: () => number },
  started?: { count: number }
): LanguageModel.LanguageModel =>
  ModelProbe.around(model, (call) =>
    Effect.suspend(() => {
      if (started !== undefined) started.count++
      const start = performance.now()
      const delay = tail !== undefined && tail.random() < tail.p ? Effect.sleep(tail.ms) : Effect.void
      return delay.pipe(
        Effect.andThen(call),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            const interrupted = Exit.isFailure(exit) && exit.cause.reasons.every((r) => r._tag === "Interrupt")
            if (interrupted) cancelled.count++
            log.push({ member, ms: performance.now() - start, completed: !interrupted })
          })
        )
      )
    })
  )

interface Sample {
  readonly wall: number
  readonly overhead: number
  readonly ok: boolean
}

const summarize = (samples: ReadonlyArray<Sample>) => {
  const walls = samples.map((s) => s.wall).sort((a, b) => a - b)
  const overheads = samples.map((s) => s.overhead).sort((a, b) => a - b)
  const round = (x: number) => Math.round(x * 1000) / 1000
  return {
    p50_ms: round(quantile(walls, 0.5)),
    p99_ms: round(quantile(walls, 0.99)),
    overhead_p50_ms: round(quantile(overheads, 0.5)),
    overhead_p99_ms: round(quantile(overheads, 0.99)),
    failures: samples.filter((s) => !s.ok).length
  }
}

const measure = (log: Array<Call>, call: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function* () {
    const samples: Array<Sample> = []
    for (let i = 0; i < warmup + requests; i++) {
      log.length = 0
      const start = performance.now()
      const exit = yield* Effect.exit(call)
      const wall = performance.now() - start
      const waited = Math.max(0, ...log.filter((c) => c.completed).map((c) => c.ms))
      if (i >= warmup) samples.push({ wall, overhead: wall - waited, ok: Exit.isSuccess(exit) })
    }
    return summarize(samples)
  })

const program = Effect.gen(function* () {
  const fast = yield* FakeOpenAi.make({ turns: [{ text: answer }], latency: { fixedMs: 20, jitterMs: 5 }, seed: 1 })
  const mid = yield* FakeOpenAi.make({
    turns: [{ text: answer }],
    latency: { fixedMs: 50, jitterMs: 10 },
    failureRate: { p: 0.05, seed: 7 },
    seed: 2
  })
  const slow = yield* FakeOpenAi.make({ turns: [{ text: answer }], latency: { fixedMs: 200, jitterMs: 40 }, seed: 3 })

  const log: Array<Call> = []
  const model = (name: string, url: string) =>
    Effect.map(OpenAiLanguageModel.make({ baseUrl: url, model: "gpt-4o-mini", retry: Retry.none }), (lm) =>
      timed(name, lm, log)
    )
  const members: Array<Mixture.Member> = [
    { provider: "fast", model: "gpt-4o-mini", languageModel: yield* model("fast", fast.url), timeout: "5 seconds" },
    { provider: "mid", model: "gpt-4o-mini", languageModel: yield* model("mid", mid.url), timeout: "5 seconds" },
    { provider: "slow", model: "gpt-4o-mini", languageModel: yield* model("slow", slow.url), timeout: "5 seconds" }
  ]
  const prompt = "What is six times seven?"

  const single = (index: number) => measure(log, members[index]!.languageModel.generateText({ prompt }))
  const servers = [fast, mid, slow]
  // Requests the servers saw end without an answer, once every request so far has ended.
  const abortedSoFar = Effect.gen(function* () {
    let aborted = 0
    for (const server of servers) {
      for (const request of server.requests) if ((yield* server.settled(request.index)) === "aborted") aborted++
    }
    return aborted
  })
  const strategy = (s: Mixture.Strategy) =>
    Effect.gen(function* () {
      const mixture = yield* Mixture.make({ members, strategy: s })
      const abortedBefore = yield* abortedSoFar
      const cancelledBefore = cancelled.count
      const figures = yield* measure(log, mixture.generateText({ prompt }))
      const aborted = (yield* abortedSoFar) - abortedBefore
      return { ...figures, losers: { cancelled_calls: cancelled.count - cancelledBefore, aborted_requests: aborted } }
    })

  const singleFastest = yield* single(0)
  const singleSlowest = yield* single(2)
  const strategies = {
    "weighted-score": yield* strategy(Mixture.weightedScore()),
    "first-valid": yield* strategy(Mixture.firstValid),
    "quorum-2": yield* strategy(Mixture.quorum(2)),
    fallback: yield* strategy(Mixture.fallback({ retries: 1, backoff: "10 millis" }))
  }

  // Hedging under an injected tail.
  const a = yield* FakeOpenAi.make({ turns: [{ text: answer }], latency: { fixedMs: 20, jitterMs: 5 }, seed: 11 })
  const b = yield* FakeOpenAi.make({ turns: [{ text: answer }], latency: { fixedMs: 20, jitterMs: 5 }, seed: 12 })
  const tailLog: Array<Call> = []
  // Counted where the tail is injected: a hedged-away call may never reach its server.
  const started = { count: 0 }
  // Seeded so that the injected tail is the same on every run.
  const tailed = (name: string, url: string, seed: number) =>
    Effect.map(OpenAiLanguageModel.make({ baseUrl: url, model: "gpt-4o-mini", retry: Retry.none }), (lm) =>
      timed(name, lm, tailLog, { p: 0.05, ms: 300, random: SeededRandom.make(seed) }, started)
    )
  const tailA = yield* tailed("a", a.url, 21)
  const tailB = yield* tailed("b", b.url, 22)
  const aloneTail = yield* measure(tailLog, tailA.generateText({ prompt }))
  const hedged = yield* Mixture.make({
    members: [
      { provider: "a", model: "gpt-4o-mini", languageModel: tailA },
      { provider: "b", model: "gpt-4o-mini", languageModel: tailB }
    ],
    strategy: Mixture.firstValid,
    hedge: { after: "50 millis" }
  })
  const callsBefore = started.count
  const hedgedTail = yield* measure(tailLog, hedged.generateText({ prompt }))
  const hedgedCalls = started.count - callsBefore

  const overheadP50 = Math.max(...Object.values(strategies).map((s) => s.overhead_p50_ms))
  const figures = {
    requests,
    http_client: useFetch ? "fetch" : "undici",
    single_fastest: singleFastest,
    single_slowest: singleSlowest,
    strategies,
    overhead_p50_ms: overheadP50,
    hedging: {
      tail: "5% of calls +300 ms on each provider",
      single_p50_ms: aloneTail.p50_ms,
      single_p99_ms: aloneTail.p99_ms,
      hedged_p50_ms: hedgedTail.p50_ms,
      hedged_p99_ms: hedgedTail.p99_ms,
      p99_gain_ms: Math.round((aloneTail.p99_ms - hedgedTail.p99_ms) * 1000) / 1000,
      calls_per_request: Math.round((hedgedCalls / (warmup + requests)) * 1000) / 1000
    }
  }
  const row = (name: string, s: { p50_ms: number; p99_ms: number; overhead_p50_ms?: number; failures: number }) =>
    [
      name,
      `p50 ${s.p50_ms.toFixed(1)} ms  p99 ${s.p99_ms.toFixed(1)} ms` +
        (s.overhead_p50_ms === undefined ? "" : `  overhead p50 ${s.overhead_p50_ms.toFixed(3)} ms`) +
        `  failures ${s.failures}`
    ] as [string, string]
  report(
    `Mixture of Providers (${requests} sequential requests each; providers at 20/50/200 ms, 50 ms fails 5%; ${figures.http_client})`,
    figures,
    [
      row("single fastest (20 ms)", { ...singleFastest, overhead_p50_ms: undefined as never }),
      row("single slowest (200 ms)", { ...singleSlowest, overhead_p50_ms: undefined as never }),
      ...Object.entries(strategies).map(([name, s]) => row(name, s)),
      ...Object.entries(strategies).map(
        ([name, s]) =>
          [
            `${name}: losers cancelled / requests aborted`,
            `${s.losers.cancelled_calls} / ${s.losers.aborted_requests}`
          ] as [string, string]
      ),
      ["overhead p50 (worst strategy)", `${overheadP50.toFixed(3)} ms (target <= 0.5 ms)`],
      ["tail: one provider alone", `p50 ${aloneTail.p50_ms.toFixed(1)} ms  p99 ${aloneTail.p99_ms.toFixed(1)} ms`],
      [
        "tail: first-valid hedged at 50 ms",
        `p50 ${hedgedTail.p50_ms.toFixed(1)} ms  p99 ${hedgedTail.p99_ms.toFixed(1)} ms  (${figures.hedging.calls_per_request} calls/request)`
      ],
      ["hedging p99 gain", `${figures.hedging.p99_gain_ms.toFixed(1)} ms`]
    ]
  )
})

const useFetch = process.argv.includes("--fetch")
const httpClient: Layer.Layer<HttpClient.HttpClient> = useFetch ? FetchHttpClient.layer : NodeHttpClient.layerUndici

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(Layer.mergeAll(httpClient, ProviderPool.layer())))).catch(
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
