/**
 * Long-term memory on LanceDB: agents remember what they learned and recall what is relevant to the task at hand.
 *
 * Recall is hybrid: candidates come from a vector search (cosine, the configured `EmbeddingModel`) and a full-text
 * BM25 search (LanceDB's FTS index) under the same filter, and are ranked by a weighted sum of vector similarity
 * and BM25 (each min-max normalised over the candidates), recency decay and importance. Each result carries its
 * component scores, so a caller can see why a memory ranked where it did.
 *
 * Storage is one LanceDB table in a directory (default `$TROUPE_HOME/memory`). The table records its layout version
 * and, through its vector column, its embedding dimension; opening a layout this module does not know or writing
 * vectors of another length fails with a typed error. Layout 2 keeps each record whole in one JSON column beside the
 * columns that filters and indexes use, so that a search reads one column per result instead of nine (half the
 * recall latency at 100,000 rows); tables of layout 1 are still read and written, at the old speed. Every memory is validated before it is embedded
 * (`MemoryRecord.NewMemory`: kind, importance in 0..1, bounded text and metadata) and a bad one fails the call with
 * `InvalidMemory`; a stored row that does not decode is skipped by reads and reported in a warning, never making the
 * rest unreadable. Each acknowledged write is one LanceDB commit, so a process killed mid-stream leaves a readable
 * table holding every acknowledged write.
 *
 * Several processes may share one directory (one `TROUPE_HOME`). Writers are not locked out of each other: LanceDB
 * commits are optimistic, appends from two processes merge, and a commit that loses a race (a delete against another
 * process's compaction, say) is retried with a bounded jittered backoff after checking, by record id, what already
 * landed, so that no retry stores a row twice. A caller-chosen `id` makes a write idempotent across processes too.
 * Reads see other processes' writes within `refreshInterval`. Within a process writes are serialised by a semaphore.
 *
 * Index upkeep runs in a background fiber owned by the layer's scope: an IVF vector index once the table passes a size
 * threshold, and every `optimizeEvery` written rows a pass that compacts fragments and folds new rows into the vector
 * and FTS indexes. A `remember` never waits for it, and recall stays exact for rows no index covers yet (LanceDB
 * searches them by brute force). A failed pass is logged, counted in `status`, and retried after the next write.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { Memory } from "@troupe/memory"
 *
 * const program = Effect.gen(function*() {
 *   const memory = yield* Memory.Memory
 *   yield* memory.remember({ agent: "backend", kind: "lesson", text: "Run migrations before the API tests" })
 *   return yield* memory.recall("why did the API tests fail?", { namespace: ["backend", "team"], k: 5 })
 * }).pipe(Effect.provide(Memory.layerLocal({ directory: ".troupe/memory" })))
 * ```
 */
import { LocalEmbedder } from "@troupe/providers"
import type * as AiError from "effect/ai/AiError"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Semaphore from "effect/Semaphore"
import * as Consolidation from "./internal/consolidate.ts"
import * as Filters from "./internal/filter.ts"
import * as Indexing from "./internal/indexing.ts"
import * as Jsonl from "./internal/jsonl.ts"
import * as Lance from "./internal/lance.ts"
import * as Recall from "./internal/recall.ts"
import * as Rows from "./internal/rows.ts"
import * as Table from "./internal/table.ts"
import * as Upkeep from "./internal/upkeep.ts"
import * as Write from "./internal/write.ts"
import {
  type DimensionMismatch,
  type InvalidMemory,
  type InvalidRecallOptions,
  MemoryError,
  type OpenError
} from "./MemoryError.ts"
import type { Filter, Kind, MemoryRecord, NewMemory, Recalled } from "./MemoryRecord.ts"

/** The version of the table layout this module creates (it reads and writes layout "1" too). */
export const schemaVersion: typeof Rows.schemaVersion = Rows.schemaVersion

/** The LanceDB table holding memories. */
export const tableName: typeof Rows.tableName = Rows.tableName

/**
 * How many memories a recall returns when `k` is not given: here, in `MemoryTools`' `memory_recall`, and in an
 * agent spec's `memory.k`.
 */
export const defaultRecallK = 8

