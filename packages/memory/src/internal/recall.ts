/**
 * Hybrid recall over the memories table: fetches candidates by vector search and BM25 full-text search under the
 * same filter, gathers their raw signals, ranks them with `fusion.ts`, and decodes the winners. With neither search
 * weighted, the candidates are every memory the filter selects, ranked on recency and importance alone.
 */
import { MatchQuery } from "@lancedb/lancedb"
import { LocalEmbedder } from "@troupe/providers"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { RecallOptions, Weights } from "../Memory.ts"
import { type DimensionMismatch, InvalidRecallOptions, type MemoryError } from "../MemoryError.ts"
import type { Filter, MemoryRecord, Recalled } from "../MemoryRecord.ts"
import * as Filters from "./filter.ts"
import * as Fusion from "./fusion.ts"
import type * as Indexing from "./indexing.ts"
import * as Lance from "./lance.ts"
import * as Rows from "./rows.ts"
import type { Opened } from "./table.ts"

/** One query, its options checked. */
export interface Query {
  readonly text: string
  /**
   * The query's embedding, checked against the table's dimension; run only when the vector weight is positive. It
   * runs while the BM25 search is already under way.
   */
  readonly embed: Effect.Effect<ReadonlyArray<number>, MemoryError | DimensionMismatch>
  readonly weights: Weights
  readonly k: number
  readonly candidates: number | undefined
  readonly filter: Filter
  readonly exact: boolean
}

/** How the searches are run and the recency decay scored, from the layer's options and the index on disk. */
export interface Tuning {
  readonly vectorIndex: Indexing.VectorIndexKind
  readonly nprobes: number
  readonly refineFactor: number
  readonly halfLifeMs: number
}

const positiveInt = (name: string, value: number | undefined, max: number) =>
  value === undefined || (Number.isInteger(value) && value >= 1 && value <= max)
    ? Effect.void
    : Effect.fail(new InvalidRecallOptions({ message: `${name} must be an integer from 1 to ${max}, got ${value}` }))

/**
 * Checks a recall's options and resolves its weights and filter (`namespace` and `kinds` take precedence over the
 * filter's own).
 */
export const resolve = (
  options: RecallOptions,
  base: Weights,
  limits: { readonly defaultK: number; readonly maxK: number }
): Effect.Effect<
  { readonly k: number; readonly weights: Weights; readonly filter: Filter; readonly candidates: number | undefined },
  InvalidRecallOptions
> =>
  Effect.gen(function* () {
    yield* positiveInt("k", options.k, limits.maxK)
    yield* positiveInt("candidates", options.candidates, limits.maxK)
    const weights: Weights = { ...base, ...options.weights }
    for (const [name, w] of Object.entries(weights)) {
      if (!Number.isFinite(w) || w < 0) {
        return yield* new InvalidRecallOptions({ message: `weight ${name} must be finite and not negative, got ${w}` })
      }
    }
    const filter: Filter = {
      ...options.filter,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.kinds === undefined ? {} : { kinds: options.kinds })
    }
    return { k: options.k ?? limits.defaultK, weights, filter, candidates: options.candidates }
  })

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}

interface StoredRow {
  readonly id: string
  readonly importance?: unknown
  readonly created_at?: unknown
}

const numberOr0 = (x: unknown) => (typeof x === "number" ? x : 0)

/**
 * The k best memories for a query with their component scores, best first.
 *
 * Stored rows that do not decode are passed over (the next candidate takes their place) and reported.
 */
export const run = (
  opened: Opened,
  query: Query,
  tuning: Tuning
): Effect.Effect<Array<Recalled>, MemoryError | DimensionMismatch> =>
  Effect.gen(function* () {
    const { filter, k, weights: w } = query
    const where = Filters.toSql(filter)
    const searchText = w.bm25 > 0 && LocalEmbedder.tokenize(query.text).length > 0
    if (w.vector <= 0 && w.bm25 <= 0) return yield* unsearched(opened, query, tuning, where)
    // Every candidate costs a random read of each of its columns (about 0.3 ms per column for 10 rows at 100,000
    // rows), so each search fetches about k. BM25 rescues exact terms the vector ranks low; on the labelled set of
    // `pnpm bench memory` 10 BM25 candidates found as much as 20.
    const pool = Math.max(1, query.candidates ?? Math.max(k, 10)) * (filter.metadata === undefined ? 1 : 4)

    const vectorSearch =
      w.vector > 0
        ? Effect.flatMap(query.embed, (vector) =>
            Lance.attempt("vectorSearch", () => {
              let q = opened.table
                .vectorSearch(Float32Array.from(vector))
                .distanceType("cosine")
                .select([...Rows.recordColumns, "_distance"])
                .limit(pool)
              if (query.exact) q = q.bypassVectorIndex()
              else if (tuning.vectorIndex === "IvfPq") q = q.nprobes(tuning.nprobes).refineFactor(tuning.refineFactor)
              else if (tuning.vectorIndex !== "none") q = q.nprobes(tuning.nprobes)
              if (where !== undefined) q = q.where(where)
              return q.toArray()
            }).pipe(Effect.map((rows: Array<StoredRow & { _distance: number }>) => ({ vector, rows })))
          )
        : Effect.succeed(undefined)
    const textSearch = searchText
      ? Lance.attempt("fullTextSearch", () => {
          // The vector column comes along so that BM25-only candidates get an exact vector score too.
          let q = opened.table
            .query()
            .fullTextSearch(new MatchQuery(query.text, "text"))
            .select([...Rows.recordColumns, "vector", "_score"])
            .limit(pool)
          if (where !== undefined) q = q.where(where)
          return q.toArray()
        })
      : Effect.succeed([] as Array<StoredRow & { _score: number }>)
    const [vectorResult, textRows] = yield* Effect.all([vectorSearch, textSearch], { concurrency: 2 })
    const queryVector = vectorResult?.vector
    const vectorRows = vectorResult?.rows ?? []

    const similarity = new Map<string, number>()
    for (const row of vectorRows) similarity.set(row.id, 1 - row._distance)
    const bm25 = new Map<string, number>()
    for (const row of textRows) {
      bm25.set(row.id, row._score)
      if (queryVector !== undefined && !similarity.has(row.id)) {
        similarity.set(row.id, cosine(queryVector, Rows.vectorOf(row)))
      }
    }
    const seen = new Set<string>()
    const candidates: Array<Fusion.Candidate<StoredRow>> = []
    for (const row of [...vectorRows, ...textRows]) {
      if (seen.has(row.id)) continue
      seen.add(row.id)
      candidates.push({
        id: row.id,
        importance: numberOr0(row.importance),
        createdAt: numberOr0(row.created_at),
        cosine: queryVector === undefined ? undefined : (similarity.get(row.id) ?? 0),
        bm25: searchText ? (bm25.get(row.id) ?? 0) : undefined,
        row
      })
    }
    return yield* winners(candidates, query, tuning, Effect.succeed)
  })

