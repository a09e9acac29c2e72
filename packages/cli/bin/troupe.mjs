/**
 * The `troupe` executable (`pnpm troupe ...`): starts the command (`src/Main.ts`) as fast as it can.
 *
 * Node's compile cache is turned on first, then the bundled build of the current sources runs when there is one
 * (`bundle.mjs`); when there is none yet, the sources run and a build starts in the background, detached, for the
 * next runs (`src/BundleBuild.ts`). `TROUPE_BUNDLE=0` always runs the sources. A build that cannot be loaded falls
 * back to the sources, so a broken cache never stops the command.
 *
 * Plain JavaScript: a TypeScript entry would start Node's type stripper, which costs more than the rest of the start.
 */
import { spawn } from "node:child_process"
import { existsSync, statSync, utimes } from "node:fs"
import { enableCompileCache } from "node:module"
import { dirname } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as Bundle from "./bundle.mjs"

enableCompileCache()

const fromSources = () => import(pathToFileURL(Bundle.mainSource).href)

// At most one background build per fingerprint: none while one holds the lock, none after one failed.
const buildInBackground = (fingerprint) => {
  const lock = statSync(`${Bundle.cacheDirectory}/${fingerprint}.lock`, { throwIfNoEntry: false })
  if (lock !== undefined && Date.now() - lock.mtimeMs < 120_000) return
  if (existsSync(`${Bundle.cacheDirectory}/${fingerprint}.failed`)) return
  const builder = fileURLToPath(new URL("../src/BundleBuild.ts", import.meta.url))
  spawn(process.execPath, [builder], { detached: true, stdio: "ignore" })
    .on("error", () => {})
    .unref()
}

if (process.env.TROUPE_BUNDLE === "0") {
  void fromSources()
} else {
  const fingerprint = Bundle.fingerprint()
  const entry = Bundle.entryOf(fingerprint)
  if (existsSync(entry)) {
    // Marks the build as used, so that cleaning up after a later build keeps it while runs may still load its chunks.
    const now = new Date()
    utimes(dirname(entry), now, now, () => {})
    import(pathToFileURL(entry).href).then(undefined, fromSources)
  } else {
    buildInBackground(fingerprint)
    void fromSources()
  }
}
