/**
 * Hybrid recall over the memories table: fetches candidates by vector search and BM25 full-text search under the
 * same filter, decodes them, gathers their raw signals and ranks them with `fusion.ts`. With neither search
 * weighted, the candidates are every memory the filter selects, ranked on recency and importance alone.
 */
import { MatchQuery } from "@lancedb/lancedb"
import { LocalEmbedder } from "@troupe/providers"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
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
    const where = options.filter === undefined ? undefined : Filters.whereProblem(options.filter)
    if (where !== undefined) return yield* new InvalidRecallOptions({ message: where })
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

const numberOr0 = (x: unknown) => (typeof x === "number" ? x : 0)

/**
 * The k best memories for a query with their component scores, best first.
 *
 * Stored rows that do not decode are passed over and reported.
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
    // Every result costs a random read of each selected column, so each search fetches about k. BM25 rescues exact
    // terms the vector ranks low; on the labelled set of `pnpm bench memory` 10 BM25 candidates found as much as 20.
    const pool = Math.max(1, query.candidates ?? Math.max(k, 10)) * (filter.metadata === undefined ? 1 : 4)
    const columns = Rows.readColumns(opened.layout)

    const vectorSearch =
      w.vector > 0
        ? Effect.flatMap(query.embed, (vector) =>
            Lance.attempt("vectorSearch", () => {
              let q = opened.reader
                .vectorSearch(Float32Array.from(vector))
                .distanceType("cosine")
                .select([...columns, "_distance"])
                .limit(pool)
              if (query.exact) q = q.bypassVectorIndex()
              else if (tuning.vectorIndex === "IvfPq") q = q.nprobes(tuning.nprobes).refineFactor(tuning.refineFactor)
              else if (tuning.vectorIndex !== "none") q = q.nprobes(tuning.nprobes)
              if (where !== undefined) q = q.where(where)
              return q.toArray()
            }).pipe(Effect.map((rows: Array<{ readonly _distance: number }>) => ({ vector, rows })))
          )
        : Effect.succeed(undefined)
    const textSearch = searchText
      ? Lance.attempt("fullTextSearch", () => {
          // The vector column comes along so that BM25-only candidates get an exact vector score too.
          let q = opened.reader
            .query()
            .fullTextSearch(new MatchQuery(query.text, "text"))
            .select([...columns, "vector", "_score"])
            .limit(pool)
          if (where !== undefined) q = q.where(where)
          return q.toArray()
        })
      : Effect.succeed([] as Array<{ readonly _score: number }>)
    const [vectorResult, textRows] = yield* Effect.all([vectorSearch, textSearch], { concurrency: 2 })
    const queryVector = vectorResult?.vector

    // Every candidate is decoded before ranking: about 10 µs each, against about 0.2 ms per extra column read that
    // ranking on raw columns would need. Decoding also passes over unreadable rows before they can take a place.
    // Both searches may return the same unreadable row: it is reported once.
    const unreadable = new Map<unknown, Rows.Unreadable>()
    const decode = <Row>(rows: ReadonlyArray<Row>) =>
      rows.flatMap((row) => {
        const decoded = Rows.toRecord(row, opened.layout)
        if (Result.isSuccess(decoded)) return [{ record: decoded.success, row }]
        const id = Rows.idOf(row)
        unreadable.set(id ?? (row as { record?: unknown }).record, { id, message: decoded.failure.message })
        return []
      })
    const byVector = decode(vectorResult?.rows ?? [])
    const byText = decode(textRows)
    yield* Rows.reportUnreadable("recall", [...unreadable.values()])

    const similarity = new Map<string, number>()
    for (const { record, row } of byVector) similarity.set(record.id, 1 - row._distance)
    const bm25 = new Map<string, number>()
    for (const { record, row } of byText) {
      bm25.set(record.id, row._score)
      if (queryVector !== undefined && !similarity.has(record.id)) {
        similarity.set(record.id, cosine(queryVector, Rows.vectorOf(row)))
      }
    }
    const matches = Filters.matchesMetadata(filter)
    const seen = new Set<string>()
    const candidates: Array<Fusion.Candidate<MemoryRecord>> = []
    for (const { record } of [...byVector, ...byText]) {
      if (seen.has(record.id) || !matches(record)) continue
      seen.add(record.id)
      candidates.push({
        id: record.id,
        importance: record.importance,
        createdAt: record.createdAt,
        cosine: queryVector === undefined ? undefined : (similarity.get(record.id) ?? 0),
        bm25: searchText ? (bm25.get(record.id) ?? 0) : undefined,
        row: record
      })
    }
    const now = yield* Clock.currentTimeMillis
    return Fusion.fuse(candidates, { weights: w, now, halfLifeMs: tuning.halfLifeMs })
      .slice(0, k)
      .map(({ candidate, scores }) => ({ record: candidate.row, scores }))
  })

const unique = (columns: ReadonlyArray<string>) => [...new Set(columns)]

interface LightRow {
  readonly id: string
  readonly importance?: unknown
  readonly created_at?: unknown
}

// With no search weighted, every memory the filter selects is a candidate: ranked on its importance and creation
// columns, and only the winners' records are read. A metadata filter needs every candidate's record first.
const unsearched = (opened: Opened, query: Query, tuning: Tuning, where: string | undefined) =>
  Effect.gen(function* () {
    const byMetadata = query.filter.metadata !== undefined
    const rows = yield* Lance.attempt("scan", () => {
      let q = opened.reader
        .query()
        .select(unique(["id", "importance", "created_at", ...(byMetadata ? Rows.readColumns(opened.layout) : [])]))
      if (where !== undefined) q = q.where(where)
      return q.toArray()
    })
    const unreadable: Array<Rows.Unreadable> = []
    const known = new Map<string, MemoryRecord>()
    const keep = (rows: ReadonlyArray<unknown>) => {
      const decoded = Rows.toRecords(rows, opened.layout)
      for (const record of decoded.records) known.set(record.id, record)
      unreadable.push(...decoded.unreadable)
    }
    const matches = Filters.matchesMetadata(query.filter)
    if (byMetadata) keep(rows)
    const pool = (rows as Array<LightRow>)
      .filter((row) => !byMetadata || (known.has(row.id) && matches(known.get(row.id)!)))
      .map(
        (row): Fusion.Candidate<LightRow> => ({
          id: row.id,
          importance: numberOr0(row.importance),
          createdAt: numberOr0(row.created_at),
          cosine: undefined,
          bm25: undefined,
          row
        })
      )
    const now = yield* Clock.currentTimeMillis
    const ranked = Fusion.fuse(pool, { weights: query.weights, now, halfLifeMs: tuning.halfLifeMs })
    const results: Array<Recalled> = []
    for (let start = 0; start < ranked.length && results.length < query.k; ) {
      const batch = ranked.slice(start, start + query.k - results.length)
      start += batch.length
      const missing = batch.map((r) => r.candidate.id).filter((id) => !known.has(id))
      if (missing.length > 0) {
        keep(
          yield* Lance.attempt("scan", () =>
            opened.reader
              .query()
              .where(Lance.sqlIn("id", missing))
              .select(unique(["id", ...Rows.readColumns(opened.layout)]))
              .toArray()
          )
        )
      }
      for (const { candidate, scores } of batch) {
        const record = known.get(candidate.id)
        if (record !== undefined) results.push({ record, scores })
      }
    }
    yield* Rows.reportUnreadable("recall", unreadable)
    return results
  })
