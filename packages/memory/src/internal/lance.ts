/**
 * Thin Effect wrappers over LanceDB's Promise API, and the storage directory, shared by Memory and KnowledgeBase.
 */
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import * as lancedb from "@lancedb/lancedb"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { MemoryError, SchemaVersionMismatch } from "../MemoryError.ts"

/** Runs one LanceDB call, turning a rejection into a `MemoryError` naming the operation. */
export const attempt = <A>(operation: string, f: () => PromiseLike<A>): Effect.Effect<A, MemoryError> =>
  Effect.tryPromise({
    try: () => Promise.resolve(f()),
    catch: (cause) => new MemoryError({ operation, message: cause instanceof Error ? cause.message : String(cause) })
  })

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
        (db) => Effect.sync(() => db.close())
      )
    )
  )

/** Opens a table if it exists, for the life of the current scope. */
export const openIfExists = (
  db: lancedb.Connection,
  name: string
): Effect.Effect<lancedb.Table | undefined, MemoryError, Scope.Scope> =>
  Effect.gen(function* () {
    const names = yield* attempt("tableNames", () => db.tableNames())
    if (!names.includes(name)) return undefined
    return yield* Effect.acquireRelease(
      attempt("openTable", () => db.openTable(name)),
      (t) => Effect.sync(() => t.close())
    )
  })

/** Creates an empty table (failing if it exists) for the life of the current scope. */
export const createTable = (
  db: lancedb.Connection,
  name: string,
  schema: Parameters<lancedb.Connection["createEmptyTable"]>[1]
): Effect.Effect<lancedb.Table, MemoryError, Scope.Scope> =>
  Effect.acquireRelease(
    attempt("createTable", () => db.createEmptyTable(name, schema, { mode: "create", existOk: false })),
    (t) => Effect.sync(() => t.close())
  )

/** A table's schema, once its metadata shows the layout `version` under `key`; a `SchemaVersionMismatch` otherwise. */
export const versionedSchema = (
  table: lancedb.Table,
  name: string,
  key: string,
  version: string
): Effect.Effect<Awaited<ReturnType<lancedb.Table["schema"]>>, MemoryError | SchemaVersionMismatch> =>
  Effect.gen(function* () {
    const schema = yield* attempt("schema", () => table.schema())
    const found = schema.metadata.get(key) ?? "none"
    if (found !== version) return yield* new SchemaVersionMismatch({ table: name, expected: version, found })
    return schema
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
