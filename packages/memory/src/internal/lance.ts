/**
 * Thin Effect wrappers over LanceDB's Promise API, and the storage directory, shared by Memory and KnowledgeBase.
 */
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import * as lancedb from "@lancedb/lancedb"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { MemoryError, SchemaVersionMismatch } from "../MemoryError.ts"

/** Runs one LanceDB call, turning a rejection into a `MemoryError` naming the operation. */
export const attempt = <A>(operation: string, f: () => PromiseLike<A>): Effect.Effect<A, MemoryError> =>
  Effect.tryPromise({
    try: () => Promise.resolve(f()),
    catch: (cause) => new MemoryError({ operation, message: cause instanceof Error ? cause.message : String(cause) })
  })

/**
 * Whether a failure is a commit that lost a race with another writer's commit (in this process or another one).
 *
 * LanceDB reports these only in the message ("Retryable commit conflict ... Please retry"); the losing commit wrote
 * nothing, so the operation can be run again once the caller has checked what the winner changed.
 */
export const isCommitConflict = (error: { readonly _tag: string; readonly message: string }): boolean =>
  error._tag === "MemoryError" && /commit conflict/i.test(error.message)

/**
 * How a commit that lost a race is retried: jittered exponential backoff from 20 ms, at most 6 times (about 1.3 s
 * in all), so that two processes that keep colliding drift apart instead of colliding again in step.
 */
export const conflictRetry = {
  schedule: Schedule.exponential("20 millis").pipe(Schedule.jittered),
  times: 6,
  while: isCommitConflict
} as const

/**
 * Runs a write against a table, retrying it under `conflictRetry` when its commit loses a race; before each retry
 * the handle is brought to the table's latest version, since a handle left on the version the lost commit started
 * from would lose again.
 */
export const retryingConflicts = <A, E extends { readonly _tag: string; readonly message: string }, R>(
  table: lancedb.Table,
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | MemoryError, R> =>
  Effect.suspend(() => {
    let attempts = 0
    return Effect.suspend(() =>
      attempts++ === 0
        ? self
        : Effect.andThen(
            attempt("checkoutLatest", () => table.checkoutLatest()),
            self
          )
    ).pipe(Effect.retry(conflictRetry))
  })

// Closing a handle while a call on it is still running (an interrupted query whose native work goes on) throws
// "cannot be borrowed mutably": that handle is left to the garbage collector instead of failing the scope.
const closeQuietly = (what: string, close: () => void) =>
  Effect.try({ try: close, catch: (cause) => cause }).pipe(
    Effect.catch((cause) => Effect.logDebug(`LanceDB ${what} left open: ${String(cause)}`))
  )

/** The storage directory `$TROUPE_HOME/memory` (`TROUPE_HOME` defaults to `.troupe`). */
export const directoryConfig: Config.Config<string> = Config.String("TROUPE_HOME").pipe(
  Config.withDefault(".troupe"),
  Config.map((home) => join(home, "memory"))
)

/** Opens a connection (creating the directory if needed) for the life of the current scope. */
export const connect = (directory: string): Effect.Effect<lancedb.Connection, MemoryError, Scope.Scope> =>
  attempt("mkdir", () => mkdir(directory, { recursive: true })).pipe(
    Effect.andThen(
      Effect.acquireRelease(
        attempt("connect", () => lancedb.connect(directory)),
        (db) => closeQuietly("connection", () => db.close())
      )
    )
  )

// Another process creating the same table is seen for a moment as a directory with no version in it: opening it
// then fails with "not found" although the table is about to exist. That race is retried like a commit conflict.
const isBeingCreated = (error: MemoryError): boolean => /was not found/i.test(error.message)

const acquireTable = (open: () => PromiseLike<lancedb.Table>, operation: string) =>
  Effect.acquireRelease(attempt(operation, open).pipe(Effect.retry({ ...conflictRetry, while: isBeingCreated })), (t) =>
    closeQuietly("table", () => t.close())
  )

/** Opens a table if it exists, for the life of the current scope. */
export const openIfExists = (
  db: lancedb.Connection,
  name: string
): Effect.Effect<lancedb.Table | undefined, MemoryError, Scope.Scope> =>
  Effect.gen(function* () {
    const names = yield* attempt("tableNames", () => db.tableNames())
    if (!names.includes(name)) return undefined
    return yield* acquireTable(() => db.openTable(name), "openTable")
  })

/**
 * Creates an empty table, or opens it when another process created it first, for the life of the current scope.
 *
 * Gotcha: an opened table may have another layout; check it (`versionedSchema`) before use.
 */
export const createOrOpen = (
  db: lancedb.Connection,
  name: string,
  schema: Parameters<lancedb.Connection["createEmptyTable"]>[1]
): Effect.Effect<lancedb.Table, MemoryError, Scope.Scope> =>
  acquireTable(() => db.createEmptyTable(name, schema, { mode: "create", existOk: true }), "createTable")

/**
 * A table's schema and layout version, once its metadata shows one of the layout `versions` under `key`; a
 * `SchemaVersionMismatch` otherwise.
 */
export const versionedSchema = <const Version extends string>(
  table: lancedb.Table,
  name: string,
  key: string,
  versions: ReadonlyArray<Version>
): Effect.Effect<
  { readonly schema: Awaited<ReturnType<lancedb.Table["schema"]>>; readonly version: Version },
  MemoryError | SchemaVersionMismatch
> =>
  Effect.gen(function* () {
    const schema = yield* attempt("schema", () => table.schema())
    const found = schema.metadata.get(key) ?? "none"
    const version = versions.find((v) => v === found)
    if (version === undefined) {
      return yield* new SchemaVersionMismatch({ table: name, expected: versions.join(" or "), found })
    }
    return { schema, version }
  })

/** Quotes a string as a SQL literal for LanceDB filters. */
export const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`

/** `column IN ('a', 'b')`, or a predicate that is always false for an empty list. */
export const sqlIn = (column: string, values: ReadonlyArray<string>): string =>
  values.length === 0 ? "false" : `${column} IN (${values.map(sqlString).join(", ")})`

/** Joins predicates with AND; `undefined` when there are none. */
export const sqlAnd = (predicates: ReadonlyArray<string | undefined>): string | undefined => {
  const present = predicates.filter((p): p is string => p !== undefined && p.length > 0)
  return present.length === 0 ? undefined : present.map((p) => `(${p})`).join(" AND ")
}
