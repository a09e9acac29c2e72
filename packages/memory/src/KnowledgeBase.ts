/**
 * A structured knowledge base of facts `(subject, predicate, object)` with source, confidence and a validity
 * interval, kept with its history.
 *
 * Asserting a fact whose subject and predicate match a current fact with a different object supersedes it: the old
 * fact gets `validTo` and stays queryable as history, so the base answers both "what is true now" and "what did we
 * believe at time t". Subjects, predicates and objects match case- and whitespace-insensitively.
 *
 * Storage: a second LanceDB table (`knowledge`) in the memory directory, not a separate database. Facts need no
 * vectors, but LanceDB gives what matters here — atomic versioned commits (the same crash safety as memory), SQL
 * filters for patterns, and `mergeInsert`, which closes the superseded facts and inserts the new one in a single
 * commit, so no reader or crash ever sees two current objects for one subject and predicate. It keeps one storage
 * engine and one directory to back up, with no extra dependency.
 *
 * Two processes may share the directory: an assertion or retraction whose commit loses a race with the other
 * process's is run again from its read, so it sees the winner's facts (the same fact is then found current, not
 * recorded twice).
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { KnowledgeBase } from "@troupe/memory"
 *
 * const program = Effect.gen(function*() {
 *   const kb = yield* KnowledgeBase.KnowledgeBase
 *   yield* kb.assert({ subject: "api", predicate: "deployed_version", object: "1.4.2", source: "ci" })
 *   return KnowledgeBase.render(yield* kb.query({ subject: "api" }))
 * }).pipe(Effect.provide(KnowledgeBase.layer({ directory: ".troupe/memory" })))
 * ```
 */
import * as arrow from "apache-arrow"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import * as Lance from "./internal/lance.ts"
import { MemoryError, type SchemaVersionMismatch } from "./MemoryError.ts"

/** The version of the table layout this module reads and writes. */
export const schemaVersion = "1"

/** The LanceDB table holding facts. */
export const tableName = "knowledge"

const versionKey = "troupe.knowledge.schema_version"

/** A fact. Times are epoch milliseconds; `validTo` is `null` while the fact is current. */
export const Fact = Schema.Struct({
  id: Schema.String,
  subject: Schema.String,
  predicate: Schema.String,
  object: Schema.String,
  source: Schema.String,
  confidence: Schema.Finite,
  validFrom: Schema.Finite,
  validTo: Schema.NullOr(Schema.Finite),
  recordedAt: Schema.Finite
})

/** A fact. */
export type Fact = typeof Fact.Type

/** A fact to assert. `confidence` defaults to 1, `source` to `""`, `validFrom` to now. */
export interface NewFact {
  readonly subject: string
  readonly predicate: string
  readonly object: string
  readonly source?: string
  readonly confidence?: number
  readonly validFrom?: number
  /**
   * Whether the predicate holds one object at a time (default true): a different object supersedes the current
   * one. Set false for many-valued predicates such as `depends_on`.
   */
  readonly exclusive?: boolean
}

/** The outcome of an assertion. */
export interface Asserted {
  /** The current fact: the new one, or the existing one when the same fact was already current. */
  readonly fact: Fact
  /** Whether a new fact was recorded. */
  readonly created: boolean
  /** The facts this one closed, with their new `validTo`. */
  readonly superseded: ReadonlyArray<Fact>
}

/** A query pattern: any of subject/predicate/object; current facts, facts valid at `asOf`, or the whole history. */
export interface Pattern {
  readonly subject?: string
  readonly predicate?: string
  readonly object?: string
  /** Facts valid at this time (epoch ms) instead of now. */
  readonly asOf?: number
  /** Every version, current and superseded (ignores `asOf`). */
  readonly history?: boolean
  readonly limit?: number
}

/** The KnowledgeBase service. */
export interface Service {
  /** Records a fact, superseding a contradicting current fact (same subject and predicate, other object). */
  readonly assert: (fact: NewFact) => Effect.Effect<Asserted, MemoryError>
  /** Ends the current facts matching a pattern (they stay in the history); returns how many were closed. */
  readonly retract: (pattern: Omit<Pattern, "asOf" | "history">) => Effect.Effect<number, MemoryError>
  /** Facts matching a pattern, ordered by subject, predicate and validity start. */
  readonly query: (pattern?: Pattern) => Effect.Effect<ReadonlyArray<Fact>, MemoryError>
}

