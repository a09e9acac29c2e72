/**
 * The team's memory store as each agent sees it: its own namespace and the `team` namespace, plus any namespace
 * the team grants it; nothing else.
 *
 * One `Memory` store is shared by the whole team; every agent gets a view of it. Reads (`recall`, `list`, `count`,
 * `exportJsonl`) are narrowed to the readable namespaces whatever the caller asks for (asking only for others'
 * yields nothing); writes (`remember`, `forget`, `consolidate`) reach only the agent's own namespace and the team's,
 * and anything else fails with `MemoryError` before touching the store. So an agent reads another agent's
 * namespace only through a grant of the team.
 *
 * A raw SQL `where` predicate is refused through a view: the store joins predicates as text, so one with unbalanced
 * parentheses (`true) OR (true`) could widen the namespace condition. Recalled and listed records are checked
 * against the readable namespaces once more on the way out.
 *
 * @example
 * ```ts
 * import { TeamMemory } from "@troupe/orchestrator"
 *
 * // The reviewer may read what the backend agent remembered; the backend agent may not read the reviewer's.
 * const reviewer = TeamMemory.view(memory, { agent: "reviewer", own: "reviewer", grants: ["backend"] })
 * ```
 */
import { type Memory, MemoryError, MemoryRecord } from "@troupe/memory"
import * as Effect from "effect/Effect"

/** Who sees the store through a view. */
export interface Access {
  /** The agent's name. */
  readonly agent: string
  /** Its own namespace (its spec's `memory.namespace`, else its name). */
  readonly own: string
  /** The shared namespace (default `team`). */
  readonly team?: string | undefined
  /** Further namespaces it may read: the team's grants to it. */
  readonly grants?: ReadonlyArray<string> | undefined
}

const asList = (namespace: string | ReadonlyArray<string> | undefined): ReadonlyArray<string> | undefined =>
  namespace === undefined ? undefined : typeof namespace === "string" ? [namespace] : namespace

// Only namespaces both asked for and allowed; all allowed ones when nothing was asked.
const narrow = (
  asked: string | ReadonlyArray<string> | undefined,
  allowed: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const list = asList(asked)
  return list === undefined ? allowed : list.filter((n) => allowed.includes(n))
}

const refused = (operation: string, namespace: string, agent: string) =>
  new MemoryError.MemoryError({
    operation,
    message: `namespace ${JSON.stringify(namespace.slice(0, 64))} is neither agent ${agent}'s own nor the team's`
  })

/** The store as one agent of the team sees it. */
export const view = (memory: Memory.Service, access: Access): Memory.Service => {
  const team = access.team ?? MemoryRecord.teamNamespace
  const writable = [...new Set([access.own, team])]
  const readable = [...new Set([...writable, ...(access.grants ?? [])])]
  const checkWrite = (operation: string, namespace: string) =>
    writable.includes(namespace) ? Effect.void : Effect.fail(refused(operation, namespace, access.agent))
  const namespaceOf = (m: MemoryRecord.NewMemory) => m.namespace ?? MemoryRecord.agentNamespace(m.agent)
  const noWhere = (operation: string, filter: MemoryRecord.Filter | undefined) =>
    filter?.where === undefined
      ? Effect.void
      : Effect.fail(
          new MemoryError.MemoryError({ operation, message: "raw where predicates are not available in a team's view" })
        )
  const visible = (namespace: string) => readable.includes(namespace)
  // `undefined` when nothing readable is selected: the read returns nothing without asking the store.
  const readFilter = (filter: MemoryRecord.Filter | undefined): MemoryRecord.Filter | undefined => {
    const namespaces = narrow(filter?.namespace, readable)
    return namespaces.length === 0 ? undefined : { ...filter, namespace: namespaces }
  }
  return {
    remember: (m) => Effect.andThen(checkWrite("remember", namespaceOf(m)), memory.remember(m)),
    rememberMany: (ms) =>
      Effect.andThen(
        Effect.forEach(ms, (m) => checkWrite("remember", namespaceOf(m)), { discard: true }),
        memory.rememberMany(ms)
      ),
    recall: (query, options) => {
      const namespaces = narrow(options?.namespace ?? options?.filter?.namespace, readable)
      if (namespaces.length === 0) return Effect.andThen(noWhere("recall", options?.filter), Effect.succeed([]))
      return Effect.andThen(
        noWhere("recall", options?.filter),
        memory.recall(query, {
          ...options,
          namespace: namespaces,
          ...(options?.filter === undefined ? {} : { filter: { ...options.filter, namespace: namespaces } })
        })
      ).pipe(Effect.map((hits) => hits.filter((hit) => visible(hit.record.namespace))))
    },
    list: (filter, limit) => {
      const narrowed = readFilter(filter)
      return Effect.andThen(
        noWhere("list", filter),
        narrowed === undefined ? Effect.succeed([]) : memory.list(narrowed, limit)
      ).pipe(Effect.map((records) => records.filter((record) => visible(record.namespace))))
    },
    count: (filter) => {
      const narrowed = readFilter(filter)
      return Effect.andThen(
        noWhere("count", filter),
        narrowed === undefined ? Effect.succeed(0) : memory.count(narrowed)
      )
    },
    forget: (filter) => {
      const namespaces = narrow(filter.namespace, writable)
      return Effect.andThen(
        noWhere("forget", filter),
        namespaces.length === 0 ? Effect.succeed(0) : memory.forget({ ...filter, namespace: namespaces })
      )
    },
    consolidate: (options) => Effect.andThen(checkWrite("consolidate", options.namespace), memory.consolidate(options)),
    exportJsonl: (path, filter) => {
      const narrowed = readFilter(filter)
      return Effect.andThen(
        noWhere("exportJsonl", filter),
        narrowed === undefined ? Effect.succeed(0) : memory.exportJsonl(path, narrowed)
      )
    },
    optimize: memory.optimize,
    status: memory.status
  }
}
