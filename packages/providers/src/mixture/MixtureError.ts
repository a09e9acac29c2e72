/**
 * How the Mixture of Providers fails: `MixtureFailed`, with one `ProviderFailure` per provider asked.
 *
 * Schema-backed so that a failure can be audited, persisted and read back from an `AiError`'s metadata
 * (`Mixture.failureOf`).
 */
import * as Schema from "effect/Schema"

/** One provider's failure, as `MixtureFailed` reports it. */
export const ProviderFailure = Schema.Struct({
  provider: Schema.String,
  model: Schema.String,
  /** The failure's tag (`AuthenticationError`, `ProviderTimeout`, `CircuitOpen`, ...) or a rejection (`Rejected:schema`). */
  reason: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean
})

/** One provider's failure. */
export type ProviderFailure = typeof ProviderFailure.Type

/** No provider gave an acceptable answer. `failures` has one entry per provider, in member order. */
export class MixtureFailed extends Schema.TaggedError<MixtureFailed>()("MixtureFailed", {
  strategy: Schema.String,
  failures: Schema.Array(ProviderFailure),
  detail: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    const each = this.failures.map((f) => `${f.provider}: ${f.message}`).join("; ")
    return `every provider failed (${this.strategy})${this.detail === undefined ? "" : `, ${this.detail}`}: ${each}`
  }
}
