/**
 * What long-term memory stores: records of four kinds in namespaces, and what recall returns about them.
 */
import * as Schema from "effect/Schema"

/**
 * The kind of a memory: something that happened (`episode`), something known to be true (`fact`), a rule drawn from
 * experience (`lesson`, usually consolidated from episodes), or a piece of reference text (`document`).
 */
export const Kind = Schema.Literals(["episode", "fact", "lesson", "document"])

/** The kind of a memory. */
export type Kind = typeof Kind.Type

/** The namespace every agent of an orchestrated run shares. */
export const teamNamespace = "team"

/** The private namespace of an agent: its name. */
export const agentNamespace = (agent: string): string => agent

/** A stored memory. `createdAt` is epoch milliseconds; `provenance` lists the ids it was derived from. */
export const MemoryRecord = Schema.Struct({
  id: Schema.String,
  agent: Schema.String,
  namespace: Schema.String,
  kind: Kind,
  text: Schema.String,
  metadata: Schema.Record(Schema.String, Schema.Unknown),
  importance: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  createdAt: Schema.Finite,
  provenance: Schema.Array(Schema.String)
})

/** A stored memory. */
export type MemoryRecord = typeof MemoryRecord.Type

/**
 * The longest text a memory may hold, in UTF-16 code units (64 Ki, about 16,000 words).
 *
 * Every write embeds the text and indexes it for BM25, and every recall may return it into a prompt: split longer
 * documents into passages.
 */
export const maxTextLength = 65_536

/** The longest `metadata` a memory may hold, measured as its JSON text. */
export const maxMetadataLength = 16_384

/** What a caller-chosen id may look like: 1 to 128 letters, digits and `_ . : -`. */
export const idPattern: RegExp = /^[A-Za-z0-9_.:-]{1,128}$/

const Name = Schema.String.check(Schema.isNonEmpty(), Schema.isMaxLength(256))

/**
 * A memory to store, as validated by `remember`. `namespace` defaults to the agent's own, `importance` (0..1) to
 * 0.5, `metadata` to `{}`.
 *
 * `id` is an idempotency key: a memory written with an id that is already stored is not written again, and the
 * stored one is returned. Leave it out and a fresh id is generated.
 */
export const NewMemory = Schema.Struct({
  agent: Name,
  text: Schema.String.check(
    Schema.isPattern(/\S/, { message: "text must not be blank" }),
    Schema.isMaxLength(maxTextLength)
  ),
  kind: Kind,
  namespace: Schema.optionalKey(Name),
  metadata: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  importance: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  provenance: Schema.optionalKey(Schema.Array(Schema.String)),
  id: Schema.optionalKey(Schema.String.check(Schema.isPattern(idPattern)))
})

/** A memory to store. */
export type NewMemory = typeof NewMemory.Type

/**
 * Why a memory ranked where it did: the components in 0..1 and their weighted sum `total`.
 *
 * `vector` and `bm25` are normalised over the query's candidates (the best candidate of each search scores 1, the
 * worst 0); `cosine` and `bm25Raw` are the raw similarity and BM25 score they came from (0 when a search did not
 * return the memory). `recency` halves every half-life; `importance` is the stored importance.
 */
export const Scores = Schema.Struct({
  total: Schema.Finite,
  vector: Schema.Finite,
  bm25: Schema.Finite,
  recency: Schema.Finite,
  importance: Schema.Finite,
  cosine: Schema.Finite,
  bm25Raw: Schema.Finite
})

/** The component scores of a recalled memory. */
export type Scores = typeof Scores.Type

/** A memory returned by recall, with the reason for its rank. */
export interface Recalled {
  readonly record: MemoryRecord
  readonly scores: Scores
}

/**
 * Narrows which memories an operation sees. Every field is optional and they combine with AND.
 *
 * Gotcha: `metadata` (equality on top-level keys) is applied after the storage query, so recall over-fetches
 * candidates to compensate; prefer the other fields for selective filters.
 */
export interface Filter {
  readonly ids?: ReadonlyArray<string>
  readonly agent?: string
  readonly namespace?: string | ReadonlyArray<string>
  readonly kinds?: ReadonlyArray<Kind>
  readonly createdAfter?: number
  readonly createdBefore?: number
  readonly minImportance?: number
  readonly metadata?: Readonly<Record<string, string | number | boolean>>
  /** A raw LanceDB SQL predicate over the stored columns, for what the fields above cannot say. */
  readonly where?: string
}
