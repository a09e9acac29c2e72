/**
 * Parsing and type-checking through the native TypeScript 7 compiler's API (`typescript/unstable/sync`): one
 * `tsgo` server per package project, with mutated file contents served from memory so that nothing is written
 * to disk to check a mutant.
 *
 * A check is in two stages: the mutated file alone (a few milliseconds, rejects most invalid mutants), then the
 * whole package project with its tests (about 2 s, catches an inferred type that changes for an importer).
 * Diagnostics the unmutated project already has are not held against a mutant.
 */

import type { SourceFile } from "typescript/unstable/ast"
import type { Snapshot } from "typescript/unstable/sync"
import { API } from "typescript/unstable/sync"

/** How far a mutant is type-checked: `project` (file, then whole package), `file` only, or `off`. */
export type Depth = "project" | "file" | "off"

interface Diagnostic {
  readonly fileName?: string | undefined
  readonly code: number
  readonly text: string
}

const keyOf = (d: Diagnostic): string => `${d.fileName ?? ""}|${d.code}|${d.text}`

const counts = (ds: ReadonlyArray<Diagnostic>): Map<string, number> => {
  const m = new Map<string, number>()
  for (const d of ds) m.set(keyOf(d), (m.get(keyOf(d)) ?? 0) + 1)
  return m
}

/** The first diagnostic of `now` that `baseline` does not account for. */
const fresh = (baseline: Map<string, number>, now: ReadonlyArray<Diagnostic>): Diagnostic | undefined => {
  const left = new Map(baseline)
  for (const d of now) {
    const n = left.get(keyOf(d)) ?? 0
    if (n === 0) return d
    left.set(keyOf(d), n - 1)
  }
  return undefined
}

/** A package project open in a `tsgo` server. */
export interface Checker {
  /** The parsed source file (from disk, unmutated). */
  readonly sourceFile: (file: string) => SourceFile
  /** `undefined` when `text` as the content of `file` type-checks as well as the original; else the first new error. */
  readonly check: (file: string, text: string, depth: Depth) => string | undefined
  readonly close: () => void
}

/** Opens `tsconfig` (absolute path) under `root`, recording the diagnostics it has before any mutation. */
export const open = (root: string, tsconfig: string): Checker => {
  const overlay = new Map<string, string>()
  const api = new API({ cwd: root, fs: { readFile: (f) => overlay.get(f) } })
  let snapshot: Snapshot = api.updateSnapshot({ openProjects: [tsconfig] })
  const project = () => {
    const p = snapshot.getProject(tsconfig)
    if (p === undefined) throw new Error(`${tsconfig} did not open as a TypeScript project`)
    return p
  }
  const fileBaselines = new Map<string, Map<string, number>>()
  let projectBaseline: Map<string, number> | undefined
  const fileDiagnostics = (file: string) => [
    ...project().program.getSyntacticDiagnostics(file),
    ...project().program.getSemanticDiagnostics(file)
  ]
  const projectDiagnostics = () => [
    ...project().program.getSyntacticDiagnostics(),
    ...project().program.getSemanticDiagnostics()
  ]
  const refresh = (file: string) => {
    const next = api.updateSnapshot({ fileChanges: { changed: [file] } })
    snapshot.dispose()
    snapshot = next
  }
  return {
    sourceFile: (file) => {
      const sf = project().program.getSourceFile(file)
      if (sf === undefined) throw new Error(`${file} is not part of ${tsconfig}`)
      return sf
    },
    check: (file, text, depth) => {
      if (depth === "off") return undefined
      let fileBaseline = fileBaselines.get(file)
      if (fileBaseline === undefined) {
        fileBaseline = counts(fileDiagnostics(file))
        fileBaselines.set(file, fileBaseline)
      }
      if (depth === "project" && projectBaseline === undefined) projectBaseline = counts(projectDiagnostics())
      overlay.set(file, text)
      refresh(file)
      try {
        const local = fresh(fileBaseline, fileDiagnostics(file))
        if (local !== undefined) return local.text
        if (depth === "project") return fresh(projectBaseline!, projectDiagnostics())?.text
        return undefined
      } finally {
        overlay.delete(file)
        refresh(file)
      }
    },
    close: () => {
      snapshot.dispose()
      api.updateSnapshot({ closeProjects: [tsconfig] }).dispose()
      api.close()
    }
  }
}
