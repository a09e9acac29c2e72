/**
 * Where the bundled build of the command lives and whether it is current: a single-file build of `Main.ts` (and a few
 * chunks loaded when their command runs) starts several times faster than the sources, whose hundreds of modules
 * Node must each resolve, read, strip of types and compile (`pnpm bench cli`).
 *
 * A build is kept under `packages/cli/node_modules/.cache/troupe/<fingerprint>/`, where the fingerprint covers every
 * source file of the workspace's packages (path, size, modification time), each package's manifest, the lockfile and
 * Node's version: a changed source means another fingerprint, so a stale build is never run, only left for
 * `BundleBuild` to remove. Only Node's own modules are used here: this runs before anything else is loaded.
 */
import { createHash } from "node:crypto"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The workspace root. */
export const root: string = fileURLToPath(new URL("../../../", import.meta.url))

/** The command's program, which the build bundles and the launcher runs when there is no current build. */
export const mainSource: string = fileURLToPath(new URL("./Main.ts", import.meta.url))

/** Where builds are kept, one directory per fingerprint. */
export const cacheDirectory: string = join(root, "packages/cli/node_modules/.cache/troupe")

/** The entry file of the build with this fingerprint. */
export const entryOf = (fingerprint: string): string => join(cacheDirectory, fingerprint, "troupe.mjs")

const stamp = (path: string): string => {
  const info = statSync(path, { throwIfNoEntry: false })
  return info === undefined ? `${path} -\n` : `${path} ${info.size} ${info.mtimeMs}\n`
}

/**
 * The fingerprint of the sources as they are now (about 10 ms for 200 files): every file under `packages/STAR/src`,
 * every `packages/STAR/package.json`, `pnpm-lock.yaml` and the Node version.
 */
export const fingerprint = (): string => {
  const hash = createHash("sha256").update(`${process.version}\n`)
  hash.update(stamp(join(root, "pnpm-lock.yaml")))
  const packages = join(root, "packages")
  for (const name of readdirSync(packages).sort()) {
    hash.update(stamp(join(packages, name, "package.json")))
    const src = join(packages, name, "src")
    if (!existsSync(src)) continue
    const files = readdirSync(src, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort()
    for (const file of files) hash.update(stamp(file))
  }
  return hash.digest("hex").slice(0, 24)
}
