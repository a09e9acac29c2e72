/**
 * Long-lived `troupe` processes for the CLI tests (a server, a runner), and requests to a server with a token.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as NodeHttp from "node:http"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { root } from "./support.ts"

const node = `${root}node_modules/.bin/node`

/**
 * A `troupe` process that stays up until killed (with the scope, by SIGKILL): `ready` resolves with the first match of
 * `pattern` in its stdout (its first group, if any), or dies with its stderr's end when it exits first; `exited` holds
 * its exit code.
 */
export const daemon = (args: ReadonlyArray<string>, env: Record<string, string>, pattern: RegExp) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child: ChildProcess = spawn(node, ["packages/cli/src/bin.ts", ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      const ready = Deferred.makeUnsafe<string>()
      const exited = Deferred.makeUnsafe<number | null>()
      const output = { stdout: "", stderr: "" }
      child.stdout!.on("data", (chunk: Buffer) => {
        output.stdout += chunk.toString("utf8")
        const match = pattern.exec(output.stdout)
        if (match !== null) Deferred.doneUnsafe(ready, Effect.succeed(match[1] ?? match[0]))
      })
      child.stderr!.on("data", (chunk: Buffer) => {
        output.stderr += chunk.toString("utf8")
      })
      child.on("close", (code) => {
        Deferred.doneUnsafe(exited, Effect.succeed(code))
        Deferred.doneUnsafe(ready, Effect.die(`exited ${code}: ${output.stderr.slice(-2000)}`))
      })
      return { child, ready, exited, output }
    }),
    ({ child }) => Effect.sync(() => void child.kill("SIGKILL"))
  )

/** A request to a server with `token` as its bearer token: the status and the body. */
export const request = (
  url: string,
  token: string,
  options: { readonly method?: string; readonly body?: unknown } = {}
) =>
  Effect.callback<{ readonly status: number; readonly body: string }, Error>((resume) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (options.body !== undefined) headers["content-type"] = "application/json"
    const req = NodeHttp.request(url, { method: options.method ?? "GET", headers }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    if (options.body !== undefined) req.write(JSON.stringify(options.body))
    req.end()
    return Effect.sync(() => req.destroy())
  })

/** `request` with `token` always: for the tests of one server. */
export const requestWith =
  (token: string) =>
  (url: string, options: { readonly method?: string; readonly body?: unknown } = {}) =>
    request(url, token, options)
