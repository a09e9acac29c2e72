/**
 * What `troupe init [DIR] [--json]` does: writes the scaffold of `InitTemplates` into DIR (default: the current
 * directory), never replacing a file that is there.
 *
 * Each file is created with `O_EXCL` (flag `wx`), so a file, a directory or a symbolic link already at a path is
 * kept as it is, even one that appeared after the command started. Prints `wrote PATH` or `kept PATH (it exists)`
 * per file, then what to run next; with `--json`, one object `{ directory, written, kept }` as the last line.
 * Exit codes: 0 (also when everything was kept), 1 a file could not be written, 2 DIR is not a directory.
 */
import * as NodePath from "node:path"
import { JsonSchema } from "@troupe/agent-spec"
import { TerminalText } from "@troupe/providers"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type * as PlatformError from "effect/PlatformError"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as InitTemplates from "./InitTemplates.ts"

/** The options of `troupe init`. */
export interface Input {
  readonly directory: string
  readonly json: boolean
}

/** The JSON line printed with `--json`: paths relative to `directory`. */
export interface JsonResult {
  readonly directory: string
  readonly written: ReadonlyArray<string>
  readonly kept: ReadonlyArray<string>
}

const print = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))

// "PermissionDenied" → "permission denied": the kind of failure, never more of the system's message than that.
const words = (tag: string): string => tag.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()

const cannot = (what: string, error: PlatformError.PlatformError, inTheWay = false) =>
  new CliExit({
    code: ExitCode.failed,
    message: `cannot write ${what}: ${
      inTheWay && error.reason._tag === "AlreadyExists" ? "a file is in the way" : words(error.reason._tag)
    }`
  })

const isAlreadyThere = (error: PlatformError.PlatformError): boolean => error.reason._tag === "AlreadyExists"

/** Writes the scaffold. */
export const run = (input: Input) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const directory = NodePath.resolve(input.directory)
    const info = yield* Effect.result(fs.stat(directory))
    if (info._tag === "Success" && info.success.type !== "Directory") {
      return yield* new CliExit({ code: ExitCode.badInput, message: `${input.directory} is not a directory` })
    }
    const written: Array<string> = []
    const kept: Array<string> = []
    for (const template of InitTemplates.all(JsonSchema.agentSchemaText())) {
      const target = NodePath.join(directory, template.path)
      const shown = NodePath.join(input.directory, template.path)
      yield* fs
        .makeDirectory(NodePath.dirname(target), { recursive: true })
        .pipe(Effect.mapError((error) => cannot(NodePath.dirname(shown), error, true)))
      const outcome = yield* Effect.result(fs.writeFileString(target, template.text, { flag: "wx" }))
      if (outcome._tag === "Success") {
        written.push(template.path)
        if (!input.json) yield* print(`wrote ${shown}`)
      } else if (isAlreadyThere(outcome.failure)) {
        kept.push(template.path)
        if (!input.json) yield* print(`kept ${shown} (it exists)`)
      } else {
        return yield* cannot(shown, outcome.failure)
      }
    }
    if (input.json) {
      const result: JsonResult = { directory, written, kept }
      return yield* print(JSON.stringify(result))
    }
    const spec = NodePath.join(input.directory, "agents/assistant.yaml")
    yield* print(`next: troupe validate ${spec}`)
    yield* print(`      troupe run ${spec} --goal "..." (a provider configured as in .env.example)`)
  })
