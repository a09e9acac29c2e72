/**
 * Glob matching of workspace-relative paths and of names (branches, programs), with picomatch.
 *
 * picomatch rather than Node's `path.matchesGlob`: the latter has no options, and its `**` skips dot-files, so
 * the default `paths: ["**"]` would refuse `.gitignore` or `.github/workflows/ci.yml` while a person reading the
 * spec expects "everything". Here `dot: true` makes `*` and `**` match dot-files like any other name.
 */
import picomatch from "picomatch"

/** A predicate over workspace-relative paths (`a/b.txt`; the root is `""`). */
export interface PathMatcher {
  /** Whether `path` matches one of the patterns. */
  readonly matches: (path: string) => boolean
  /** Whether a directory could hold a match: it matches, or it is on the way to one (`src` for `src/**`). */
  readonly leadsTo: (directory: string) => boolean
}

/** A matcher over workspace-relative paths for `patterns`. */
export const paths = (patterns: ReadonlyArray<string>): PathMatcher => {
  const isMatch = picomatch([...patterns], { dot: true })
  const bases = patterns.map((pattern) => picomatch.scan(pattern).base)
  return {
    matches: (path) => isMatch(path),
    leadsTo: (directory) =>
      directory === "" ||
      isMatch(directory) ||
      bases.some((base) => base === "" || base === directory || base.startsWith(`${directory}/`))
  }
}

/**
 * A predicate over slash-separated names such as branches: `feature/*` matches `feature/x` but not
 * `feature/x/y` (`feature/**` does); a lone `*` matches every name.
 */
export const names = (patterns: ReadonlyArray<string>): ((name: string) => boolean) => {
  const isMatch = picomatch([...patterns], { dot: true })
  return (name) => patterns.includes("*") || isMatch(name)
}
