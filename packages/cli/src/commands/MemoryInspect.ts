/**
 * What `troupe memory search|list|forget` does, on the long-term memory of `$TROUPE_HOME/memory` (the store
 * `troupe run` writes, opened with the same local embedder).
 *
 * - `search QUERY [--namespace N] [--k K] [--json]`: hybrid recall, best first, one line per memory with its score.
 * - `list [--namespace N] [--limit L] [--json]`: the memories, oldest first, at most L (default 20), then how many
 *   there are in all.
 * - `forget ID... [--json]`: deletes memories by id; each id not stored is named on stderr and the exit code is 1.
 *
 * A home with no memory yet reads as empty and is not created. Lines show one line of each memory's text, cut at
 * 100 characters; with `--json` the last line is one object holding the whole records. Everything printed is stripped
 * of terminal control sequences, since a memory holds what models and tools wrote. Exit codes: 0, 1 the store failed
 * or an id was not found, 2 bad input (an option out of range, a malformed id).
 */
import { Memory, type MemoryError, MemoryRecord } from "@troupe/memory"
import { LocalEmbedder, TerminalText } from "@troupe/providers"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as TroupeHome from "../TroupeHome.ts"

/** The most memories `list` prints at once. */
export const maxListLimit = 1_000

const print = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))
const printError = (text: string) => Effect.sync(() => void process.stderr.write(`${TerminalText.sanitize(text)}\n`))

const oneLine = (text: string, max = 100): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}

const when = (createdAt: number): string => new Date(createdAt).toISOString().slice(0, 16).replace("T", " ")

/** One line for a memory. */
export const describe = (record: MemoryRecord.MemoryRecord): string =>
  `${record.id}  ${record.namespace}/${record.kind}  ${when(record.createdAt)}  ${oneLine(record.text)}`

type StoreError = MemoryError.OpenError

const isStoreError = (error: unknown): error is StoreError => {
  const tag = (error as { readonly _tag?: unknown } | undefined)?._tag
  return tag === "MemoryError" || tag === "DimensionMismatch" || tag === "SchemaVersionMismatch"
}

const storeFailed = (error: StoreError) => new CliExit({ code: ExitCode.failed, message: `memory: ${error.message}` })

/**
 * Runs `use` on the memory of `$TROUPE_HOME`, or returns `empty` when there is none yet (without creating it).
 */
const withMemory = <A, E>(
  empty: A,
  use: (memory: Memory.Service) => Effect.Effect<A, E | StoreError>
): Effect.Effect<A, Exclude<E, StoreError> | CliExit, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const directory = yield* TroupeHome.memoryDirectory.pipe(
      Effect.mapError((error) => new CliExit({ code: ExitCode.badInput, message: `TROUPE_HOME: ${error.message}` }))
    )
    const fs = yield* FileSystem.FileSystem
    const present = yield* fs.exists(directory).pipe(Effect.orElseSucceed(() => false))
    if (!present) return empty
    const opened = Effect.gen(function* () {
      return yield* use(yield* Memory.Memory)
    })
    return yield* opened.pipe(
      Effect.provide(Memory.layer({ directory }).pipe(Layer.provide(LocalEmbedder.layer()))),
      Effect.scoped,
      Effect.mapError((error) => (isStoreError(error) ? storeFailed(error) : (error as Exclude<E, StoreError>)))
    )
  })

const namespaceFilter = (namespace: string | undefined): MemoryRecord.Filter =>
  namespace === undefined ? {} : { namespace }

/** `troupe memory search`. */
export const search = (input: {
  readonly query: string
  readonly namespace: string | undefined
  readonly k: number | undefined
  readonly json: boolean
}) =>
  Effect.gen(function* () {
    if (input.query.trim() === "") {
      return yield* new CliExit({ code: ExitCode.badInput, message: "troupe memory search needs a query" })
    }
    const found = yield* withMemory([], (memory) =>
      memory.recall(input.query, {
        ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
        ...(input.k === undefined ? {} : { k: input.k })
      })
    ).pipe(
      Effect.catchTag("InvalidRecallOptions", (error) =>
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: error.message.replace(/^k /, "--k ") }))
      )
    )
    if (input.json) return yield* print(JSON.stringify({ results: found }))
    if (found.length === 0) return yield* print("no memories found")
    for (const { record, scores } of found) yield* print(`${scores.total.toFixed(3)}  ${describe(record)}`)
  })

/** `troupe memory list`. */
export const list = (input: {
  readonly namespace: string | undefined
  readonly limit: number
  readonly json: boolean
}) =>
  Effect.gen(function* () {
    if (!Number.isSafeInteger(input.limit) || input.limit < 1 || input.limit > maxListLimit) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: `--limit must be an integer from 1 to ${maxListLimit}, got ${input.limit}`
      })
    }
    const filter = namespaceFilter(input.namespace)
    const { records, total } = yield* withMemory({ records: [], total: 0 }, (memory) =>
      Effect.all({ records: memory.list(filter, input.limit), total: memory.count(filter) })
    )
    if (input.json) return yield* print(JSON.stringify({ memories: records, total }))
    for (const record of records) yield* print(describe(record))
    yield* print(
      total === 0
        ? "no memories"
        : records.length < total
          ? `${records.length} of ${total} memories, oldest first (--limit shows more)`
          : `${total} ${total === 1 ? "memory" : "memories"}`
    )
  })

/** `troupe memory forget`. */
export const forget = (input: { readonly ids: ReadonlyArray<string>; readonly json: boolean }) =>
  Effect.gen(function* () {
    const malformed = input.ids.find((id) => !MemoryRecord.idPattern.test(id))
    if (malformed !== undefined) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: `'${oneLine(malformed, 60)}' is not a memory id (troupe memory list shows them)`
      })
    }
    const ids = [...new Set(input.ids)]
    const forgotten = yield* withMemory<ReadonlyArray<string>, never>([], (memory) =>
      Effect.gen(function* () {
        const present = (yield* memory.list({ ids })).map((r) => r.id)
        if (present.length > 0) yield* memory.forget({ ids: present })
        return present
      })
    )
    const missing = ids.filter((id) => !forgotten.includes(id))
    if (input.json) yield* print(JSON.stringify({ forgotten, missing }))
    else for (const id of forgotten) yield* print(`forgot ${id}`)
    for (const id of missing) yield* printError(`${id}: no such memory`)
    if (missing.length > 0) return yield* new CliExit({ code: ExitCode.failed, message: "" })
  })
