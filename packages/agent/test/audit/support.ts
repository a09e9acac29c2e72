/**
 * Helpers of the audit trail tests: temp homes, raw access to a trail's lines, and an independent hash.
 */
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as AuditLog from "../../src/AuditLog.ts"

/** A temp directory removed when the test's scope closes. */
export const tempHome = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-audit-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Where a run's trail is under a home. */
export const trailPath = (home: string, runId: string): string => join(home, "runs", runId, "audit.jsonl")

/** Runs `f` with the AuditLog of a fresh temp home. */
export const withAudit = <A, E>(
  f: (audit: AuditLog.Service, home: string) => Effect.Effect<A, E, Scope.Scope>,
  options: Omit<AuditLog.Options, "home"> = {}
) =>
  Effect.gen(function* () {
    const home = yield* tempHome
    return yield* Effect.gen(function* () {
      return yield* f(yield* AuditLog.AuditLog, home)
    }).pipe(Effect.provide(AuditLog.layerTest(home, options)))
  })

/** Opens a run, appends `count` entries of type `Step` and closes it; returns the path of its trail. */
export const writeTrail = (audit: AuditLog.Service, home: string, runId: string, count: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const log = yield* audit.open(runId, "tester")
      for (let i = 1; i <= count; i++) yield* log.append("Step", { i, note: `step ${i}` })
      return trailPath(home, runId)
    })
  )

/** The complete lines of a file (the text after the last newline is not one). */
export const readLines = (path: string): Array<string> => {
  const lines = readFileSync(path, "utf8").split("\n")
  lines.pop()
  return lines
}

/** Replaces a file's content with lines, each ending in a newline. */
export const writeLines = (path: string, lines: ReadonlyArray<string>): void =>
  writeFileSync(path, lines.map((l) => `${l}\n`).join(""))

/** Everything the run's trail holds, in order. */
export const readAll = (audit: AuditLog.Service, runId: string) => Stream.runCollect(audit.read(runId))

/**
 * Canonical JSON written from the format's description, independently of the source: sorted keys, no
 * whitespace, `JSON.stringify` for strings and numbers.
 */
export const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
      .join(",")}}`
  }
  return JSON.stringify(value)
}

/** The hash an entry should have, computed as a reader without Troupe would. */
export const expectedHash = (entry: Record<string, unknown>): string => {
  const { hash: _, ...rest } = entry
  return createHash("sha256").update(canonical(rest), "utf8").digest("hex")
}

/** Re-hashes a parsed entry after an edit, as a forger who knows the format would. */
export const rehash = (entry: Record<string, unknown>): Record<string, unknown> => ({
  ...entry,
  hash: expectedHash(entry)
})
