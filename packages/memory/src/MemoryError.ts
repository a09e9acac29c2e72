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

/** Any failure of opening the storage. */
export type OpenError = MemoryError | DimensionMismatch | SchemaVersionMismatch
