/**
 * Committing new rows to the memories table so that a write is never lost and never stored twice, also when another
 * process writes to the same directory.
 *
 * A commit that loses a race with another writer fails with a commit conflict; it is retried with a bounded jittered
 * backoff (`Lance.conflictRetry`). Before each retry the rows already stored are looked up by id and left out, since
 * a failed call does not prove that nothing landed: a retry never duplicates a row. Rows whose id the caller chose
 * are inserted with `mergeInsert` on `id`, so that even two processes writing the same id store it once.
 */
import type * as lancedb from "@lancedb/lancedb"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { MemoryError } from "../MemoryError.ts"
import type { MemoryRecord } from "../MemoryRecord.ts"
import * as Lance from "./lance.ts"
import * as Rows from "./rows.ts"
import * as Table from "./table.ts"

/** A row to store, with its id. */
export interface Row {
  readonly id: string
  readonly [column: string]: unknown
}

/**
 * Stores rows in one commit (one per retry). With `byId`, rows whose id is already stored are skipped by the
 * storage itself (insert-if-absent); otherwise ids are assumed fresh and appended.
 */
export const commit = (
  table: lancedb.Table,
  rows: ReadonlyArray<Row>,
  options: { readonly byId: boolean }
): Effect.Effect<void, MemoryError> =>
  Effect.gen(function* () {
    if (rows.length === 0) return
    const attempted = yield* Ref.make(false)
    const once = Effect.gen(function* () {
      let pending = rows
      if (yield* Ref.getAndSet(attempted, true)) {
        const present = yield* Table.presentIds(
          table,
          rows.map((r) => r.id)
        )
        pending = rows.filter((r) => !present.has(r.id))
        if (pending.length === 0) return
      }
      const data = pending.map((r) => ({ ...r }))
      if (options.byId) {
        yield* Lance.attempt("add", () => table.mergeInsert("id").whenNotMatchedInsertAll().execute(data))
      } else {
        yield* Lance.attempt("add", () => table.add(data))
      }
    })
    yield* Lance.retryingConflicts(table, once)
  })

/**
 * Stores checked memories with their embeddings in one commit and returns their records, in input order, and how
 * many rows were written.
 *
 * A memory whose id the caller chose and which is already stored (or chosen twice in the call) is not written
 * again: its stored record is returned.
 *
 * Gotcha: run it under the store's write lock; the ids it finds stored are only current under it.
 */
export const store = (
  opened: Table.Opened,
  checked: ReadonlyArray<Rows.Checked>,
  vectors: ReadonlyArray<ReadonlyArray<number>>,
  sequence: Ref.Ref<number>
): Effect.Effect<{ readonly records: Array<MemoryRecord>; readonly written: number }, MemoryError> =>
  Effect.gen(function* () {
    const chosen = checked.flatMap((c) => (c.memory.id === undefined ? [] : [c.memory.id]))
    const known = new Map<string, MemoryRecord>()
    // Looked up through the writing handle, which has every commit of this process (the reader may lag).
    if (chosen.length > 0) {
      for (const r of yield* Table.list({ ...opened, reader: opened.table }, { ids: chosen }, undefined)) {
        known.set(r.id, r)
      }
    }
    const fresh: Array<Row> = []
    const records: Array<MemoryRecord> = []
    for (let i = 0; i < checked.length; i++) {
      const id = checked[i]!.memory.id
      const stored = id === undefined ? undefined : known.get(id)
      if (stored !== undefined) {
        records.push(stored)
        continue
      }
      const { record, row } = yield* Rows.prepare(checked[i]!, vectors[i]!, sequence, opened.layout)
      known.set(record.id, record)
      fresh.push(row as Row)
      records.push(record)
    }
    yield* commit(opened.table, fresh, { byId: chosen.length > 0 })
    return { records, written: fresh.length }
  })