/** The largest `k` (and `candidates`) a recall accepts. */
export const maxRecallK = 1_000

/** Weights of the recall score's components; they are normalised to sum to 1. A zero weight skips that search. */
export interface Weights {
  readonly vector: number
  readonly bm25: number
  readonly recency: number
  readonly importance: number
}

/**
 * Vector similarity leads; BM25 rescues exact names and rare terms; recency and importance break near-ties.
 *
 * The 9:1 vector:BM25 ratio measured best on the labelled set of `pnpm bench memory` with the local embedder; with a
 * semantic embedding model or identifier-heavy memories, revisit it.
 */
export const defaultWeights: Weights = { vector: 0.72, bm25: 0.08, recency: 0.1, importance: 0.1 }

/** Options of the Memory layer; every field but `directory` has a default. */
export interface Options {
  /** Storage directory (default `$TROUPE_HOME/memory` with `layerConfig`, required with `layer`). */
  readonly directory: string
  /** Row count from which the vector index is built (default 10,000; below it exact search is fast enough). */
  readonly indexThreshold?: number
  /**
   * The ANN index (default `ivf_flat`). Measured by `pnpm bench memory` (`--pq`) at 100,000 local-embedder
   * vectors on 2 cores: IVF_FLAT builds in about 4.5 s and a vector-only recall takes about 3 ms at recall@10
   * 0.994–0.998; IVF_PQ (48 sub-vectors, `refineFactor` 10) built in about 38 s and searched in about 8 ms at
   * recall@10 0.987 (measured on layout 1). PQ keeps 32× smaller codes in the index: choose it when the table
   * outgrows memory.
   */
  readonly vectorIndex?: "ivf_flat" | "ivf_pq"
  /** Rows written between background upkeep passes (index refresh and fragment compaction; default 1,000). */
  readonly optimizeEvery?: number
  /** Default recall weights. */
  readonly weights?: Partial<Weights>
  /** Age at which the recency component halves (default 7 days). */
  readonly recencyHalfLife?: Duration.Input
  /** IVF partitions probed per query once indexed (default 20). */
  readonly nprobes?: number
  /** With IVF_PQ: candidates re-ranked with exact distances per result (default 10; without it recall collapses). */
  readonly refineFactor?: number
  /**
   * How stale a read may be with respect to writes by other processes sharing the directory (default 1 second;
   * 0 looks for a newer table version before every read, about 0.1 ms each). A process always reads its own writes.
   */
  readonly refreshInterval?: Duration.Input
}

/** Options of one recall. */
export interface RecallOptions {
  /** Number of results: an integer from 1 to `maxRecallK` (default `defaultRecallK`). */
  readonly k?: number
  /** Namespace or namespaces to search (default: all). */
  readonly namespace?: string | ReadonlyArray<string>
  /** Kinds to search (default: all). */
  readonly kinds?: ReadonlyArray<Kind>
  /**
   * Further narrowing; `namespace` and `kinds` above take precedence over the filter's.
   *
   * Gotcha: `metadata` conditions are checked after the storage query, on four times the candidates, so a
   * very selective metadata condition can return fewer than `k` records; prefer `where` (SQL on the stored
   * columns) when that matters.
   */
  readonly filter?: Filter
  /**
   * Overrides of the layer's weights for this query (finite, not negative). With both search weights at zero, the
   * memories the filter selects are ranked on recency and importance alone, the query ignored (a scan).
   */
  readonly weights?: Partial<Weights>
  /** Candidates fetched from each search (default max(k, 10); four times as many with a `metadata` filter). */
  readonly candidates?: number
  /** Exact vector search, bypassing the ANN index (slower; for checking the index or tiny filtered sets). */
  readonly exact?: boolean
}

/** Options of `consolidate`. */
export interface ConsolidateOptions {
  /** The namespace whose episodes are summarised. */
  readonly namespace: string
  /** Only episodes older than this are summarised. */
  readonly olderThan: Duration.Input
  /** Episodes per lesson (default 20). */
  readonly batchSize?: number
  /** Keep the episodes after summarising them (default false: they are replaced by the lesson). */
  readonly keepOriginals?: boolean
  /** The agent recorded on the lessons (default: the agent of each batch's first episode). */
  readonly agent?: string
}