// With no search weighted, every memory the filter selects is a candidate: scored on its light columns, and only the
// winners' records are read.
const unsearched = (opened: Opened, query: Query, tuning: Tuning, where: string | undefined) =>
  Effect.gen(function* () {
    const rows = yield* Lance.attempt("scan", () => {
      let q = opened.table
        .query()
        .select(query.filter.metadata === undefined ? ["id", "importance", "created_at"] : Rows.recordColumns)
      if (where !== undefined) q = q.where(where)
      return q.toArray()
    })
    const pool = (rows as Array<StoredRow>).map(
      (row): Fusion.Candidate<StoredRow> => ({
        id: row.id,
        importance: numberOr0(row.importance),
        createdAt: numberOr0(row.created_at),
        cosine: undefined,
        bm25: undefined,
        row
      })
    )
    const fetch = (ids: ReadonlyArray<string>) =>
      Lance.attempt("scan", () =>
        opened.table.query().where(Lance.sqlIn("id", ids)).select(Rows.recordColumns).toArray()
      )
    return yield* winners(pool, query, tuning, (batch) =>
      query.filter.metadata === undefined
        ? Effect.map(fetch(batch.map((r) => r.id)), (full: Array<StoredRow>) => {
            const byId = new Map(full.map((r) => [r.id, r]))
            return batch.map((r) => byId.get(r.id) ?? r)
          })
        : Effect.succeed(batch)
    )
  })

// Ranks the candidates and decodes the best k, skipping (and reporting) rows that do not decode.
const winners = (
  pool: ReadonlyArray<Fusion.Candidate<StoredRow>>,
  query: Query,
  tuning: Tuning,
  load: (rows: ReadonlyArray<StoredRow>) => Effect.Effect<ReadonlyArray<unknown>, MemoryError>
): Effect.Effect<Array<Recalled>, MemoryError> =>
  Effect.gen(function* () {
    const decoded = new Map<string, MemoryRecord>()
    const unreadable: Array<Rows.Unreadable> = []
    const decode = (candidates: ReadonlyArray<Fusion.Candidate<StoredRow>>) =>
      Effect.gen(function* () {
        const missing = candidates.filter((c) => !decoded.has(c.id))
        if (missing.length === 0) return
        const result = Rows.toRecords(yield* load(missing.map((c) => c.row)))
        for (const record of result.records) decoded.set(record.id, record)
        unreadable.push(...result.unreadable)
      })
    // Metadata is one JSON column: candidates are decoded and checked before ranking, so that the scores are
    // normalised over the ones that qualify.
    let candidates = pool
    if (query.filter.metadata !== undefined) {
      yield* decode(pool)
      const matches = Filters.matchesMetadata(query.filter)
      candidates = pool.filter((c) => {
        const record = decoded.get(c.id)
        return record !== undefined && matches(record)
      })
    }
    const now = yield* Clock.currentTimeMillis
    const ranked = Fusion.fuse(candidates, { weights: query.weights, now, halfLifeMs: tuning.halfLifeMs })
    // Rows are ranked on their raw columns and only the winners are decoded: decoding is most of the JS-side cost.
    const results: Array<Recalled> = []
    for (let start = 0; start < ranked.length && results.length < query.k; ) {
      const batch = ranked.slice(start, start + query.k - results.length)
      start += batch.length
      yield* decode(batch.map((r) => r.candidate))
      for (const { candidate, scores } of batch) {
        const record = decoded.get(candidate.id)
        if (record !== undefined) results.push({ record, scores })
      }
    }
    yield* Rows.reportUnreadable("recall", unreadable)
    return results
  })
