/**
 * The memories table's life: opening it from disk (checking its schema version and embedding dimension),
 * creating it on the first write once the dimension is known, and reading records from it.
 */
import type * as lancedb from "@lancedb/lancedb"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import { DimensionMismatch, MemoryError, type OpenError, type SchemaVersionMismatch } from "../MemoryError.ts"
import type { Filter, MemoryRecord } from "../MemoryRecord.ts"
import * as Filters from "./filter.ts"
import type * as Indexing from "./indexing.ts"
import * as Lance from "./lance.ts"
import * as Rows from "./rows.ts"

/**
 * The table once it exists, with the embedding dimension of its vector column and its layout.
 *
 * Two handles on it: writes (appends, deletes, upkeep) go through `table`, reads through `reader`. Bringing a
 * handle to the latest version races with a commit on that same handle (the handle can end on the version before the
 * commit), so only the reader is ever refreshed; it is refreshed after this process's own writes too.
 */
export interface Opened {
  readonly table: lancedb.Table
  readonly reader: lancedb.Table
  readonly dimensions: number
  readonly layout: Rows.Layout
}

/** The table of a storage directory, which does not exist until the first write. */
export interface Handle {
  /** The table, or `undefined` before the first write. */
  readonly current: Effect.Effect<Opened | undefined>
  /**
   * The table for a read: its reader brought up to date after this process's writes at once, and with other
   * processes' writes (opening the table, if another process created it) once `refreshMs` has passed since it last
   * was.
   */
  readonly forRead: Effect.Effect<Opened | undefined, MemoryError>
  /**
   * The table for vectors of `dimensions`, created (with its FTS index) if it does not exist yet.
   *
   * Gotcha: run it under the write lock, or two first writes race to create the table.
   */
  readonly forWrite: (dimensions: number) => Effect.Effect<Opened, MemoryError | DimensionMismatch>
  /** Marks that this process committed to the table, so that the next read refreshes. Call it after each commit. */
  readonly written: Effect.Effect<void>
}

/** Succeeds when a vector length matches the table's dimension. */
export const checkDimensions = (expected: number, actual: number): Effect.Effect<void, DimensionMismatch> =>
  expected === actual ? Effect.void : Effect.fail(new DimensionMismatch({ table: Rows.tableName, expected, actual }))

/**
 * Opens the memories table of a connection if it exists, for the life of the current scope, and restores its
 * index state into `indexes`.
 *
 * Fails when the table was written by another schema version, or when `declaredDimensions` (the embedding model's)
 * differs from the table's: either would make every later write or search fail or mislead.
 */
export const open = (
  db: lancedb.Connection,
  declaredDimensions: Option.Option<number>,
  indexes: Indexing.Indexes,
  refreshMs: number
): Effect.Effect<Handle, OpenError, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const state = yield* Ref.make<Opened | undefined>(undefined)
    const refreshedAt = yield* Ref.make(Number.NEGATIVE_INFINITY)
    const stale = yield* Ref.make(false)

    const adopt = (table: lancedb.Table, dimensions: number, layout: Rows.Layout) =>
      Effect.gen(function* () {
        yield* indexes.restore(table)
        const reader = yield* Lance.openIfExists(db, Rows.tableName).pipe(Scope.provide(scope))
        const opened: Opened = { table, reader: reader ?? table, dimensions, layout }
        yield* Ref.set(state, opened)
        return opened
      })

    const openExisting = (table: lancedb.Table): Effect.Effect<Opened, OpenError> =>
      Effect.gen(function* () {
        const { dimensions, layout } = yield* checkLayout(table)
        if (Option.isSome(declaredDimensions) && declaredDimensions.value !== dimensions) {
          return yield* new DimensionMismatch({
            table: Rows.tableName,
            expected: dimensions,
            actual: declaredDimensions.value
          })
        }
        return yield* adopt(table, dimensions, layout)
      })

    const existing = yield* Lance.openIfExists(db, Rows.tableName)
    if (existing !== undefined) yield* openExisting(existing)

    // A connection given LanceDB's own `readConsistencyInterval` pays about 2 ms more on every write (measured on
    // single-row appends): refreshing the reader before reads costs about 0.1 ms per refresh.
    const forRead = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      // Cleared before the refresh: a commit that lands during it marks the reader stale again.
      const own = yield* Ref.getAndSet(stale, false)
      if (!own && now - (yield* Ref.get(refreshedAt)) < refreshMs) return yield* Ref.get(state)
      yield* Ref.set(refreshedAt, now)
      const current = yield* Ref.get(state)
      if (current !== undefined) {
        yield* Lance.attempt("checkoutLatest", () => current.reader.checkoutLatest())
        return current
      }
      const created = yield* Lance.openIfExists(db, Rows.tableName).pipe(Scope.provide(scope))
      if (created === undefined) return undefined
      return yield* openExisting(created).pipe(
        Effect.catchTags({
          SchemaVersionMismatch: (e) => Effect.fail(new MemoryError({ operation: "open", message: e.message })),
          DimensionMismatch: (e) => Effect.fail(new MemoryError({ operation: "open", message: e.message }))
        })
      )
    })

    const forWrite = (dimensions: number): Effect.Effect<Opened, MemoryError | DimensionMismatch> =>
      Effect.gen(function* () {
        const current = yield* Ref.get(state)
        if (current !== undefined) {
          yield* checkDimensions(current.dimensions, dimensions)
          return current
        }
        // Another process sharing the directory may have created the table since this one opened: then this opens
        // that table, which must have the same layout.
        const table = yield* Lance.createOrOpen(db, Rows.tableName, Rows.arrowSchema(dimensions)).pipe(
          Scope.provide(scope)
        )
        const found = yield* checkLayout(table).pipe(
          Effect.catchTag("SchemaVersionMismatch", (e) =>
            Effect.fail(new MemoryError({ operation: "createTable", message: e.message }))
          )
        )
        yield* checkDimensions(found.dimensions, dimensions)
        return yield* adopt(table, found.dimensions, found.layout)
      })

    return { current: Ref.get(state), forRead, forWrite, written: Ref.set(stale, true) }
  })