/** What the background index upkeep has done since the storage was opened. */
export interface UpkeepStatus {
  /** Rows written since the last completed pass. */
  readonly pendingRows: number
  /** Whether a pass is running now. */
  readonly running: boolean
  /** Passes completed, background and explicit. */
  readonly runs: number
  /** Passes that failed; each was logged as a warning. */
  readonly failures: number
  /** The message of the last failure, until a pass succeeds. */
  readonly lastError: string | undefined
}

/** The state of the storage. */
export interface Status {
  readonly rows: number
  readonly dimensions: number | undefined
  readonly vectorIndexed: boolean
  /** Rows the vector index was last trained on (after reopening: the rows it covered); 0 without an index. */
  readonly vectorIndexRows: number
  readonly indices: ReadonlyArray<string>
  readonly version: number
  readonly upkeep: UpkeepStatus
}

/** The Memory service. */
export interface Service {
  /** Validates, embeds and stores one memory; returns it once durably committed. */
  readonly remember: (memory: NewMemory) => Effect.Effect<MemoryRecord, MemoryError | DimensionMismatch | InvalidMemory>
  /**
   * Validates, embeds and stores many memories in one commit (one embedding batch, one LanceDB append). One invalid
   * memory fails the call before anything is written.
   */
  readonly rememberMany: (
    memories: ReadonlyArray<NewMemory>
  ) => Effect.Effect<ReadonlyArray<MemoryRecord>, MemoryError | DimensionMismatch | InvalidMemory>
  /** Hybrid retrieval: the k best memories for a query, each with its component scores. */
  readonly recall: (
    query: string,
    options?: RecallOptions
  ) => Effect.Effect<ReadonlyArray<Recalled>, MemoryError | DimensionMismatch | InvalidRecallOptions>
  /** Memories matching a filter, oldest first; at most `limit` (a non-negative integer) when given. */
  readonly list: (filter?: Filter, limit?: number) => Effect.Effect<ReadonlyArray<MemoryRecord>, MemoryError>
  /**
   * Number of stored rows matching a filter.
   *
   * Gotcha: without a `metadata` condition this counts rows in storage, including any that do not decode (which
   * `list` skips and reports).
   */
  readonly count: (filter?: Filter) => Effect.Effect<number, MemoryError>
  /**
   * Deletes the memories matching a filter (by id: `{ ids: [...] }`) and returns how many matched.
   *
   * Gotcha: an empty filter deletes nothing; say `{ where: "true" }` to delete everything. A delete waits for a
   * running upkeep pass.
   */
  readonly forget: (filter: Filter) => Effect.Effect<number, MemoryError>
  /**
   * Summarises old episodes of a namespace into lessons with the `LanguageModel`; each lesson's `provenance` holds
   * the ids of the episodes it replaces. Returns the lessons written.
   *
   * Crash-safe: episodes already named in the provenance of a lesson of the namespace are not summarised again
   * (with `keepOriginals: false` they are deleted, finishing a run that stopped between writing a lesson and deleting
   * its episodes), and a lesson's id is derived from its episodes' ids, so that it is never stored twice.
   */
  readonly consolidate: (
    options: ConsolidateOptions
  ) => Effect.Effect<
    ReadonlyArray<MemoryRecord>,
    MemoryError | DimensionMismatch | InvalidMemory | AiError.AiError,
    LanguageModel.LanguageModel
  >
  /** Writes the memories matching a filter to a JSONL file (one record per line, without vectors). */
  readonly exportJsonl: (path: string, filter?: Filter) => Effect.Effect<number, MemoryError>
  /**
   * Runs an upkeep pass now, after any running one: builds the vector index if the table is large enough, then
   * compacts fragments and refreshes indexes.
   */
  readonly optimize: Effect.Effect<Status, MemoryError>
  /** Row count, dimension, indexes and upkeep. */
  readonly status: Effect.Effect<Status, MemoryError>
}

/** The Memory service: long-term memory of agents. */
export class Memory extends Context.Service<Memory, Service>()("@troupe/memory/Memory") {}

