/**
 * Reading a trail line by line: decoding entries, and checking the chain up to the first bad entry.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import {
  AuditEntry,
  type AuditLogError,
  type Broken,
  genesisType,
  type Head,
  type IncompleteEntry,
  type Reason,
  type Verification,
  zeroHash
} from "../AuditEntry.ts"
import * as File from "./auditFile.ts"
import * as Json from "./auditJson.ts"

// `data` is whatever JSON.parse made of it, which is JSON by construction; checking it again would cost a walk.
const Shape = Schema.Struct({ ...AuditEntry.fields, data: Schema.Unknown })
const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))
const decodeShape = Schema.decodeUnknownExit(Shape)

/** A line read as an entry, or why it could not be. */
export type Decoded =
  | { readonly _tag: "Entry"; readonly entry: AuditEntry }
  | { readonly _tag: "Bad"; readonly reason: Reason; readonly detail: string; readonly seq?: number }

const clip = (text: string, max = 160): string => (text.length > max ? `${text.slice(0, max)}…` : text)

/** Decodes one scanned line (`Incomplete` is the caller's to handle). */
export const decode = (scanned: File.Line | File.Oversized, maxLineBytes: number): Decoded => {
  if (scanned._tag === "Oversized") {
    return { _tag: "Bad", reason: "oversized-line", detail: `${scanned.bytes} bytes, limit ${maxLineBytes}` }
  }
  const json = parseJson(scanned.text)
  if (Option.isNone(json)) return { _tag: "Bad", reason: "unparsable", detail: `line: ${clip(scanned.text, 80)}` }
  const exit = decodeShape(json.value)
  if (Exit.isFailure(exit)) {
    const seq = (json.value as { seq?: unknown } | null)?.seq
    const issue = Cause.squash(exit.cause)
    const detail = clip(issue instanceof Error ? issue.message : String(issue)).replaceAll("\n", " ")
    return { _tag: "Bad", reason: "malformed", detail, ...(Number.isInteger(seq) ? { seq: seq as number } : {}) }
  }
  return { _tag: "Entry", entry: exit.value as AuditEntry }
}

/** A verification, and what a writer needs to continue the chain. */
export interface Checked {
  readonly verification: Verification
  /** Bytes up to the end of the last good entry's line. */
  readonly goodBytes: number
  /** The last good entry's time in epoch milliseconds, if any. */
  readonly lastTime: number | undefined
}

const short = (hash: string) => `${hash.slice(0, 12)}…`

/**
 * Verifies the trail at `path` for `runId`: every line an entry, the genesis first, each hash recomputed, `seq`
 * consecutive, each `prevHash` the previous hash, every entry of this run; and, with an anchor, the anchored
 * entry present with the anchored hash. Stops at the first bad entry.
 */
