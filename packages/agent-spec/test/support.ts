/**
 * Test support: a `FileSystem` over the real disk (`stat` and reading opened files, which is all the loader uses),
 * `Path`, and a fixed environment, so the loader runs against real files without the Node platform package.
 */
import { spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as ByteSize from "effect/ByteSize"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "effect/Path"
import * as PlatformError from "effect/PlatformError"
import type { SpecError } from "../src/index.ts"

const here = dirname(fileURLToPath(import.meta.url))

/** The repository root. */
export const root = join(here, "..", "..", "..")

/** A fixture file's path. */
export const fixture = (name: string) => join(here, "fixtures", name)

const failure = (method: string, path: string | number) => (cause: unknown) =>
  PlatformError.systemError({
    _tag: (cause as { code?: string }).code === "ENOENT" ? "NotFound" : "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    cause
  })

const typeOf = (stats: NodeFs.Stats): FileSystem.File.Type =>
  stats.isFile()
    ? "File"
    : stats.isDirectory()
      ? "Directory"
      : stats.isFIFO()
        ? "FIFO"
        : stats.isCharacterDevice()
          ? "CharacterDevice"
          : stats.isBlockDevice()
            ? "BlockDevice"
            : stats.isSocket()
              ? "Socket"
              : "Unknown"

const info = (stats: NodeFs.Stats): FileSystem.File.Info => ({
  type: typeOf(stats),
  mtime: Option.some(stats.mtime),
  atime: Option.some(stats.atime),
  birthtime: Option.some(stats.birthtime),
  dev: BigInt(stats.dev),
  ino: Option.some(BigInt(stats.ino)),
  mode: stats.mode,
  nlink: Option.some(BigInt(stats.nlink)),
  uid: Option.some(stats.uid),
  gid: Option.some(stats.gid),
  rdev: Option.some(BigInt(stats.rdev)),
  size: ByteSize.bytes(stats.size),
  blksize: Option.none(),
  blocks: Option.none()
})

const unsupported = (method: string) =>
  Effect.fail(PlatformError.badArgument({ module: "FileSystem", method, description: "not in the test file system" }))

const file = (fd: number, path: string): FileSystem.File => {
  let position = 0
  return {
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    stat: Effect.try({ try: () => info(NodeFs.fstatSync(fd)), catch: failure("stat", path) }),
    seek: () => unsupported("seek"),
    sync: unsupported("sync"),
    read: () => unsupported("read"),
    readAlloc: (size: number) =>
      Effect.try({
        try: () => {
          const buffer = new Uint8Array(size)
          const read = NodeFs.readSync(fd, buffer, 0, size, position)
          position += read
          return read === 0 ? Option.none() : Option.some(buffer.subarray(0, read))
        },
        catch: failure("readAlloc", path)
      }),
    truncate: () => unsupported("truncate"),
    write: () => unsupported("write"),
    writeAll: () => unsupported("writeAll")
  } as unknown as FileSystem.File
}

/** How many times the loader opened each path, for tests that check a file is read once. */
export const opened = new Map<string, number>()

/** Real `stat` and reads of opened files; every other operation is a no-op. */
export const diskFileSystem = FileSystem.layerNoop({
  stat: (path) => Effect.try({ try: () => info(NodeFs.statSync(path)), catch: failure("stat", path) }),
  // Opening a FIFO would block the test run for good, and reading /dev/zero would never end: opening anything but
  // a regular file is a defect of the loader, reported as such.
  open: (path) =>
    Effect.suspend(() =>
      NodeFs.existsSync(path) && !NodeFs.statSync(path).isFile()
        ? Effect.die(new Error(`the loader opened ${path}, which is not a regular file`))
        : Effect.void
    ).pipe(
      Effect.andThen(
        Effect.acquireRelease(
          Effect.try({ try: () => NodeFs.openSync(path, "r"), catch: failure("open", path) }),
          (fd) => Effect.sync(() => NodeFs.closeSync(fd))
        )
      ),
      Effect.map((fd) => {
        opened.set(path, (opened.get(path) ?? 0) + 1)
        return file(fd, path)
      })
    )
})

/** The disk, `Path`, and an environment of three variables. */
export const diskLayer = Layer.mergeAll(
  diskFileSystem,
  Path.layer,
  ConfigProvider.layer(ConfigProvider.fromEnvRecord({ TROUPE_MODEL: "gpt-5-mini", TROUPE_STEPS: "12", EMPTY: "" }))
)

/** The disk and `Path` with `env` as the whole environment. */
export const layerWithEnv = (env: Record<string, string>) =>
  Layer.mergeAll(diskFileSystem, Path.layer, ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))

/** A problem as `LINE:COL` for compact assertions. */
export const at = (problem: SpecError.SpecProblem) => `${problem.line}:${problem.col}`

const packageRoot = join(here, "..")

/**
 * Loads `file` with `SpecLoader.load` in a fresh Node process whose whole environment is `env` (so that
 * `/proc/self/environ` holds exactly it), returning what the process printed: the error's lines, or `ok`.
 */
export const loadInChild = (
  file: string,
  env: Record<string, string>
): { readonly status: number; readonly output: string } => {
  const code = [
    'import * as Effect from "effect/Effect"',
    'import { SpecLoader } from "./src/index.ts"',
    'import { diskLayer } from "./test/support.ts"',
    "const exit = await Effect.runPromiseExit(Effect.flip(SpecLoader.load(process.argv[1])).pipe(Effect.provide(diskLayer)))",
    'console.log(exit._tag === "Success" ? exit.value.message : "ok")'
  ].join("\n")
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", code, file], {
    cwd: packageRoot,
    env,
    encoding: "utf8"
  })
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` }
}
