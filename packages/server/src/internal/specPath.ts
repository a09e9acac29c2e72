/**
 * Where a spec named by a request may be: a regular file under the server's spec directory, reached without leaving
 * it (no absolute path, no `..`, no symbolic link out). The error never repeats the name or says what is there.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import { InvalidRequest } from "../ServerApi.ts"

/** The real path of `name` under `specRoot`, or `InvalidRequest`. */
export const insideRoot = (specRoot: string, name: string): Effect.Effect<string, InvalidRequest> => {
  const refused = new InvalidRequest({ message: "the spec must be a file under the server's spec directory" })
  return Effect.try({
    try: () => {
      if (name.includes("\0") || NodePath.isAbsolute(name)) return undefined
      const root = NodeFs.realpathSync.native(specRoot)
      const real = NodeFs.realpathSync.native(NodePath.resolve(root, name))
      const relative = NodePath.relative(root, real)
      if (relative === "" || relative.startsWith("..") || NodePath.isAbsolute(relative)) return undefined
      return NodeFs.statSync(real).isFile() ? real : undefined
    },
    catch: () => refused
  }).pipe(Effect.flatMap((real) => (real === undefined ? Effect.fail(refused) : Effect.succeed(real))))
}
