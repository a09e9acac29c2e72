/**
 * Starting a trail's writer: a new trail gets its genesis entry; an existing one is verified, cut back to its last
 * complete line, and continued with an `AuditResumed` entry. And preparing an entry's content for the chain.
 */
import { createHash } from "node:crypto"
import { dirname } from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import {
  AuditLogCorrupt,
  AuditLogError,
  formatVersion,
  genesisType,
  type Head,
  resumedType,
  zeroHash
} from "../AuditEntry.ts"
import * as Chain from "./auditChain.ts"
import * as File from "./auditFile.ts"
import * as Json from "./auditJson.ts"
import * as Verify from "./auditVerify.ts"

/** What the genesis entry says about the format, so a reader without Troupe knows how to check it. */
export const genesisData = {
  format: "troupe-audit",
  version: formatVersion,
  hash: "sha256 of the canonical JSON (RFC 8785) of the entry without its hash",
  chain: "prevHash is the previous entry's hash; 64 zeros for the genesis"
}

/** Identifiers are clipped: a huge agent name or type must not make a line unreadable. */
const maxNameLength = 256

const clip = (text: string) => (text.length > maxNameLength ? text.slice(0, maxNameLength) : text)

// The bytes of a line besides runId, agent, type and data (seq up to 16 digits, a 24-character time, two hashes).
const lineOverhead = 256

/**
 * Makes an entry's content: JSON, every string redacted, identifiers clipped. Data that would make the line
 * longer than `maxLineBytes` is replaced by a note with its size, its SHA-256 and a 4 KB preview, so every line
 * stays readable by the bounded reader.
 */
export const prepare = (
  runId: string,
  input: { readonly agent: string; readonly type: string; readonly data: unknown; readonly event?: boolean },
  redact: (text: string) => string,
  maxLineBytes: number
): Effect.Effect<Chain.Prepared, AuditLogError> =>
  Effect.suspend(() => {
    const made = Result.try({
      try: () => Json.toJson(input.data, redact),
      catch: (cause) =>
        new AuditLogError({
          operation: "encode",
          path: input.type,
          message: cause instanceof Error ? redact(cause.message) : "the data could not be made JSON"
        })
    })
    if (Result.isFailure(made)) return Effect.fail(made.failure)
    // An event's tag is its type; made JSON first, so that class instances (errors) keep their fields.
    const data = input.event === true ? withoutTag(made.success) : made.success
    const agent = clip(redact(input.agent))
    const type = clip(redact(input.type)) || "unknown"
    const canonical = Json.canonical(data)!
    const names = Buffer.byteLength(JSON.stringify(runId) + JSON.stringify(agent) + JSON.stringify(type))
    const bytes = Buffer.byteLength(canonical)
    if (lineOverhead + names + bytes <= maxLineBytes) return Effect.succeed({ agent, type, data, canonical })
    const note: Schema.Json = {
      "@audit": "oversized",
      bytes,
      sha256: createHash("sha256").update(canonical, "utf8").digest("hex"),
      preview: canonical.slice(0, 4096)
    }
    return Effect.succeed({ agent, type, data: note, canonical: Json.canonical(note)! })
  })

const withoutTag = (json: Schema.Json): Schema.Json => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return json
  const { _tag: _, ...rest } = json as Schema.JsonObject
  return rest
}

/** A started writer, and how it started. */
export interface Started {
  readonly chain: Chain.Chain
  readonly resumed: boolean
}

/**
 * Opens the trail at `path` for appending. A new or empty file (or one holding only a partial line: a crash
 * before the genesis was acknowledged) starts with a genesis entry; an intact one continues after its last
 * complete entry; a broken one fails with `AuditLogCorrupt` and is left as it is.
 */
export const start = (options: {
  readonly path: string
  readonly runId: string
  readonly agent: string
  readonly durability: Chain.Durability
  readonly maxLineBytes: number
  readonly redact: (text: string) => string
}): Effect.Effect<Started, AuditLogError | AuditLogCorrupt> =>
  Effect.gen(function* () {
    const { path, runId, agent } = options
    yield* File.mkdir(dirname(path))
    const size = yield* File.size(path)
    const checked = size === undefined || size === 0 ? undefined : yield* Verify.check(path, runId, options)
    const verification = checked?.verification
    if (verification?._tag === "Broken" && verification.reason !== "empty") {
      const { line, reason, detail } = verification
      return yield* new AuditLogCorrupt({ runId, line, reason, detail })
    }
    const intact = verification?._tag === "Intact" ? verification : undefined
    const scope = yield* Scope.make()
    return yield* Effect.gen(function* () {
      const fd = yield* File.open(path, "a").pipe(Scope.provide(scope))
      // The partial line a crash left is cut, or the next entry would be glued to it.
      if (checked !== undefined && (intact === undefined || intact.incompleteLastEntry !== undefined)) {
        yield* File.truncate(path, fd, checked.goodBytes)
      }
      const head: Head = intact?.head ?? { seq: -1, hash: zeroHash }
      const chain = Chain.make({
        path,
        runId,
        fd,
        head,
        lastTime: checked?.lastTime,
        durability: options.durability,
        scope,
        newEntries: size === undefined ? [path, dirname(path)] : []
      })
      const first =
        intact === undefined
          ? { agent, type: genesisType, data: genesisData }
          : {
              agent,
              type: resumedType,
              data: {
                afterSeq: intact.head.seq,
                ...(intact.incompleteLastEntry === undefined ? {} : { droppedBytes: intact.incompleteLastEntry.bytes })
              }
            }
      const prepared = yield* prepare(runId, first, options.redact, options.maxLineBytes)
      // A trail opened for written appends has its first entry made durable by its first sync, like the others.
      yield* chain.append(prepared).pipe(Effect.catchTag("AuditLogClosed", () => Effect.void))
      return { chain, resumed: intact !== undefined }
    }).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
  })
