/**
 * Thin Effect wrappers over LanceDB's Promise API, shared by Memory and KnowledgeBase.
 */
import * as lancedb from "@lancedb/lancedb"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { MemoryError } from "../MemoryError.ts"

/** Runs one LanceDB call, turning a rejection into a `MemoryError` naming the operation. */
export const attempt = <A>(operation: string, f: () => PromiseLike<A>): Effect.Effect<A, MemoryError> =>
  Effect.tryPromise({
    try: () => Promise.resolve(f()),
    catch: (cause) => new MemoryError({ operation, message: cause instanceof Error ? cause.message : String(cause) })
  })

/** Opens a connection for the life of the current scope. */
export const connect = (directory: string): Effect.Effect<lancedb.Connection, MemoryError, Scope.Scope> =>
  Effect.acquireRelease(
    attempt("connect", () => lancedb.connect(directory)),
    (db) => Effect.sync(() => db.close())
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
