/**
 * The audit trail's record format, readable without Troupe: entries, the hash chain, verdicts and failures.
 *
 * A run's trail is `$TROUPE_HOME/runs/<runId>/audit.jsonl`, one JSON entry per line:
 *
 * ```json
 * {"seq":1,"time":"2026-11-30T10:00:01.250Z","runId":"r1","agent":"backend","type":"ToolCalled","data":{...},
 *  "prevHash":"<hash of entry 0>","hash":"<sha256>"}
 * ```
 *
 * - The first entry is the genesis: `seq` 0, `type` `"genesis"`, `prevHash` 64 zeros, `data` naming the format
 *   (`{"format":"troupe-audit","version":1,...}`). Each later entry has the next `seq` and the previous entry's
 *   `hash` as its `prevHash`.
 * - `hash` is the lowercase hex SHA-256 of the UTF-8 canonical JSON of the entry without `hash`: object keys
 *   sorted by UTF-16 code units at every level, no whitespace, strings and numbers as `JSON.stringify` writes
 *   them (RFC 8785, JCS). In Python, `json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
 *   gives the same text for these entries (integers, ASCII keys).
 * - `time` is ISO-8601 UTC from the `Clock`, never decreasing along the chain.
 *
 * @example
 * ```ts
 * import { AuditEntry } from "@troupe/agent"
 *
 * const ok = (entry: AuditEntry.AuditEntry) => AuditEntry.hashOf(entry) === entry.hash
 * ```
 */
import * as Schema from "effect/Schema"
import * as Json from "./internal/auditJson.ts"

/** The version of the format; written in every genesis entry. */
export const formatVersion = 1

/** The `type` of the first entry of every trail. */
export const genesisType = "genesis"

/** The `type` of the entry written when a run reopens its trail (a resumed run, after a crash or a restart). */
export const resumedType = "AuditResumed"

/** The `prevHash` of the genesis entry: 64 zeros. */
export const zeroHash: string = "0".repeat(64)

/** A SHA-256 digest in lowercase hex. */
export const Sha256 = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))

const Seq = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** One line of the trail. `data` is any JSON value, with secrets already redacted. */
export const AuditEntry = Schema.Struct({
  seq: Seq,
  time: Schema.String,
  runId: Schema.String,
  agent: Schema.String,
  type: Schema.String,
  data: Schema.Json,
  prevHash: Sha256,
  hash: Sha256
})

/** One line of the trail. */
export type AuditEntry = typeof AuditEntry.Type

/**
 * The last entry of a trail: its `seq` and `hash`.
 *
 * Store it somewhere the trail's writer cannot rewrite (the run record, a ticket, another machine): a trail
 * rewritten from genesis with every hash recomputed verifies on its own, and only an anchor shows it.
 */
export const Head = Schema.Struct({ seq: Seq, hash: Sha256 })

/** The last entry of a trail: its `seq` and `hash`. */
export type Head = typeof Head.Type

/**
 * The canonical JSON text of a JSON value (the text an entry's hash is computed over); `undefined` when it is
 * nested deeper than 256 levels, which no writer produces.
 */
export const canonicalJson = (value: Schema.Json): string | undefined => Json.canonical(value)

/** The hash an entry should carry, recomputed from its other fields; `undefined` for over-deep data. */
export const hashOf = (entry: Omit<AuditEntry, "hash">): string | undefined => {
  const data = Json.canonical(entry.data)
  return data === undefined ? undefined : Json.entryHash(entry, data)
}

/**
 * Why verification stopped. The tamper that each one usually means is in {@link describeReason}.
 */
export const Reason = Schema.Literals([
  "empty",
  "unparsable",
  "malformed",
  "oversized-line",
  "bad-genesis",
  "run-mismatch",
  "hash-mismatch",
  "seq-gap",
  "seq-out-of-order",
  "prev-hash-mismatch",
  "anchor-mismatch",
  "truncated"
])

/** Why verification stopped. */
export type Reason = typeof Reason.Type

/** What each reason usually means, for people. */
export const describeReason: Record<Reason, string> = {
  empty: "no genesis entry",
  unparsable: "not JSON",
  malformed: "not an audit entry",
  "oversized-line": "line over the length limit",
  "bad-genesis": "not a genesis entry",
  "run-mismatch": "entry of another run",
  "hash-mismatch": "hash mismatch: the entry was edited",
  "seq-gap": "seq gap: entries were removed",
  "seq-out-of-order": "seq out of order: an entry was inserted or entries were reordered",
  "prev-hash-mismatch": "prevHash mismatch: entries were inserted, removed, replaced or re-hashed",
  "anchor-mismatch": "hash differs from the anchor: the trail was rewritten",
  truncated: "the trail ends before the anchor: entries were cut off the end"
}