/** The KnowledgeBase service: structured facts with history. */
export class KnowledgeBase extends Context.Service<KnowledgeBase, Service>()("@troupe/memory/KnowledgeBase") {}

/** The matching key of a term: trimmed, lower-cased, inner whitespace collapsed. */
export const normalize = (term: string): string => term.trim().toLowerCase().replace(/\s+/g, " ")

const arrowSchema = () =>
  new arrow.Schema(
    [
      new arrow.Field("id", new arrow.Utf8(), false),
      new arrow.Field("subject", new arrow.Utf8(), false),
      new arrow.Field("predicate", new arrow.Utf8(), false),
      new arrow.Field("object", new arrow.Utf8(), false),
      new arrow.Field("subject_key", new arrow.Utf8(), false),
      new arrow.Field("predicate_key", new arrow.Utf8(), false),
      new arrow.Field("object_key", new arrow.Utf8(), false),
      new arrow.Field("source", new arrow.Utf8(), false),
      new arrow.Field("confidence", new arrow.Float64(), false),
      new arrow.Field("valid_from", new arrow.Float64(), false),
      new arrow.Field("valid_to", new arrow.Float64(), true),
      new arrow.Field("recorded_at", new arrow.Float64(), false)
    ],
    new Map([[versionKey, schemaVersion]])
  )

// A stored row holds a fact under snake-case column names (plus the match keys, which decoding drops).
const decodeStored = Schema.decodeUnknownEffect(
  Fact.pipe(Schema.encodeKeys({ validFrom: "valid_from", validTo: "valid_to", recordedAt: "recorded_at" }))
)

const toFact = (row: unknown): Effect.Effect<Fact, MemoryError> =>
  decodeStored(row).pipe(Effect.mapError((e) => new MemoryError({ operation: "decodeFact", message: e.message })))

const toRow = (fact: Fact) => ({
  id: fact.id,
  subject: fact.subject,
  predicate: fact.predicate,
  object: fact.object,
  subject_key: normalize(fact.subject),
  predicate_key: normalize(fact.predicate),
  object_key: normalize(fact.object),
  source: fact.source,
  confidence: fact.confidence,
  valid_from: fact.validFrom,
  valid_to: fact.validTo,
  recorded_at: fact.recordedAt
})

const patternSql = (pattern: Pattern): string | undefined =>
  Lance.sqlAnd([
    pattern.subject === undefined ? undefined : `subject_key = ${Lance.sqlString(normalize(pattern.subject))}`,
    pattern.predicate === undefined ? undefined : `predicate_key = ${Lance.sqlString(normalize(pattern.predicate))}`,
    pattern.object === undefined ? undefined : `object_key = ${Lance.sqlString(normalize(pattern.object))}`,
    pattern.history === true
      ? undefined
      : pattern.asOf !== undefined && Number.isFinite(pattern.asOf)
        ? `valid_from <= ${pattern.asOf} AND (valid_to IS NULL OR valid_to > ${pattern.asOf})`
        : "valid_to IS NULL"
  ])

const byKey = (a: Fact, b: Fact) =>
  normalize(a.subject).localeCompare(normalize(b.subject)) ||
  normalize(a.predicate).localeCompare(normalize(b.predicate)) ||
  a.validFrom - b.validFrom ||
  a.recordedAt - b.recordedAt

/** Options of the KnowledgeBase layer. */
export interface Options {
  /** Storage directory, shared with Memory (default `$TROUPE_HOME/memory` with `layerConfig`). */
  readonly directory: string
}

