/**
 * Test support: a `FileSystem` over the real disk (reads only), `Path`, and a fixed environment, so the loader
 * runs against real files without the Node platform package.
 */
import { readFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Path from "effect/Path"
import * as PlatformError from "effect/PlatformError"
import type { SpecError } from "../src/index.ts"

const here = dirname(fileURLToPath(import.meta.url))

/** The repository root. */
export const root = join(here, "..", "..", "..")

/** A fixture file's path. */
export const fixture = (name: string) => join(here, "fixtures", name)

/** Reads real files; every other operation is a no-op. */
export const diskLayer = Layer.mergeAll(
  FileSystem.layerNoop({
    readFileString: (path) =>
      Effect.tryPromise({
        try: () => readFile(path, "utf8"),
        catch: (cause) =>
          PlatformError.systemError({
            _tag: "NotFound",
            module: "FileSystem",
            method: "readFileString",
            pathOrDescriptor: path,
            cause
          })
      })
  }),
  Path.layer,
  ConfigProvider.layer(ConfigProvider.fromEnvRecord({ TROUPE_MODEL: "gpt-5-mini", TROUPE_STEPS: "12", EMPTY: "" }))
)

/** A problem as `LINE:COL message-prefix` for compact assertions. */
export const at = (problem: SpecError.SpecProblem) => `${problem.line}:${problem.col}`