/**
 * A last line without its newline: what a crash during a write leaves. Its entry was never acknowledged (an
 * append returns only after the newline is written), so nothing acted on it.
 */
export const IncompleteEntry = Schema.Struct({ line: Schema.Int, bytes: Schema.Int })

/** A last line without its newline. */
export type IncompleteEntry = typeof IncompleteEntry.Type

/**
 * Every entry is chained and hashed correctly. `incompleteLastEntry` is set when the file ends in a partial line
 * after a crash: still intact (no acknowledged entry is missing), and reported so a person can tell. A trail
 * truncated in the middle of a line by someone else looks the same; an anchor tells them apart.
 */
export const Intact = Schema.TaggedStruct("Intact", {
  runId: Schema.String,
  entries: Schema.Int,
  head: Head,
  incompleteLastEntry: Schema.optionalKey(IncompleteEntry)
})

/** Every entry is chained and hashed correctly. */
export type Intact = typeof Intact.Type

/** The first bad entry: its line (from 1), its `seq` when it could be read, why, and what was found. */
export const Broken = Schema.TaggedStruct("Broken", {
  runId: Schema.String,
  line: Schema.Int,
  seq: Schema.optionalKey(Schema.Int),
  reason: Reason,
  detail: Schema.String,
  /** Entries verified before this one. */
  verified: Schema.Int
})

/** The first bad entry. */
export type Broken = typeof Broken.Type

/** The result of verifying a trail. */
export const Verification = Schema.Union([Intact, Broken])

/** The result of verifying a trail. */
export type Verification = typeof Verification.Type

/**
 * One line for people (and `troupe audit RUN --verify`, which exits 0 on `Intact` and 1 on `Broken`).
 *
 * @example
 * ```ts
 * // "broken at line 4 (seq 3): hash mismatch: the entry was edited (its hash is 1f0c…, its content hashes to 9ab2…)"
 * ```
 */
export const message = (verification: Verification): string => {
  if (verification._tag === "Intact") {
    const head = `intact: ${verification.entries} entries, head seq ${verification.head.seq} ${verification.head.hash}`
    const incomplete = verification.incompleteLastEntry
    return incomplete === undefined
      ? head
      : `${head}; incomplete last entry (crash) at line ${incomplete.line}: ${incomplete.bytes} bytes never acknowledged`
  }
  const where = verification.seq === undefined ? "" : ` (seq ${verification.seq})`
  return `broken at line ${verification.line}${where}: ${describeReason[verification.reason]} (${verification.detail})`
}

/** A file operation on the trail failed. */
export class AuditLogError extends Schema.TaggedError<AuditLogError>()("AuditLogError", {
  operation: Schema.String,
  path: Schema.String,
  message: Schema.String
}) {}

/** The run has no trail. */
export class AuditLogNotFound extends Schema.TaggedError<AuditLogNotFound>()("AuditLogNotFound", {
  runId: Schema.String,
  path: Schema.String
}) {
  override get message(): string {
    return `no audit trail for run ${this.runId} at ${this.path}`
  }
}

/** A run id that cannot name a directory safely: 1 to 128 letters, digits, `.`, `_` or `-`, not starting with `.`. */
export class AuditRunIdInvalid extends Schema.TaggedError<AuditRunIdInvalid>()("AuditRunIdInvalid", {
  runId: Schema.String
}) {
  override get message(): string {
    return `invalid run id ${JSON.stringify(this.runId.slice(0, 200))}: use 1 to 128 letters, digits, '.', '_' or '-'`
  }
}

/**
 * A trail could not be read or continued: a line is unreadable (`read`), or the chain is broken (`open` of an
 * existing trail, which never appends to a broken chain: a person should look at it first).
 */
export class AuditLogCorrupt extends Schema.TaggedError<AuditLogCorrupt>()("AuditLogCorrupt", {
  runId: Schema.String,
  line: Schema.Int,
  reason: Reason,
  detail: Schema.String
}) {
  override get message(): string {
    return `audit trail of run ${this.runId} is corrupt at line ${this.line}: ${describeReason[this.reason]} (${this.detail})`
  }
}

/** The writer was closed. */
export class AuditLogClosed extends Schema.TaggedError<AuditLogClosed>()("AuditLogClosed", {
  runId: Schema.String
}) {
  override get message(): string {
    return `audit trail of run ${this.runId} is closed`
  }
}
