/**
 * The mixture's failure: `MixtureFailed` with one reason per provider, and how it crosses `LanguageModel`'s
 * error channel as an `AiError` and is read back (`toAiError`, `failureOf`).
 */
import * as AiError from "effect/ai/AiError"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Mixture from "../Mixture.ts"
import * as MixtureError from "../MixtureError.ts"
import type * as ProviderPool from "../ProviderPool.ts"

/** A `ProviderFailure` of `of` (a member, or its candidate). */
export const failure = (
  of: { readonly provider: string; readonly model: string },
  reason: string,
  message: string,
  retryable: boolean
): MixtureError.ProviderFailure => ({ provider: of.provider, model: of.model, reason, message, retryable })

// The pool's own errors name their provider in their message ("openai: no answer within 300 ms"); a
// `ProviderFailure` already carries the provider, and `MixtureFailed.message` prefixes it again.
const withoutProvider = (provider: string, message: string): string =>
  message.startsWith(`${provider}: `) ? message.slice(provider.length + 2) : message

/** A member's call error as a `ProviderFailure`; the pool's own refusals and timeouts count as retryable. */
export const providerFailure = (
  member: Mixture.Member,
  error: ProviderPool.CallError
): MixtureError.ProviderFailure => {
  switch (error._tag) {
    case "AiError":
      return failure(member, error.reason._tag, error.reason.message, error.isRetryable)
    case "ProviderTimeout":
    case "CircuitOpen":
    case "RateLimited":
      return failure(member, error._tag, withoutProvider(error.provider, error.message), true)
  }
}

// The providers' original `AiError` reasons, kept beside a `MixtureFailed` (they are classes, not part of its
// schema) so the service can surface the common reason itself.
const reasonsByError = new WeakMap<MixtureError.MixtureFailed, ReadonlyArray<AiError.AiErrorReason | undefined>>()

/**
 * A `MixtureFailed` that remembers the providers' `AiError` reasons (one per member, `undefined` where the
 * provider did not fail with an `AiError`), so that `toAiError` can surface their common reason.
 */
export const withReasons = (
  failed: MixtureError.MixtureFailed,
  reasons: ReadonlyArray<AiError.AiErrorReason | undefined>
): MixtureError.MixtureFailed => {
  reasonsByError.set(failed, reasons)
  return failed
}

const encodeFailure = Schema.encodeUnknownResult(MixtureError.MixtureFailed)
const decodeFailure = Schema.decodeUnknownResult(MixtureError.MixtureFailed)
const encodeReason = Schema.encodeUnknownResult(AiError.AiErrorReason)
const decodeReason = Schema.decodeUnknownResult(AiError.AiErrorReason)

/** The `AiError` the mixture's `LanguageModel` fails with for a `MixtureFailed` (see the `Mixture` module docs). */
export const toAiError = (failed: MixtureError.MixtureFailed, method: string): AiError.AiError => {
  const encoded = Result.getOrUndefined(encodeFailure(failed))
  const reasons = reasonsByError.get(failed) ?? []
  const first = reasons[0]
  const alike = first !== undefined && reasons.every((r) => r !== undefined && r._tag === first._tag)
  const base: AiError.AiErrorReason = alike ? first : new AiError.UnknownError({ description: failed.message })
  const withMetadata = Result.getOrUndefined(
    Result.flatMap(encodeReason(base), (e) => {
      const record = e as { readonly metadata?: Record<string, unknown> }
      return decodeReason({ ...record, metadata: { ...record.metadata, mixture: encoded ?? null } })
    })
  )
  const error = AiError.make({ module: "Mixture", method, reason: withMetadata ?? base })
  failuresByError.set(error, failed)
  return error
}

// In-process lookup for `failureOf`; the metadata copy is for errors that were serialized (audit log, other
// processes) and is absent on reasons whose schema has no metadata (`NetworkError`).
const failuresByError = new WeakMap<AiError.AiError, MixtureError.MixtureFailed>()

/** The `MixtureError.MixtureFailed` carried by an `AiError` from a mixture, if it is one. */
export const failureOf = (error: AiError.AiError): MixtureError.MixtureFailed | undefined => {
  const known = failuresByError.get(error)
  if (known !== undefined) return known
  const metadata = (error.reason as { readonly metadata?: Record<string, unknown> }).metadata
  const raw = metadata?.mixture
  return raw === undefined || raw === null ? undefined : Result.getOrUndefined(decodeFailure(raw))
}