/** The LanceDB SQL predicate of a filter, without its `metadata` part; `undefined` when it selects everything. */
export const toSql: (filter: Filter) => string | undefined = Filters.toSql

/**
 * Opens (or prepares to create) the memory table in a directory and builds the service over the `EmbeddingModel`
 * in context. The connection, and the background upkeep, end with the scope.
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const embedder = yield* EmbeddingModel.EmbeddingModel
  const declaredDimensions = yield* Effect.serviceOption(EmbeddingModel.Dimensions)
  const baseWeights: Weights = { ...defaultWeights, ...options.weights }
  const tuning = {
    nprobes: options.nprobes ?? 20,
    refineFactor: options.refineFactor ?? 10,
    halfLifeMs: Duration.toMillis(options.recencyHalfLife ?? "7 days")
  }

  const db = yield* Lance.connect(options.directory)
  const indexes = yield* Indexing.make({
    indexThreshold: Math.max(256, options.indexThreshold ?? 10_000),
    vectorIndex: options.vectorIndex
  })
  const store = yield* Table.open(
    db,
    declaredDimensions,
    indexes,
    Duration.toMillis(options.refreshInterval ?? "1 second")
  )
  const upkeep = yield* Upkeep.start({
    optimizeEvery: Math.max(1, options.optimizeEvery ?? 1_000),
    pass: Effect.gen(function* () {
      const opened = yield* store.current
      if (opened !== undefined) {
        yield* indexes.optimize(opened.table, opened.dimensions).pipe(Effect.ensuring(store.written))
      }
    })
  })
  const writeLock = yield* Semaphore.make(1)
  const sequence = yield* Ref.make(0)

  const embedFailed = (e: AiError.AiError) => new MemoryError({ operation: "embed", message: e.message })

  // `embedMany` even for one text: `embed` goes through effect/ai's request batching, which waits a turn of the
  // event loop for company.
  const embedAll = (texts: ReadonlyArray<string>) =>
    embedder.embedMany(texts).pipe(
      Effect.map((r) => r.embeddings.map((e) => e.vector)),
      Effect.mapError(embedFailed)
    )

  const rememberMany = Effect.fn("Memory.rememberMany")(function* (memories: ReadonlyArray<NewMemory>) {
    if (memories.length === 0) return []
    const checked = yield* Effect.forEach(memories, (m, i) => Rows.check(m, i))
    // Embedding happens outside the lock: it may be a network call, and it does not touch the table.
    const vectors = yield* embedAll(checked.map((c) => c.memory.text))
    const dimensions = vectors[0]!.length
    for (const v of vectors) yield* Table.checkDimensions(dimensions, v.length)
    return yield* writeLock.withPermit(
      Effect.gen(function* () {
        const opened = yield* store.forWrite(dimensions)
        // Marked even after a failure: a commit can land and still report an error.
        const { records, written } = yield* Write.store(opened, checked, vectors, sequence).pipe(
          Effect.ensuring(store.written)
        )
        yield* upkeep.notify(written)
        return records
      })
    )
  })

  const remember = Effect.fn("Memory.remember")(function* (memory: NewMemory) {
    const records = yield* rememberMany([memory])
    return records[0]!
  })

  // A `where` that could escape its parentheses is refused before any query (see `Filters.whereProblem`).
  const checked = (filter: Filter): Effect.Effect<void, MemoryError> => {
    const problem = Filters.whereProblem(filter)
    return problem === undefined ? Effect.void : Effect.fail(new MemoryError({ operation: "filter", message: problem }))
  }

  const list = Effect.fn("Memory.list")(function* (filter: Filter = {}, limit?: number) {
    yield* checked(filter)
    const opened = yield* store.forRead
    if (opened === undefined) return []
    return yield* Table.list(opened, filter, limit)
  })

  const count = Effect.fn("Memory.count")(function* (filter: Filter = {}) {
    yield* checked(filter)
    if (filter.metadata !== undefined) return (yield* list(filter)).length
    const opened = yield* store.forRead
    if (opened === undefined) return 0
    const where = Filters.toSql(filter)
    return yield* Lance.attempt("countRows", () => opened.reader.countRows(where))
  })

  const forget = Effect.fn("Memory.forget")(function* (filter: Filter) {
    yield* checked(filter)
    if (Filters.isEmpty(filter)) return 0
    return yield* writeLock.withPermit(
      upkeep.exclusive(
        Effect.gen(function* () {
          const opened = yield* store.forRead
          if (opened === undefined) return 0
          // The metadata part is not SQL: the matching rows are found first and deleted by id.
          const where =
            filter.metadata === undefined
              ? Filters.toSql(filter)!
              : Lance.sqlIn(
                  "id",
                  (yield* list(filter)).map((r) => r.id)
                )
          const before = yield* Lance.attempt("countRows", () => opened.table.countRows(where))
          if (before === 0) return 0
          // A delete is idempotent: retried after a lost commit race, it deletes what is still there.
          yield* Lance.retryingConflicts(
            opened.table,
            Lance.attempt("delete", () => opened.table.delete(where))
          ).pipe(Effect.ensuring(store.written))
          return before
        })
      )
    )
  })

  const recall = Effect.fn("Memory.recall")(function* (query: string, options: RecallOptions = {}) {
    const resolved = yield* Recall.resolve(options, baseWeights, { defaultK: defaultRecallK, maxK: maxRecallK })
    const opened = yield* store.forRead
    if (opened === undefined) return []
    const embed = Effect.gen(function* () {
      const vector = (yield* embedAll([query]))[0]!
      yield* Table.checkDimensions(opened.dimensions, vector.length)
      return vector
    })
    const vectorIndex = yield* indexes.vectorIndex
    return yield* Recall.run(
      opened,
      { ...resolved, text: query, embed, exact: options.exact === true },
      { ...tuning, vectorIndex }
    )
  })

  const consolidate = Effect.fn("Memory.consolidate")(function* (options: ConsolidateOptions) {
    return yield* Consolidation.consolidate({ list, remember, forget }, options)
  })

  const exportJsonl = Effect.fn("Memory.exportJsonl")(function* (path: string, filter: Filter = {}) {
    return yield* Jsonl.write(path, yield* list(filter))
  })

  const status: Effect.Effect<Status, MemoryError> = Effect.gen(function* () {
    // Upkeep first: a pass it reports as done has committed, and the storage read below comes after it.
    const upkeepState = yield* upkeep.state
    const vectorIndexRows = yield* indexes.rowsAtBuild
    const opened = yield* store.forRead
    const storage =
      opened === undefined
        ? { rows: 0, dimensions: undefined, vectorIndexed: false, indices: [], version: 0 }
        : yield* Table.describe(opened)
    return { ...storage, vectorIndexRows, upkeep: upkeepState }
  })

  const optimize = Effect.andThen(upkeep.runNow, status)

  return Memory.of({ remember, rememberMany, recall, list, count, forget, consolidate, exportJsonl, optimize, status })
})

/** The Memory over the `EmbeddingModel` in context, stored in `options.directory`. */
export const layer = (options: Options): Layer.Layer<Memory, OpenError, EmbeddingModel.EmbeddingModel> =>
  Layer.effect(Memory, make(options))

/** The Memory with the offline local embedder (384 dimensions): no network, no model download. */
export const layerLocal = (options: Options): Layer.Layer<Memory, OpenError> =>
  layer(options).pipe(Layer.provide(LocalEmbedder.layer()))

/** The directory `$TROUPE_HOME/memory` (`TROUPE_HOME` defaults to `.troupe`). */
export const directoryConfig: Config.Config<string> = Lance.directoryConfig

/** The Memory in `$TROUPE_HOME/memory` over the `EmbeddingModel` in context. */
export const layerConfig = (
  options: Omit<Options, "directory"> = {}
): Layer.Layer<Memory, OpenError | Config.ConfigError, EmbeddingModel.EmbeddingModel> =>
  Layer.effect(
    Memory,
    Effect.gen(function* () {
      const directory = yield* directoryConfig
      return yield* make({ ...options, directory })
    })
  )

/** A Memory with the local embedder in a directory the caller owns (typically a temp directory in a test). */
export const layerTest = (
  directory: string,
  options: Omit<Options, "directory"> = {}
): Layer.Layer<Memory, OpenError> => layerLocal({ ...options, directory })
