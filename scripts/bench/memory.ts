/**
 * `pnpm bench memory [--json] [--quick]`: long-term memory on LanceDB with the local embedder.
 *
 * - retrieval quality: hit rate at 5 of hybrid vs vector-only vs BM25-only recall on a labelled synthetic set
 *   (facts about made-up organisations, paraphrased / misspelt / reverse questions: scripts/bench/memory/corpus.ts);
 * - ingest: records per second through `rememberMany` (embedding + commit, batches of 1,000) and through single
 *   `remember` calls (one commit each);
 * - recall latency (hybrid, end to end: embed the query, vector + BM25 search, scoring) at 10,000 and 100,000
 *   records once the vector index is built, and recall@10 of the indexed vector search against exact search;
 * - write latency at the largest size: 1,000 single `remember` calls on the indexed table with upkeep every 50 rows,
 *   so that 2% of the writes cross the upkeep threshold and the p99 includes them (`remember_p99_ms`,
 *   `remember_max_ms`).
 * `--quick` skips the 100,000-record run; `--pq` uses an IVF_PQ index instead of the default IVF_FLAT.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Memory } from "@troupe/memory"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { quantile, report } from "./_report.ts"
import { labelledSet, prng, scaleTexts } from "./memory/corpus.ts"

const quick = process.argv.includes("--quick")
const vectorIndex = process.argv.includes("--pq") ? "ivf_pq" : "ivf_flat"
const now = () => performance.now()

const vectorOnly = { vector: 1, bm25: 0, recency: 0, importance: 0 }
const bm25Only = { vector: 0, bm25: 1, recency: 0, importance: 0 }

const withDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-bench-memory-"))),
    f,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const useMemory = <A, E>(
  dir: string,
  options: Omit<Memory.Options, "directory">,
  f: (m: Memory.Service) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    return yield* f(yield* Memory.Memory)
  }).pipe(Effect.provide(Memory.layerTest(dir, options)))

const quality = withDir((dir) =>
  useMemory(dir, {}, (memory) =>
    Effect.gen(function* () {
      const { docs, questions } = labelledSet(300, 300)
      for (let i = 0; i < docs.length; i += 1000) {
        yield* memory.rememberMany(
          docs
            .slice(i, i + 1000)
            .map((d) => ({ agent: "bench", kind: "fact" as const, text: d.text, metadata: { key: d.key } }))
        )
      }
      // The labelled facts share one age and importance, so all modes rank on retrieval signals alone; hybrid
      // keeps the default vector:BM25 ratio.
      const hybrid = { ...Memory.defaultWeights, recency: 0, importance: 0 }
      const modes = { hybrid, vector: vectorOnly, bm25: bm25Only }
      const hits: Record<string, Record<string, number>> = {}
      const counts: Record<string, number> = {}
      for (const q of questions) counts[q.flavour] = (counts[q.flavour] ?? 0) + 1
      for (const [mode, weights] of Object.entries(modes)) {
        const byFlavour: Record<string, number> = { all: 0 }
        for (const q of questions) {
          const results = yield* memory.recall(q.query, { k: 5, weights })
          if (results.some((r) => r.record.metadata.key === q.answer)) {
            byFlavour.all! += 1
            byFlavour[q.flavour] = (byFlavour[q.flavour] ?? 0) + 1
          }
        }
        hits[mode] = byFlavour
      }
      const rate = (mode: string, flavour = "all") =>
        (hits[mode]![flavour] ?? 0) / (flavour === "all" ? questions.length : counts[flavour]!)
      return { docs: docs.length, questions: questions.length, counts, rate }
    })
  )
)

const ingestSingle = withDir((dir) =>
  useMemory(dir, {}, (memory) =>
    Effect.gen(function* () {
      const texts = scaleTexts(500, 3)
      const t0 = now()
      for (const text of texts) yield* memory.remember({ agent: "bench", kind: "episode", text })
      return texts.length / ((now() - t0) / 1000)
    })
  )
)

const scale = (n: number, measureWrites: boolean) =>
  withDir((dir) =>
    useMemory(dir, { indexThreshold: n, optimizeEvery: Number.MAX_SAFE_INTEGER, vectorIndex }, (memory) =>
      Effect.gen(function* () {
        const texts = scaleTexts(n)
        const t0 = now()
        for (let i = 0; i < n; i += 1000) {
          yield* memory.rememberMany(
            texts.slice(i, i + 1000).map((text) => ({ agent: "bench", kind: "episode" as const, text }))
          )
        }
        const ingestS = (now() - t0) / 1000
        const t1 = now()
        const status = yield* memory.optimize
        const indexS = (now() - t1) / 1000
        if (!status.vectorIndexed) return yield* Effect.die(new Error("the vector index was not built"))

        // Queries: fragments of stored sentences, so each has real neighbours but no exact duplicate.
        const rand = prng(n)
        const queries = Array.from({ length: 220 }, () => {
          const words = texts[Math.floor(rand() * n)]!.split(" ")
          return words.slice(2, 10).join(" ")
        })
        for (const q of queries.slice(0, 20)) yield* memory.recall(q, { k: 10 })
        const hybrid: Array<number> = []
        for (const q of queries.slice(20)) {
          const t = now()
          yield* memory.recall(q, { k: 10 })
          hybrid.push(now() - t)
        }
        const vector: Array<number> = []
        for (const q of queries.slice(20)) {
          const t = now()
          yield* memory.recall(q, { k: 10, weights: vectorOnly, candidates: 10 })
          vector.push(now() - t)
        }
        let overlap = 0
        const checked = queries.slice(20, 120)
        for (const q of checked) {
          const indexed = yield* memory.recall(q, { k: 10, weights: vectorOnly, candidates: 10 })
          const exact = yield* memory.recall(q, { k: 10, weights: vectorOnly, candidates: 10, exact: true })
          const truth = new Set(exact.map((r) => r.record.id))
          overlap += indexed.filter((r) => truth.has(r.record.id)).length / Math.max(1, exact.length)
        }
        hybrid.sort((a, b) => a - b)
        vector.sort((a, b) => a - b)
        return {
          ingestPerS: n / ingestS,
          indexS,
          p50: quantile(hybrid, 0.5),
          p99: quantile(hybrid, 0.99),
          vectorP50: quantile(vector, 0.5),
          recallAt10: overlap / checked.length
        }
      })
    ).pipe(
      Effect.flatMap((figures) =>
        Effect.map(measureWrites ? Effect.asSome(writes(dir, n)) : Effect.succeedNone, (w) => ({
          ...figures,
          writes: Option.getOrUndefined(w)
        }))
      )
    )
  )

// Single writes to the indexed table at size n. Every 50th write crosses the upkeep threshold (2% of them, so that
// the p99 is one of those): when upkeep ran on the write path, that write paid for compaction and the index refresh.
const writeCount = 1000
const writeUpkeepEvery = 50
const writes = (dir: string, n: number) =>
  useMemory(dir, { indexThreshold: n, optimizeEvery: writeUpkeepEvery, vectorIndex }, (memory) =>
    Effect.gen(function* () {
      const texts = scaleTexts(writeCount, 5)
      const times: Array<number> = []
      for (const text of texts) {
        const t = now()
        yield* memory.remember({ agent: "bench", kind: "episode", text })
        times.push(now() - t)
      }
      const { upkeep } = yield* memory.status
      times.sort((a, b) => a - b)
      return {
        p50: quantile(times, 0.5),
        p99: quantile(times, 0.99),
        max: times[times.length - 1]!,
        upkeepRuns: upkeep.runs,
        upkeepFailures: upkeep.failures
      }
    })
  )

const round = (x: number, digits = 2) => Number(x.toFixed(digits))

const program = Effect.gen(function* () {
  const q = yield* quality
  const single = yield* ingestSingle
  const small = yield* scale(10_000, quick)
  const large = quick ? undefined : yield* scale(100_000, true)
  const figures: Record<string, number> = {
    ingest_per_s: round((large ?? small).ingestPerS, 0),
    ingest_single_per_s: round(single, 0),
    index_build_s_10k: round(small.indexS),
    recall_p50_ms_10k: round(small.p50),
    recall_p99_ms_10k: round(small.p99),
    vector_recall_p50_ms_10k: round(small.vectorP50),
    recall_at_10_10k: round(small.recallAt10, 3),
    hit_at_5_hybrid: round(q.rate("hybrid"), 3),
    hit_at_5_vector: round(q.rate("vector"), 3),
    hit_at_5_bm25: round(q.rate("bm25"), 3)
  }
  const written = large?.writes ?? small.writes!
  Object.assign(figures, {
    remember_p50_ms: round(written.p50),
    remember_p99_ms: round(written.p99),
    remember_max_ms: round(written.max)
  })
  if (large !== undefined) {
    Object.assign(figures, {
      index_build_s_100k: round(large.indexS),
      recall_p50_ms_100k: round(large.p50),
      recall_p99_ms_100k: round(large.p99),
      vector_recall_p50_ms_100k: round(large.vectorP50),
      recall_at_10: round(large.recallAt10, 3)
    })
  } else figures.recall_at_10 = round(small.recallAt10, 3)
  const rows: Array<[string, string]> = [
    [
      "labelled set",
      `${q.docs} facts, ${q.questions} questions (${Object.entries(q.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")})`
    ],
    ...(["hybrid", "vector", "bm25"] as const).map((mode): [string, string] => [
      `hit@5 ${mode}`,
      `${round(q.rate(mode), 3)}  (paraphrase ${round(q.rate(mode, "paraphrase"), 3)}, typo ${round(q.rate(mode, "typo"), 3)}, reverse ${round(q.rate(mode, "reverse"), 3)})`
    ]),
    [
      "ingest rememberMany",
      `${figures.ingest_per_s} records/s (${large === undefined ? "10k" : "100k"} records, batches of 1,000)`
    ],
    ["ingest remember", `${figures.ingest_single_per_s} records/s (one commit each)`],
    [
      `${large === undefined ? "10k" : "100k"}: remember`,
      `p50 ${figures.remember_p50_ms} ms, p99 ${figures.remember_p99_ms} ms, max ${figures.remember_max_ms} ms (${writeCount} writes, upkeep every ${writeUpkeepEvery}: ${written.upkeepRuns} passes done, ${written.upkeepFailures} failed)`
    ],
    ["10k: index build", `${figures.index_build_s_10k} s`],
    ["10k: hybrid recall", `p50 ${figures.recall_p50_ms_10k} ms, p99 ${figures.recall_p99_ms_10k} ms`],
    ["10k: vector recall", `p50 ${figures.vector_recall_p50_ms_10k} ms, recall@10 ${figures.recall_at_10_10k}`]
  ]
  if (large !== undefined) {
    rows.push(
      ["100k: index build", `${figures.index_build_s_100k} s`],
      ["100k: hybrid recall", `p50 ${figures.recall_p50_ms_100k} ms, p99 ${figures.recall_p99_ms_100k} ms`],
      ["100k: vector recall", `p50 ${figures.vector_recall_p50_ms_100k} ms, recall@10 ${figures.recall_at_10}`]
    )
  }
  report(`memory (LanceDB ${vectorIndex}, local embedder)`, figures, rows)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