/** Opens (creating if needed) the knowledge table in a directory. The connection closes with the scope. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const db = yield* Lance.connect(options.directory)
  // Another process sharing the directory may create the table at the same moment: then this opens that one.
  const table = (yield* Lance.openIfExists(db, tableName)) ?? (yield* Lance.createOrOpen(db, tableName, arrowSchema()))
  yield* Lance.versionedSchema(table, tableName, versionKey, [schemaVersion])
  const writeLock = yield* Semaphore.make(1)
  const sequence = yield* Ref.make(0)

  const select = (where: string | undefined, limit?: number) =>
    Effect.gen(function* () {
      let q = table.query()
      if (where !== undefined) q = q.where(where)
      if (limit !== undefined) q = q.limit(limit)
      const rows = yield* Lance.attempt("queryFacts", () => q.toArray())
      return yield* Effect.forEach(rows, toFact)
    })

  const query = Effect.fn("KnowledgeBase.query")(function* (pattern: Pattern = {}) {
    const facts = yield* select(patternSql(pattern))
    facts.sort(byKey)
    return pattern.limit === undefined ? facts : facts.slice(0, pattern.limit)
  })

  const assert = Effect.fn("KnowledgeBase.assert")(function* (input: NewFact) {
    return yield* writeLock.withPermit(
      Lance.retryingConflicts(
        table,
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const validFrom = input.validFrom ?? now
          const current = yield* select(patternSql({ subject: input.subject, predicate: input.predicate }))
          const same = current.find((f) => normalize(f.object) === normalize(input.object))
          if (same !== undefined) return { fact: same, created: false, superseded: [] } satisfies Asserted
          const seq = yield* Ref.getAndUpdate(sequence, (n) => n + 1)
          const random = yield* Random.nextIntBetween(0, 0x7fffffff)
          const fact: Fact = {
            id: `fact_${now.toString(36).padStart(9, "0")}${seq.toString(36).padStart(6, "0")}${random.toString(36)}`,
            subject: input.subject,
            predicate: input.predicate,
            object: input.object,
            source: input.source ?? "",
            confidence: Math.min(1, Math.max(0, input.confidence ?? 1)),
            validFrom,
            validTo: null,
            recordedAt: now
          }
          const superseded = input.exclusive === false ? [] : current.map((f) => ({ ...f, validTo: validFrom }))
          // One merge commit closes the old facts and inserts the new one: never two current objects, even on a crash.
          yield* Lance.attempt("assertFact", () =>
            table
              .mergeInsert("id")
              .whenMatchedUpdateAll()
              .whenNotMatchedInsertAll()
              .execute([...superseded, fact].map(toRow))
          )
          return { fact, created: true, superseded } satisfies Asserted
        })
      )
    )
  })

  const retract = Effect.fn("KnowledgeBase.retract")(function* (pattern: Omit<Pattern, "asOf" | "history">) {
    if (pattern.subject === undefined && pattern.predicate === undefined && pattern.object === undefined) return 0
    return yield* writeLock.withPermit(
      Lance.retryingConflicts(
        table,
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const current = yield* select(patternSql(pattern))
          if (current.length === 0) return 0
          const closed = current.map((f) => toRow({ ...f, validTo: now }))
          yield* Lance.attempt("retractFacts", () => table.mergeInsert("id").whenMatchedUpdateAll().execute(closed))
          return current.length
        })
      )
    )
  })

  return KnowledgeBase.of({ assert, retract, query })
})

/** The KnowledgeBase stored in `options.directory`. */
export const layer = (options: Options): Layer.Layer<KnowledgeBase, MemoryError | SchemaVersionMismatch> =>
  Layer.effect(KnowledgeBase, make(options))

/** The KnowledgeBase in `$TROUPE_HOME/memory` (`TROUPE_HOME` defaults to `.troupe`). */
export const layerConfig: Layer.Layer<KnowledgeBase, MemoryError | SchemaVersionMismatch | Config.ConfigError> =
  Layer.effect(
    KnowledgeBase,
    Effect.gen(function* () {
      return yield* make({ directory: yield* Lance.directoryConfig })
    })
  )

/** A KnowledgeBase in a directory the caller owns (typically a temp directory in a test). */
export const layerTest = (directory: string): Layer.Layer<KnowledgeBase, MemoryError | SchemaVersionMismatch> =>
  layer({ directory })

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * Renders facts compactly for a prompt, one per line: `subject · predicate · object [confidence; validity; source]`.
 *
 * Dates are days (UTC); confidence is omitted when it is 1, the source when it is empty.
 */
export const render = (facts: ReadonlyArray<Fact>): string =>
  facts
    .map((f) => {
      const notes = [
        f.confidence === 1 ? undefined : `p=${Number(f.confidence.toFixed(2))}`,
        f.validTo === null ? `since ${day(f.validFrom)}` : `${day(f.validFrom)}..${day(f.validTo)}`,
        f.source === "" ? undefined : `src ${f.source}`
      ].filter((n) => n !== undefined)
      return `${f.subject} · ${f.predicate} · ${f.object} [${notes.join("; ")}]`
    })
    .join("\n")
