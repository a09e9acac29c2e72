/**
 * The row layout of the memories table and the mapping between its rows and `MemoryRecord`s: the Arrow schema
 * with its version stamp, decoding stored rows, and turning a new memory into a record and the row that stores it.
 *
 * Layout 2 (written since) stores each record twice: as columns, which filters, the FTS index and the vector index
 * use, and whole as JSON in `record`, which reads decode. A search materialises each selected column of each result
 * by a random read, so one column instead of nine halves a hybrid recall at 100,000 rows (8.9 → 4.7 ms for the two
 * searches, measured while building this). Layout 1 tables (every field a column, no `record`) are still read and
 * written.
 */
import * as arrow from "apache-arrow"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { InvalidMemory, MemoryError } from "../MemoryError.ts"
import type { MemoryRecord, NewMemory } from "../MemoryRecord.ts"
import * as Records from "../MemoryRecord.ts"

/** The version of the table layout this module writes when it creates a table. */
export const schemaVersion = "2"

/** A table layout this module reads and writes. */
export type Layout = "1" | "2"

/** The layouts this module reads and writes. */
export const layouts: ReadonlyArray<Layout> = ["1", "2"]

/** The LanceDB table holding memories. */
export const tableName = "memories"

/** The schema metadata key under which the table records its layout version. */
export const versionKey = "troupe.memory.schema_version"

/**
 * The Arrow schema of a new table for vectors of `dimensions`, stamped with `schemaVersion`.
 *
 * Column names are snake case: LanceDB's SQL folds unquoted identifiers to lower case.
 */
export const arrowSchema = (dimensions: number): arrow.Schema =>
  new arrow.Schema(
    [
      new arrow.Field("id", new arrow.Utf8(), false),
      new arrow.Field("agent", new arrow.Utf8(), false),
      new arrow.Field("namespace", new arrow.Utf8(), false),
      new arrow.Field("kind", new arrow.Utf8(), false),
      new arrow.Field("text", new arrow.Utf8(), false),
      new arrow.Field("metadata", new arrow.Utf8(), false),
      new arrow.Field("importance", new arrow.Float64(), false),
      new arrow.Field("created_at", new arrow.Float64(), false),
      new arrow.Field("provenance", new arrow.Utf8(), false),
      new arrow.Field(
        "vector",
        new arrow.FixedSizeList(dimensions, new arrow.Field("item", new arrow.Float32(), true)),
        false
      ),
      new arrow.Field("record", new arrow.Utf8(), false)
    ],
    new Map([[versionKey, schemaVersion]])
  )

/** The embedding dimension a table schema was created with; `undefined` when it has no vector column. */
export const dimensionsOf = (schema: arrow.Schema): number | undefined => {
  const field = schema.fields.find((f) => f.name === "vector")
  // By type id, not instanceof: LanceDB may build the schema with its own copy of apache-arrow.
  return field !== undefined && arrow.DataType.isFixedSizeList(field.type) ? field.type.listSize : undefined
}

/** The columns a layout-1 `MemoryRecord` is decoded from (every column but the vector). */
export const recordColumns = [
  "id",
  "agent",
  "namespace",
  "kind",
  "text",
  "metadata",
  "importance",
  "created_at",
  "provenance"
]

/** The columns a read selects to decode records in a layout. */
export const readColumns = (layout: Layout): Array<string> => (layout === "2" ? ["record"] : [...recordColumns])

const MetadataJson = Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown))
const ProvenanceJson = Schema.fromJsonString(Schema.Array(Schema.String))

// A layout-1 row holds a record under snake-case column names, with metadata and provenance as JSON strings.
const StoredRow = Schema.Struct({
  ...Records.MemoryRecord.fields,
  metadata: MetadataJson,
  provenance: ProvenanceJson
}).pipe(Schema.encodeKeys({ createdAt: "created_at" }))

const decodeColumns = Schema.decodeUnknownResult(StoredRow)
const decodeJson = Schema.decodeUnknownResult(Schema.fromJsonString(Records.MemoryRecord))
const decodeNew = Schema.decodeUnknownEffect(Records.NewMemory)
const encodeMetadata = Schema.encodeUnknownEffect(MetadataJson)
const encodeProvenance = Schema.encodeUnknownEffect(ProvenanceJson)

// Arrow hands rows over as proxies that decode a field on every access; one plain copy of the record columns decodes
// in a third of the time (measured on 10 rows of a 100,000-row table).
const plain = (row: Record<string, unknown>): Record<string, unknown> => {
  const copy: Record<string, unknown> = {}
  for (const column of recordColumns) copy[column] = row[column]
  return copy
}

/**
 * Decodes a stored row of a layout (at least its `readColumns`) into a record; a row that does not decode is a
 * `MemoryError`.
 */
export const toRecord = (row: unknown, layout: Layout): Result.Result<MemoryRecord, MemoryError> => {
  const source = typeof row === "object" && row !== null ? (row as Record<string, unknown>) : {}
  return Result.mapError(
    layout === "2" ? decodeJson(source.record) : decodeColumns(plain(source)),
    (e) => new MemoryError({ operation: "decode", message: e.message })
  )
}

/** A stored row that could not be decoded: its id (when it has a string one) and why. */
export interface Unreadable {
  readonly id: string | undefined
  readonly message: string
}

