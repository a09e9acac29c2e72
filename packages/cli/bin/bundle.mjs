/**
 * Where the bundled build of the command lives and whether it is current: a build of `src/Main.ts` in one file (and a
 * chunk per command, loaded when it runs) starts several times faster than the sources, whose hundreds of modules Node
 * must each resolve, read, strip of types and compile (`pnpm bench cli`).
 *
 * A build is kept under `packages/cli/node_modules/.cache/troupe/<fingerprint>/`, where the fingerprint covers every
 * source file of the workspace's packages (path, size, modification time), each package's manifest, the lockfile and
 * Node's version: a changed source means another fingerprint, so a stale build is never run, only left for
 * `src/BundleBuild.ts` to remove.
 *
 * Plain JavaScript with Node's modules only, like the launcher beside it: loading TypeScript starts Node's type
 * stripper, which costs more than the whole start of the build (`bundle.d.mts` gives its types to the TypeScript side).
 */
import { createHash } from "node:crypto"
import { existsSync, readdirSync, statSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** The workspace root, with a trailing slash. */
export const root = fileURLToPath(new URL("../../../", import.meta.url))

/** The command's program, which the build bundles and the launcher runs when there is no current build. */
export const mainSource = fileURLToPath(new URL("../src/Main.ts", import.meta.url))

/** Where builds are kept, one directory per fingerprint. */
export const cacheDirectory = `${root}packages/cli/node_modules/.cache/troupe`

/** The entry file of the build with this fingerprint. */
export const entryOf = (fingerprint) => `${cacheDirectory}/${fingerprint}/troupe.mjs`

const stamp = (path) => {
  const info = statSync(path, { throwIfNoEntry: false })
  return info === undefined ? `${path} -\n` : `${path} ${info.size} ${info.mtimeMs}\n`
}

/**
 * The fingerprint of the sources as they are now (a few milliseconds for 200 files): every file under
 * `packages/NAME/src`, every `packages/NAME/package.json`, `pnpm-lock.yaml` and the Node version.
 */
export const fingerprint = () => {
  const hash = createHash("sha256").update(`${process.version}\n`)
  hash.update(stamp(`${root}pnpm-lock.yaml`))
  const packages = `${root}packages`
  for (const name of readdirSync(packages).sort()) {
    hash.update(stamp(`${packages}/${name}/package.json`))
    const src = `${packages}/${name}/src`
    if (!existsSync(src)) continue
    const files = readdirSync(src, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => `${entry.parentPath}/${entry.name}`)
      .sort()
    for (const file of files) hash.update(stamp(file))
  }
  return hash.digest("hex").slice(0, 24)
}
