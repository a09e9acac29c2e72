/**
 * Export of memories as JSON Lines: one record per line, without vectors, readable without LanceDB.
 */
import { mkdir, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import * as Effect from "effect/Effect"
import type { MemoryError } from "../MemoryError.ts"
import type { MemoryRecord } from "../MemoryRecord.ts"
import * as Lance from "./lance.ts"

/** Writes records to a JSONL file (creating its directory, replacing the file) and returns how many were written. */
export const write = (path: string, records: ReadonlyArray<MemoryRecord>): Effect.Effect<number, MemoryError> =>
  Effect.gen(function* () {
    const body = records.map((r) => JSON.stringify(r)).join("\n")
    yield* Lance.attempt("export", () => mkdir(dirname(path), { recursive: true }))
    // An empty export is an empty file, not a lone newline, so that it reads back as zero records.
    yield* Lance.attempt("export", () => writeFile(path, records.length === 0 ? "" : `${body}\n`))
    return records.length
  })
