/**
 * Shared by the tools' tests: temporary directories, a workspace on one, and a way to call a tool through its
 * toolkit (parameter decoding, handler, result encoding) as the model's call would go.
 */

import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { NodeServices } from "@effect/platform-node"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Workspace from "../src/Workspace.ts"

/** A fresh temporary directory (its real path), removed when the scope closes. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "troupe-tools-")).then((dir) => Fs.realpath(dir))),
  (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)

/** A workspace directory inside a fresh temporary directory, and a sibling directory outside it. */
export const sandbox = Effect.gen(function* () {
  const base = yield* tempDir
  const root = Path.join(base, "workspace")
  const outside = Path.join(base, "outside")
  yield* Effect.promise(() => Fs.mkdir(root))
  yield* Effect.promise(() => Fs.mkdir(outside))
  const workspace = yield* Workspace.make(root).pipe(Effect.orDie)
  return { base, root, outside, workspace }
})

/** Writes `content` to `path` (relative to `dir`), creating directories. */
export const write = (dir: string, path: string, content: string | Uint8Array) =>
  Effect.promise(async () => {
    await Fs.mkdir(Path.dirname(Path.join(dir, path)), { recursive: true })
    await Fs.writeFile(Path.join(dir, path), content)
  })

/** Reads `path` (relative to `dir`) as text, or `undefined` when it does not exist. */
export const read = (dir: string, path: string) =>
  Effect.promise(() => Fs.readFile(Path.join(dir, path), "utf8").catch(() => undefined))

/** The outcome of one tool call as the model would get it. */
export interface Outcome {
  readonly isFailure: boolean
  /** The encoded result: the success value, or the failure as JSON (`{ _tag, ... }`). */
  readonly result: any
}

/** Calls `name` with `params` through a toolkit whose handlers are in context; returns the final result. */
export const call = <Tools extends Record<string, any>>(
  toolkit: Toolkit.Toolkit<Tools> | Effect.Effect<Toolkit.WithHandler<Tools>, any, any>,
  name: string,
  params: unknown
) =>
  Effect.gen(function* () {
    const tools = (yield* toolkit as any) as Toolkit.WithHandler<Record<string, any>>
    const stream = yield* tools.handle(name, params as never)
    const results = yield* Stream.runCollect(stream)
    const last = results[results.length - 1]!
    return { isFailure: last.isFailure, result: last.encodedResult as any } satisfies Outcome
  })

/** A `tool(name, params)` function calling through `toolkit` with the handlers of `handlers`. */
export const caller =
  (toolkit: Toolkit.Any, handlers: Layer.Layer<any, any, any>) =>
  (name: string, params: unknown): Effect.Effect<Outcome> =>
    call(toolkit as any, name, params).pipe(Effect.provide(handlers), Effect.orDie) as Effect.Effect<Outcome>

/** Node's file system, path and child-process services. */
export const nodeServices = NodeServices.layer

/** The workspace on `root` as a layer. */
export const workspaceLayer = (root: string) => Layer.orDie(Workspace.layer(root))
