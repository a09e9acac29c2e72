/**
 * Builds the bundled `troupe` (`bin/bundle.mjs` says where it goes and when it is current) with rolldown, and removes
 * old builds. The launcher (`bin/troupe.mjs`) starts this in the background when the sources have no build yet, so the
 * run that finds none goes on from the sources and the next ones start from the build;
 * `node packages/cli/src/BundleBuild.ts` builds in the foreground (`pnpm bench cli` does).
 *
 * Modules with native code (LanceDB, and Arrow, which LanceDB must share), nodemailer and undici (whose CommonJS
 * classes do not survive being bundled as ES modules) stay outside the build, imported by absolute path from where pnpm
 * installed them; the rest (effect, the workspace's packages, yaml) is bundled, each command's implementation in its
 * own chunk, loaded when that command runs. Every workspace module is taken to be free of side effects when imported,
 * so that a module nothing uses is left out.
 *
 * Builds are written to a temporary directory and renamed into place, under a lock file, so that concurrent runs never
 * see half a build; a build whose sources changed while it ran is thrown away. A failed build leaves
 * `<fingerprint>.failed` holding the reason, and the launcher runs from the sources until the sources change.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { PluginContext } from "rolldown"
import * as Bundle from "../bin/bundle.mjs"

/** Packages imported from where they are installed rather than bundled. */
export const unbundled: ReadonlyArray<string> = ["@lancedb/lancedb", "apache-arrow", "nodemailer", "undici"]

/**
 * A build unused for this long is removed by the next build, and so is any beyond the `keepBuilds` most recently used
 * (the launcher marks a build used each time it starts from it): a process started from an older build may still load
 * its chunks.
 */
export const keepUnusedMs = 24 * 60 * 60 * 1000

/** How many builds are kept at most, the most recently used first. */
export const keepBuilds = 8

/** A lock older than this is taken to belong to a build that died. */
export const staleLockMs = 2 * 60 * 1000

const workspacePackages = NodePath.join(Bundle.root, "packages/")

const isUnbundled = (source: string) => unbundled.some((name) => source === name || source.startsWith(`${name}/`))

const sync = <A>(what: string, f: () => A) =>
  Effect.try({ try: f, catch: (cause) => `${what}: ${cause instanceof Error ? cause.message : String(cause)}` })

const bundle = (outDir: string) =>
  Effect.flatMap(
    Effect.tryPromise({
      try: () => import("rolldown"),
      catch: () => "rolldown is not installed (a development dependency of @troupe/cli)"
    }),
    (rolldown) =>
      Effect.tryPromise({
        try: () =>
          rolldown.build({
            input: { troupe: Bundle.mainSource },
            platform: "node",
            logLevel: "silent",
            treeshake: {
              // undefined: what the package's own `sideEffects` declares (effect declares none).
              moduleSideEffects: (id: string) => (id.startsWith(workspacePackages) ? false : undefined)
            },
            plugins: [
              {
                name: "troupe-unbundled",
                resolveId: {
                  order: "pre" as const,
                  handler(this: PluginContext, source: string, importer: string | undefined) {
                    if (!isUnbundled(source)) return null
                    return this.resolve(source, importer, { skipSelf: true }).then((resolved) =>
                      resolved === null ? null : { id: resolved.id, external: "absolute" as const }
                    )
                  }
                }
              }
            ],
            output: {
              dir: outDir,
              format: "esm",
              entryFileNames: "[name].mjs",
              chunkFileNames: "[name]-[hash].mjs",
              // Without whitespace and comments there is about half as much to read at each start; names are kept,
              // so that a trace (`--verbose`) still names functions.
              minify: { compress: false, mangle: false }
            }
          }),
        catch: (cause) => `rolldown: ${cause instanceof Error ? cause.message.slice(0, 2000) : String(cause)}`
      })
  )

const removeUnused = (keep: string, now: number) =>
  sync("clean", () => {
    const builds = NodeFs.readdirSync(Bundle.cacheDirectory)
      // Locks and staging directories belong to builds that may be running; a stale lock is replaced by `lock`.
      .filter((name) => name !== keep && !name.endsWith(".lock") && !name.includes(".tmp-"))
      .map((name) => {
        const path = NodePath.join(Bundle.cacheDirectory, name)
        return { path, usedAt: NodeFs.statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 }
      })
      .sort((a, b) => b.usedAt - a.usedAt)
    builds.forEach((build, i) => {
      if (i >= keepBuilds - 1 || now - build.usedAt > keepUnusedMs) {
        NodeFs.rmSync(build.path, { recursive: true, force: true })
      }
    })
  })

/** Takes the build lock of a fingerprint; false when another live build holds it. */
const lock = (path: string, now: number) =>
  sync("lock", () => {
    const held = NodeFs.statSync(path, { throwIfNoEntry: false })
    if (held !== undefined && now - held.mtimeMs < staleLockMs) return false
    if (held !== undefined) NodeFs.rmSync(path, { force: true })
    NodeFs.writeFileSync(path, `${process.pid}\n`, { flag: "wx" })
    return true
  }).pipe(Effect.orElseSucceed(() => false))

/**
 * Builds the current sources unless their build exists; returns its entry file, or why there is none.
 */
export const build: Effect.Effect<string, string> = Effect.gen(function* () {
  const fingerprint = Bundle.fingerprint()
  const entry = Bundle.entryOf(fingerprint)
  if (NodeFs.existsSync(entry)) return entry
  yield* sync("mkdir", () => NodeFs.mkdirSync(Bundle.cacheDirectory, { recursive: true }))
  const lockFile = NodePath.join(Bundle.cacheDirectory, `${fingerprint}.lock`)
  if (!(yield* lock(lockFile, yield* Clock.currentTimeMillis)))
    return yield* Effect.fail("another build of these sources is running")
  const staging = NodePath.join(Bundle.cacheDirectory, `${fingerprint}.tmp-${process.pid}`)
  // Sources that change while the build runs make it stale before it lands: it is dropped, not recorded as failed.
  let stale = false
  return yield* Effect.gen(function* () {
    yield* bundle(staging)
    stale = Bundle.fingerprint() !== fingerprint
    if (stale) return yield* Effect.fail("the sources changed during the build")
    yield* sync("rename", () => NodeFs.renameSync(staging, NodePath.dirname(entry)))
    yield* removeUnused(fingerprint, yield* Clock.currentTimeMillis).pipe(Effect.ignore)
    return entry
  }).pipe(
    Effect.tapError((reason) =>
      (stale
        ? Effect.void
        : sync("record", () =>
            NodeFs.writeFileSync(NodePath.join(Bundle.cacheDirectory, `${fingerprint}.failed`), `${reason}\n`)
          )
      ).pipe(Effect.ignore)
    ),
    Effect.ensuring(
      Effect.sync(() => {
        NodeFs.rmSync(staging, { recursive: true, force: true })
        NodeFs.rmSync(lockFile, { force: true })
      })
    )
  )
})

if (import.meta.main) {
  NodeRuntime.runMain(
    build.pipe(
      Effect.match({
        onFailure: (reason) => {
          process.stderr.write(`troupe build: ${reason}\n`)
          return 1
        },
        onSuccess: (entry) => {
          process.stdout.write(`${entry}\n`)
          return 0
        }
      })
    ),
    {
      disableErrorReporting: true,
      teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? (exit.value as number) : 1)
    }
  )
}
