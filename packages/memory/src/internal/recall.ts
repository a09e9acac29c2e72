/**
 * Hybrid recall over the memories table: fetches candidates by vector search and BM25 full-text search under the
 * same filter, gathers their raw signals, ranks them with `fusion.ts`, and decodes the winners.
 */
import { MatchQuery } from "@lancedb/lancedb"
import { LocalEmbedder } from "@troupe/providers"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { RecallOptions, Weights } from "../Memory.ts"
import type { MemoryError } from "../MemoryError.ts"
import type { Filter, MemoryRecord, Recalled } from "../MemoryRecord.ts"
import * as Filters from "./filter.ts"
import * as Fusion from "./fusion.ts"
import type * as Indexing from "./indexing.ts"
import * as Lance from "./lance.ts"
import * as Rows from "./rows.ts"
import type { Opened } from "./table.ts"

/** One query, its weights resolved. */
export interface Query {
  readonly text: string
  /** The query's embedding; `undefined` when the vector weight is zero, which skips the vector search. */
  readonly vector: ReadonlyArray<number> | undefined
  readonly weights: Weights
  readonly options: RecallOptions
}

/** How the searches are run and the recency decay scored, from the layer's options and the index on disk. */
export interface Tuning {
  readonly vectorIndex: Indexing.VectorIndexKind
  readonly nprobes: number
  readonly refineFactor: number
  readonly halfLifeMs: number
}

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

/**
 * The k best memories for a query with their component scores, best first.
 *
 * Gotcha: the query vector's dimension must already be checked against the table's.
 */
export const run = (opened: Opened, query: Query, tuning: Tuning): Effect.Effect<Array<Recalled>, MemoryError> =>
  Effect.gen(function* () {
    const { options, vector: queryVector, weights: w } = query
    const k = Math.max(1, Math.floor(options.k ?? 10))
    const filter: Filter = {
      ...options.filter,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.kinds === undefined ? {} : { kinds: options.kinds })
    }
    const where = Filters.toSql(filter)
    // The vector search is cheap per candidate only without refinement; each refined candidate costs a random read,
    // so it fetches about k. BM25 candidates are cheap and rescue exact terms the vector ranks low.
    const widen = filter.metadata === undefined ? 1 : 4
    const vectorPool = Math.max(1, options.candidates ?? Math.max(k, 10)) * widen
    const textPool = Math.max(1, options.candidates ?? Math.max(2 * k, 20)) * widen

    const vectorSearch =
      queryVector === undefined
        ? Effect.succeed([] as Array<unknown>)
        : Lance.attempt("vectorSearch", () => {
            let q = opened.table
              .vectorSearch(Float32Array.from(queryVector))
              .distanceType("cosine")
              .select([...Rows.recordColumns, "_distance"])
              .limit(vectorPool)
            if (options.exact === true) q = q.bypassVectorIndex()
            else if (tuning.vectorIndex === "IvfPq") q = q.nprobes(tuning.nprobes).refineFactor(tuning.refineFactor)
            else if (tuning.vectorIndex !== "none") q = q.nprobes(tuning.nprobes)
            if (where !== undefined) q = q.where(where)
            return q.toArray()
          })
    const textSearch =
      w.bm25 > 0 && LocalEmbedder.tokenize(query.text).length > 0
        ? Lance.attempt("fullTextSearch", () => {
            // The vector column comes along so that BM25-only candidates get an exact vector score too.
            let q = opened.table
              .query()
              .fullTextSearch(new MatchQuery(query.text, "text"))
              .select([...Rows.recordColumns, "vector", "_score"])
              .limit(textPool)
            if (where !== undefined) q = q.where(where)
            return q.toArray()
          })
        : Effect.succeed([] as Array<unknown>)
    const [vectorRows, textRows] = yield* Effect.all([vectorSearch, textSearch], { concurrency: 2 })

    const similarity = new Map<string, number>()
    for (const row of vectorRows as Array<{ id: string; _distance: number }>) {
      similarity.set(row.id, 1 - row._distance)
    }
    const bm25 = new Map<string, number>()
    for (const row of textRows as Array<{ id: string; _score: number }>) {
      bm25.set(row.id, row._score)
      if (queryVector !== undefined && !similarity.has(row.id)) {
        similarity.set(row.id, cosine(queryVector, Rows.vectorOf(row)))
      }
    }
    // Rows are ranked on their raw columns and only the winners are decoded: decoding is most of the JS-side cost.
    // A metadata filter needs every candidate decoded; those records are kept so no winner is decoded twice.
    const matches = filter.metadata === undefined ? undefined : Filters.matchesMetadata(filter)
    const seen = new Set<string>()
    const pool: Array<Fusion.Candidate<Effect.Effect<MemoryRecord, MemoryError>>> = []
    for (const row of [...vectorRows, ...textRows] as Array<{
      id: string
      importance?: unknown
      created_at?: unknown
    }>) {
      if (seen.has(row.id)) continue
      seen.add(row.id)
      let record = Effect.suspend(() => Rows.toRecord(row))
      if (matches !== undefined) {
        const decoded = yield* record
        if (!matches(decoded)) continue
        record = Effect.succeed(decoded)
      }
      pool.push({
        id: row.id,
        importance: typeof row.importance === "number" ? row.importance : 0,
        createdAt: typeof row.created_at === "number" ? row.created_at : 0,
        cosine: queryVector === undefined ? undefined : (similarity.get(row.id) ?? 0),
        bm25: textRows.length === 0 ? undefined : (bm25.get(row.id) ?? 0),
        row: record
      })
    }
    const now = yield* Clock.currentTimeMillis
    const ranked = Fusion.fuse(pool, { weights: w, now, halfLifeMs: tuning.halfLifeMs })
    return yield* Effect.forEach(
      ranked.slice(0, k),
      ({ candidate, scores }): Effect.Effect<Recalled, MemoryError> =>
        Effect.map(candidate.row, (record) => ({ record, scores }))
    )
  })
