/**
 * `node packages/cli/src/bin.ts`: the `troupe` executable by its older path, kept for the scripts and tests that name
 * it. It only loads the launcher, `bin/troupe.mjs`, which `pnpm troupe` runs directly (a TypeScript entry costs the
 * type stripper's start).
 */
import "../bin/troupe.mjs"
