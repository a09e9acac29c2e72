/**
 * The indexes of the memories table: the FTS index on `text`, the IVF vector index once the table passes a size
 * threshold (retrained as it grows), and the pass that folds new rows into both and compacts fragments. When a pass
 * runs is `upkeep.ts`'s business.
 */
import type * as lancedb from "@lancedb/lancedb"
import { Index } from "@lancedb/lancedb"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { MemoryError } from "../MemoryError.ts"
import * as Lance from "./lance.ts"

/** The kind of vector index on disk, which decides how a vector search is tuned. */
export type VectorIndexKind = "none" | "IvfFlat" | "IvfPq" | "other"

/** How indexes are built; defaults are resolved by the caller. */
export interface Settings {
  /** Row count from which the vector index is built. */
  readonly indexThreshold: number
  /** The ANN index to build; IVF_FLAT unless `ivf_pq`. */
  readonly vectorIndex: "ivf_flat" | "ivf_pq" | undefined
}

/** The index state of one open table and the operations that keep it current. */
export interface Indexes {
  /** The kind of the vector index on disk, as last seen. */
  readonly vectorIndex: Effect.Effect<VectorIndexKind>
  /** Rows the vector index was trained on; 0 without one. */
  readonly rowsAtBuild: Effect.Effect<number>
  /** Reads the index state of a table opened from disk, and repairs a missing FTS index. */
  readonly restore: (table: lancedb.Table) => Effect.Effect<void, MemoryError>
  /** One upkeep pass: compacts, builds or retrains the vector index when due, and refreshes every index. */
  readonly optimize: (table: lancedb.Table, dimensions: number) => Effect.Effect<void, MemoryError>
}

// A native call cannot be cancelled: interrupting the fiber waiting for it would leave it running against a table
// that is about to be closed. Upkeep steps finish, and an interruption takes effect between them.
const step = <A>(operation: string, f: () => PromiseLike<A>) => Effect.uninterruptible(Lance.attempt(operation, f))

const hasTextIndex = (indices: ReadonlyArray<lancedb.IndexConfig>) => indices.some((i) => i.columns.includes("text"))

/** Builds the FTS index on `text` unless the table has one (another process may have built it first). */
export const ensureFtsIndex = (table: lancedb.Table): Effect.Effect<void, MemoryError> =>
  // Lost to another process building the same index (or compacting): the next try finds that index, or builds it.
  Lance.retryingConflicts(
    table,
    Effect.gen(function* () {
      if (hasTextIndex(yield* Lance.attempt("listIndices", () => table.listIndices()))) return
      yield* step("createFtsIndex", () =>
        table.createIndex("text", {
          config: Index.fts({ withPosition: false, stem: true, removeStopWords: true, asciiFolding: true }),
          replace: true
        })
      )
    })
  )

const kindOf = (indices: ReadonlyArray<lancedb.IndexConfig>): VectorIndexKind => {
  const index = indices.find((i) => i.columns.includes("vector"))
  if (index === undefined) return "none"
  return index.indexType === "IvfFlat" || index.indexType === "IvfPq" ? index.indexType : "other"
}

/** The index state of a table, starting as for a table without indexes. */
export const make = (settings: Settings): Effect.Effect<Indexes> =>
  Effect.gen(function* () {
    // The kind of the vector index on disk, which decides whether queries refine PQ distances.
    const vectorIndex = yield* Ref.make<VectorIndexKind>("none")
    // Rows the vector index was trained on: its partition count was sized for them.
    const rowsAtBuild = yield* Ref.make(0)

    // Another process sharing the directory may have built or replaced the index since this one last looked. The
    // rows it covers are read only when it is new to this process: refreshing an index folds new rows into it, so
    // its row count is not the count it was trained on.
    const refresh = (table: lancedb.Table, readRows: boolean) =>
      Effect.gen(function* () {
        const indices = yield* Lance.attempt("listIndices", () => table.listIndices())
        const kind = kindOf(indices)
        const known = yield* Ref.getAndSet(vectorIndex, kind)
        const vectorIndexName = indices.find((i) => i.columns.includes("vector"))?.name
        if (vectorIndexName === undefined) return yield* Ref.set(rowsAtBuild, 0)
        if (!readRows && known === kind) return
        const stats = yield* Lance.attempt("indexStats", () => table.indexStats(vectorIndexName))
        yield* Ref.set(rowsAtBuild, stats?.numIndexedRows ?? 0)
      })

    const restore = (table: lancedb.Table) =>
      Effect.gen(function* () {
        yield* refresh(table, true)
        // Table creation and its FTS index are two commits: a crash between them leaves a table to repair here.
        yield* ensureFtsIndex(table)
      })

    const buildVectorIndex = (table: lancedb.Table, dimensions: number, rows: number) => {
      const numPartitions = Math.min(1024, Math.max(8, Math.round(Math.sqrt(rows))))
      // PQ needs the dimension to split evenly into sub-vectors of 8 dimensions.
      const config =
        settings.vectorIndex === "ivf_pq" && dimensions % 8 === 0
          ? Index.ivfPq({ numPartitions, numSubVectors: dimensions / 8, distanceType: "cosine" })
          : Index.ivfFlat({ numPartitions, distanceType: "cosine" })
      return Effect.gen(function* () {
        yield* step("createVectorIndex", () => table.createIndex("vector", { config, replace: true }))
        const indices = yield* Lance.attempt("listIndices", () => table.listIndices())
        yield* Ref.set(vectorIndex, kindOf(indices))
        yield* Ref.set(rowsAtBuild, rows)
      })
    }

    const optimize = (table: lancedb.Table, dimensions: number) =>
      Effect.gen(function* () {
        // A pass works on the latest version: one that starts from a version another process has moved past loses
        // its commit, and so would every retry.
        yield* Lance.attempt("checkoutLatest", () => table.checkoutLatest())
        yield* refresh(table, false)
        // Compaction first: an index built before compacting is remapped afterwards; at 100,000 rows that measured
        // 3× slower to search (and, for IVF_PQ, recall@10 0.83 instead of 0.99) than an index built after it.
        yield* step("optimize", () => table.optimize())
        const rows = yield* Lance.attempt("countRows", () => table.countRows())
        const built = yield* Ref.get(rowsAtBuild)
        // Retrain when the table has quadrupled: partitions sized for fewer rows grow too large to probe quickly.
        if (
          ((yield* Ref.get(vectorIndex)) === "none" && rows >= settings.indexThreshold) ||
          (built > 0 && rows >= 4 * built)
        ) {
          yield* buildVectorIndex(table, dimensions, rows)
        }
      })

    return { vectorIndex: Ref.get(vectorIndex), rowsAtBuild: Ref.get(rowsAtBuild), restore, optimize }
  })
