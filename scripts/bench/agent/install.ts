/**
 * The peer frameworks live in `peers/`, a package of their own with its own lockfile, outside the workspace, so
 * that they never slow or grow the project's `pnpm install`. The first `pnpm bench agent` installs them from the
 * lockfile; later runs re-use them until the lockfile changes.
 *
 * Their runners (`peers/*.mjs`) are plain ES modules with JSDoc types, so that the workspace's type-check, which
 * runs before any peer is installed, does not see them; once installed, `tsc -p scripts/bench/agent/peers` checks
 * them against the peers' own typings.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The peers' package folder. */
export const peersDir = join(dirname(fileURLToPath(import.meta.url)), "peers")

// Written after a successful install: the lockfile it installed, to notice when that changes.
const stamp = join(peersDir, "node_modules", ".bench-lock.yaml")

/** Installs the peers when needed; resolves with why they cannot be used, or `undefined` when they can. */
export const ensurePeers = (): string | undefined => {
  const lockfile = readFileSync(join(peersDir, "pnpm-lock.yaml"), "utf8")
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === lockfile) return undefined
  console.error(`Installing the peer frameworks into ${peersDir} (once; later runs re-use them) ...`)
  const result = spawnSync("pnpm", ["install", "--ignore-workspace", "--frozen-lockfile", "--dir", peersDir], {
    stdio: ["ignore", process.stderr, process.stderr],
    env: { ...process.env, CI: "true" }
  })
  if (result.error !== undefined) return `pnpm could not be started: ${result.error.message}`
  if (result.status !== 0) return `pnpm install failed with exit code ${result.status} (see above)`
  writeFileSync(stamp, lockfile)
  return undefined
}

/** The installed version of a peer package, or `undefined`. */
export const versionOf = (name: string): string | undefined => {
  const manifest = join(peersDir, "node_modules", name, "package.json")
  if (!existsSync(manifest)) return undefined
  return (JSON.parse(readFileSync(manifest, "utf8")) as { readonly version?: string }).version
}