export const check = (
  path: string,
  runId: string,
  options: { readonly maxLineBytes: number; readonly anchor?: Head | undefined }
): Effect.Effect<Checked, AuditLogError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const next = yield* File.scan(path, options.maxLineBytes)
      const anchor = options.anchor
      let previous: AuditEntry | undefined
      let verified = 0
      let goodBytes = 0
      let lastLine = 0
      let incomplete: IncompleteEntry | undefined
      const done = (verification: Verification): Checked => ({
        verification,
        goodBytes,
        lastTime: previous === undefined ? undefined : Date.parse(previous.time)
      })
      const broken = (line: number, reason: Reason, detail: string, seq?: number): Checked =>
        done({ _tag: "Broken", runId, line, reason, detail, verified, ...(seq === undefined ? {} : { seq }) } as Broken)

      // After a jump in seq: the missing entry further down means the lines were moved, not removed.
      const findSeq = (seq: number) =>
        Effect.gen(function* () {
          while (true) {
            const scanned = yield* next
            if (scanned === undefined || scanned._tag === "Incomplete") return undefined
            const decoded = decode(scanned, options.maxLineBytes)
            if (decoded._tag === "Entry" && decoded.entry.seq === seq) return scanned.number
          }
        })

      while (true) {
        const scanned = yield* next
        if (scanned === undefined) break
        if (scanned._tag === "Incomplete") {
          incomplete = { line: scanned.number, bytes: scanned.bytes }
          break
        }
        const line = scanned.number
        lastLine = line
        const decoded = decode(scanned, options.maxLineBytes)
        if (decoded._tag === "Bad") return broken(line, decoded.reason, decoded.detail, decoded.seq)
        const entry = decoded.entry
        const data = Json.canonical(entry.data)
        if (data === undefined) return broken(line, "malformed", "data nested deeper than 256 levels", entry.seq)
        const expected = Json.entryHash(entry, data)
        if (previous === undefined) {
          if (entry.seq !== 0 || entry.type !== genesisType || entry.prevHash !== zeroHash) {
            const found = `seq ${entry.seq}, type ${clip(entry.type, 40)}, prevHash ${short(entry.prevHash)}`
            return broken(line, "bad-genesis", `expected seq 0, type genesis, zero prevHash; found ${found}`, entry.seq)
          }
        }
        if (expected !== entry.hash) {
          const detail = `its hash is ${short(entry.hash)}, its content hashes to ${short(expected)}`
          return broken(line, "hash-mismatch", detail, entry.seq)
        }
        // The writer's lines are byte-for-byte canonical, so any other spelling of the same entry (an extra key,
        // a duplicate key another parser would read differently, reordered keys, whitespace, CRLF) is an edit.
        if (scanned._tag !== "Line" || scanned.text !== Json.line(entry, data, entry.hash).slice(0, -1)) {
          return broken(
            line,
            "malformed",
            "the line is not as the trail writes it: extra keys or reformatted",
            entry.seq
          )
        }
        if (previous !== undefined) {
          const want = previous.seq + 1
          if (entry.seq > want) {
            const movedTo = yield* findSeq(want)
            return movedTo === undefined
              ? broken(line, "seq-gap", `seq ${entry.seq} follows seq ${previous.seq}`, entry.seq)
              : broken(
                  line,
                  "seq-out-of-order",
                  `seq ${entry.seq} where ${want} was expected; seq ${want} is at line ${movedTo}`,
                  entry.seq
                )
          }
          if (entry.seq < want) {
            return broken(line, "seq-out-of-order", `seq ${entry.seq} follows seq ${previous.seq}`, entry.seq)
          }
          if (entry.prevHash !== previous.hash) {
            const detail = `prevHash ${short(entry.prevHash)}, previous entry's hash ${short(previous.hash)}`
            return broken(line, "prev-hash-mismatch", detail, entry.seq)
          }
        }
        if (entry.runId !== runId) {
          return broken(line, "run-mismatch", `run ${clip(entry.runId, 80)}, expected ${runId}`, entry.seq)
        }
        if (anchor !== undefined && entry.seq === anchor.seq && entry.hash !== anchor.hash) {
          const detail = `hash ${short(entry.hash)}, anchor ${short(anchor.hash)}`
          return broken(line, "anchor-mismatch", detail, entry.seq)
        }
        previous = entry
        verified += 1
        goodBytes = scanned.end
      }
      if (previous === undefined) {
        return broken(
          incomplete?.line ?? 1,
          "empty",
          incomplete === undefined ? "the file is empty" : "only an incomplete line"
        )
      }
      if (anchor !== undefined && previous.seq < anchor.seq) {
        const detail = `last entry seq ${previous.seq}, anchor seq ${anchor.seq}`
        return broken(incomplete?.line ?? lastLine + 1, "truncated", detail)
      }
      const head = { seq: previous.seq, hash: previous.hash }
      return done({
        _tag: "Intact",
        runId,
        entries: verified,
        head,
        ...(incomplete === undefined ? {} : { incompleteLastEntry: incomplete })
      })
    })
  )