/** Decodes stored rows, keeping the ones that decode and setting aside the ones that do not. */
export const toRecords = (
  rows: ReadonlyArray<unknown>,
  layout: Layout
): { readonly records: Array<MemoryRecord>; readonly unreadable: Array<Unreadable> } => {
  const records: Array<MemoryRecord> = []
  const unreadable: Array<Unreadable> = []
  for (const row of rows) {
    const decoded = toRecord(row, layout)
    if (Result.isSuccess(decoded)) records.push(decoded.success)
    else unreadable.push({ id: idOf(row), message: decoded.failure.message })
  }
  return { records, unreadable }
}

const decodeId = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Struct({ id: Schema.String })))

/**
 * The id of a row that did not decode: its `id` column, or the id inside its `record` JSON when that parses (reads
 * of layout 2 do not select `id`, which would cost a column read on every result).
 */
export const idOf = (row: unknown): string | undefined => {
  const source = (row ?? {}) as { id?: unknown; record?: unknown }
  if (typeof source.id === "string") return source.id
  return Option.getOrUndefined(Option.map(decodeId(source.record), (r) => r.id))
}

/**
 * Reports stored rows that a read skipped because they do not decode, as one warning naming their ids.
 *
 * Such rows come from outside this module (another version, a hand edit): one of them must not make the whole store
 * unreadable, and it must not pass silently either. `forget({ ids })` removes them.
 */
export const reportUnreadable = (operation: string, unreadable: ReadonlyArray<Unreadable>): Effect.Effect<void> =>
  unreadable.length === 0
    ? Effect.void
    : Effect.logWarning(`memory ${operation}: skipped ${unreadable.length} unreadable stored row(s)`).pipe(
        Effect.annotateLogs({
          operation,
          skipped: unreadable.length,
          ids: unreadable.map((u) => u.id ?? "(no id)").join(","),
          reason: unreadable[0]!.message
        })
      )

/** The vector of a row that selected the `vector` column; empty when it has none. */
export const vectorOf = (row: unknown): ArrayLike<number> => {
  const v = (row as { vector?: unknown }).vector
  if (v instanceof Float32Array || Array.isArray(v)) return v
  // LanceDB hands vectors over as Arrow vectors; `toArray` returns their Float32Array without copying element-wise.
  if (typeof v === "object" && v !== null && "toArray" in v && typeof v.toArray === "function") {
    return v.toArray() as ArrayLike<number>
  }
  return []
}

/** Orders ids as strings, which for generated ids is creation order (see `makeId`). */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Clamps to 0..1; anything not finite becomes 0. */
export const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0)

// Ids sort by creation: time, then a per-process sequence (writes in one millisecond keep their order), then
// random digits so that two processes writing in the same millisecond do not collide.
const makeId = (now: number, sequence: number) =>
  Effect.gen(function* () {
    const a = yield* Random.nextIntBetween(0, 0x7fffffff)
    const b = yield* Random.nextIntBetween(0, 0x7fffffff)
    return `mem_${now.toString(36).padStart(9, "0")}${sequence.toString(36).padStart(6, "0")}${a.toString(36)}${b.toString(36)}`
  })

/** A new memory that passed validation, with its metadata and provenance already encoded for storage. */
export interface Checked {
  readonly memory: NewMemory
  readonly metadata: string
  readonly provenance: string
}

/**
 * Validates a memory given to `remember` (at position `index` of the call) and encodes the parts stored as JSON.
 *
 * Everything a write can refuse is refused here, before any embedding or storage work.
 */
export const check = (input: unknown, index: number): Effect.Effect<Checked, InvalidMemory> =>
  Effect.gen(function* () {
    const invalid = (message: string) => new InvalidMemory({ index, message })
    const memory = yield* decodeNew(input).pipe(Effect.mapError((e) => invalid(e.message)))
    const metadata = yield* encodeMetadata(memory.metadata ?? {}).pipe(
      Effect.mapError((e) => invalid(`metadata is not JSON: ${e.message}`))
    )
    if (metadata.length > Records.maxMetadataLength) {
      return yield* invalid(`metadata is ${metadata.length} characters of JSON, over ${Records.maxMetadataLength}`)
    }
    const provenance = yield* encodeProvenance(memory.provenance ?? []).pipe(Effect.mapError((e) => invalid(e.message)))
    return { memory, metadata, provenance }
  })

/**
 * Stamps a checked memory with an id (its own, if it has one) and the current time, fills in its defaults, and
 * builds the row that stores it with its embedding.
 *
 * `sequence` is the process's write counter: it keeps ids of writes within one millisecond in write order.
 */
export const prepare = (
  checked: Checked,
  vector: ReadonlyArray<number>,
  sequence: Ref.Ref<number>,
  layout: Layout
): Effect.Effect<{ readonly record: MemoryRecord; readonly row: Record<string, unknown> }> =>
  Effect.gen(function* () {
    const { memory } = checked
    const createdAt = yield* Clock.currentTimeMillis
    const id = memory.id ?? (yield* makeId(createdAt, yield* Ref.getAndUpdate(sequence, (n) => n + 1)))
    const record: MemoryRecord = {
      id,
      agent: memory.agent,
      namespace: memory.namespace ?? Records.agentNamespace(memory.agent),
      kind: memory.kind,
      text: memory.text,
      metadata: { ...memory.metadata },
      importance: memory.importance ?? 0.5,
      createdAt,
      provenance: [...(memory.provenance ?? [])]
    }
    const row = {
      id,
      agent: record.agent,
      namespace: record.namespace,
      kind: record.kind,
      text: record.text,
      metadata: checked.metadata,
      importance: record.importance,
      created_at: createdAt,
      provenance: checked.provenance,
      vector: Array.from(vector),
      // `check` encoded the metadata, the one part that could fail to stringify.
      ...(layout === "2" ? { record: JSON.stringify(record) } : {})
    }
    return { record, row }
  })
