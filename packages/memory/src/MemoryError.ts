/**
 * The typed failures of long-term memory and the knowledge base. Schema-backed so they can be audited and sent
 * between actors.
 */
import * as Schema from "effect/Schema"

/** A storage operation failed (LanceDB, the file system, or a stored row that does not decode). */
export class MemoryError extends Schema.TaggedError<MemoryError>()("MemoryError", {
  operation: Schema.String,
  message: Schema.String
}) {}

/**
 * A vector's length differs from the dimension the table was created with.
 *
 * Raised instead of writing or searching: mixing embeddings of two models would silently corrupt recall. Point the
 * memory at another directory, or re-embed, when the embedding model changes.
 */
export class DimensionMismatch extends Schema.TaggedError<DimensionMismatch>()("DimensionMismatch", {
  table: Schema.String,
  expected: Schema.Int,
  actual: Schema.Int
}) {}

/** The table on disk was written by another version of the storage schema. */
export class SchemaVersionMismatch extends Schema.TaggedError<SchemaVersionMismatch>()("SchemaVersionMismatch", {
  table: Schema.String,
  expected: Schema.String,
  found: Schema.String
}) {}

/**
 * A memory given to `remember` or `rememberMany` is not one the store accepts: an unknown kind, an importance outside
 * 0..1 or not finite, a blank or too long text (`MemoryRecord.maxTextLength`), metadata that is not JSON or too
 * long, or a malformed id. Nothing of the call is written. `index` is the memory's position in the call's input.
 */
export class InvalidMemory extends Schema.TaggedError<InvalidMemory>()("InvalidMemory", {
  index: Schema.Int,
  message: Schema.String
}) {}

/**
 * The options of a recall are out of range: `k` or `candidates` not a positive integer or above the largest
 * (`Memory.maxRecallK`), or a weight that is negative or not finite.
 */
export class InvalidRecallOptions extends Schema.TaggedError<InvalidRecallOptions>()("InvalidRecallOptions", {
  message: Schema.String
}) {}

/** Any failure of opening the storage. */
export type OpenError = MemoryError | DimensionMismatch | SchemaVersionMismatch
