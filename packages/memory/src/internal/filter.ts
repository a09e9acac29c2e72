/**
 * How a `Filter` applies to the memories table: the part LanceDB evaluates as a SQL predicate, and the `metadata`
 * part, which is checked on decoded records because metadata is stored as one JSON string.
 */
import type { Filter, MemoryRecord } from "../MemoryRecord.ts"
import * as Lance from "./lance.ts"

const finite = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x)

/** The LanceDB SQL predicate of a filter, without its `metadata` part; `undefined` when it selects everything. */
export const toSql = (filter: Filter): string | undefined => {
  const namespaces = filter.namespace === undefined ? undefined : [filter.namespace].flat()
  return Lance.sqlAnd([
    filter.ids === undefined ? undefined : Lance.sqlIn("id", filter.ids),
    filter.agent === undefined ? undefined : `agent = ${Lance.sqlString(filter.agent)}`,
    namespaces === undefined ? undefined : Lance.sqlIn("namespace", namespaces),
    filter.kinds === undefined ? undefined : Lance.sqlIn("kind", filter.kinds),
    finite(filter.createdAfter) ? `created_at > ${filter.createdAfter}` : undefined,
    finite(filter.createdBefore) ? `created_at < ${filter.createdBefore}` : undefined,
    finite(filter.minImportance) ? `importance >= ${filter.minImportance}` : undefined,
    filter.where
  ])
}

/** Whether a record has every `metadata` entry of the filter (true when the filter has none). */
export const matchesMetadata =
  (filter: Filter) =>
  (record: MemoryRecord): boolean =>
    filter.metadata === undefined || Object.entries(filter.metadata).every(([k, v]) => record.metadata[k] === v)

/** Whether a filter selects everything, which `forget` refuses to take literally. */
export const isEmpty = (filter: Filter): boolean => toSql(filter) === undefined && filter.metadata === undefined