// The table's layout and embedding dimension, or why it cannot be used.
const checkLayout = (
  table: lancedb.Table
): Effect.Effect<{ readonly dimensions: number; readonly layout: Rows.Layout }, MemoryError | SchemaVersionMismatch> =>
  Effect.gen(function* () {
    const { schema, version } = yield* Lance.versionedSchema(table, Rows.tableName, Rows.versionKey, Rows.layouts)
    const dimensions = Rows.dimensionsOf(schema)
    if (dimensions === undefined) {
      return yield* new MemoryError({ operation: "open", message: `table ${Rows.tableName} has no vector column` })
    }
    return { dimensions, layout: version }
  })

/** Row count, indexes and version of the table. */
export const describe = (
  opened: Opened
): Effect.Effect<
  {
    readonly rows: number
    readonly dimensions: number
    readonly vectorIndexed: boolean
    readonly indices: ReadonlyArray<string>
    readonly version: number
  },
  MemoryError
> =>
  Effect.gen(function* () {
    const rows = yield* Lance.attempt("countRows", () => opened.reader.countRows())
    const indices = yield* Lance.attempt("listIndices", () => opened.reader.listIndices())
    const version = yield* Lance.attempt("version", () => opened.reader.version())
    return {
      rows,
      dimensions: opened.dimensions,
      vectorIndexed: indices.some((i) => i.columns.includes("vector")),
      indices: indices.map((i) => i.name),
      version
    }
  })

/** The ids among `ids` that are stored. */
export const presentIds = (table: lancedb.Table, ids: ReadonlyArray<string>): Effect.Effect<Set<string>, MemoryError> =>
  Effect.gen(function* () {
    if (ids.length === 0) return new Set<string>()
    const rows = yield* Lance.attempt("findIds", () =>
      table.query().where(Lance.sqlIn("id", ids)).select(["id"]).toArray()
    )
    return new Set(rows.map((r: { id: string }) => r.id))
  })

/**
 * The records matching a filter, oldest first (ties by id), at most `limit`.
 *
 * The limit goes to LanceDB only without a `metadata` filter: that part is applied after the query. Stored rows that
 * do not decode are skipped and reported (`Rows.reportUnreadable`).
 */
export const list = (
  opened: Opened,
  filter: Filter,
  limit: number | undefined
): Effect.Effect<Array<MemoryRecord>, MemoryError> =>
  Effect.gen(function* () {
    // LanceDB panics on a limit that is not a non-negative integer instead of rejecting it.
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
      return yield* new MemoryError({
        operation: "list",
        message: `limit must be a non-negative integer, got ${limit}`
      })
    }
    const where = Filters.toSql(filter)
    // `id` comes along so that a row that does not decode can be named in the report (and forgotten by id).
    let query = opened.reader.query().select([...new Set(["id", ...Rows.readColumns(opened.layout)])])
    if (where !== undefined) query = query.where(where)
    if (limit !== undefined && filter.metadata === undefined) query = query.limit(limit)
    const rows = yield* Lance.attempt("list", () => query.toArray())
    const { records, unreadable } = Rows.toRecords(rows, opened.layout)
    yield* Rows.reportUnreadable("list", unreadable)
    const matching = records.filter(Filters.matchesMetadata(filter))
    matching.sort((a, b) => a.createdAt - b.createdAt || Rows.compareIds(a.id, b.id))
    return limit === undefined ? matching : matching.slice(0, limit)
  })
