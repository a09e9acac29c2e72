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

/**
 * Why a filter's `where` cannot be combined with the other conditions, or `undefined` when it can. The predicate
 * is joined to the namespace, agent and kind conditions as `(...) AND (where)`, so it must stay inside its own
 * parentheses: a `where` of `true) OR (true` would otherwise widen a namespace-confined query to every namespace.
 * Parentheses must balance outside string literals and quoted names, never closing more than they opened, and
 * comments (which could hide a parenthesis from this check but not from SQL) and `;` are refused.
 */
export const whereProblem = (filter: Filter): string | undefined => {
  const where = filter.where
  if (where === undefined) return undefined
  let depth = 0
  let quote: string | undefined
  for (let i = 0; i < where.length; i++) {
    const c = where[i]!
    if (quote !== undefined) {
      // A doubled quote is the quote character itself, inside the literal.
      if (c === quote && where[i + 1] === quote) i++
      else if (c === quote) quote = undefined
      continue
    }
    if (c === "'" || c === '"' || c === "`") quote = c
    else if (c === "(") depth++
    else if (c === ")" && --depth < 0) return "where closes a parenthesis it did not open"
    else if (c === ";") return "where may not hold ';'"
    else if ((c === "-" && where[i + 1] === "-") || (c === "/" && where[i + 1] === "*"))
      return "where may not hold a comment"
  }
  if (quote !== undefined) return "where has an unterminated quote"
  if (depth !== 0) return "where leaves a parenthesis open"
  return undefined
}

/** Whether a record has every `metadata` entry of the filter (true when the filter has none). */
export const matchesMetadata =
  (filter: Filter) =>
  (record: MemoryRecord): boolean =>
    filter.metadata === undefined || Object.entries(filter.metadata).every(([k, v]) => record.metadata[k] === v)

/** Whether a filter selects everything, which `forget` refuses to take literally. */
export const isEmpty = (filter: Filter): boolean => toSql(filter) === undefined && filter.metadata === undefined
