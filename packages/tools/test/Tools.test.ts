import { createRequire } from "node:module"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ToolSpec } from "@troupe/agent-spec"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Tools from "../src/Tools.ts"
import * as TestHuman from "../src/testing/TestHuman.ts"
import * as Workspace from "../src/Workspace.ts"
import { sandbox, write } from "./support.ts"

const require = createRequire(import.meta.url)
const filesystemServer = require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js")

// Tool entries as the spec loader decodes them from YAML.
const decode = (entries: ReadonlyArray<unknown>) => Schema.decodeUnknownSync(Schema.Array(ToolSpec.ToolEntry))(entries)

const handle = (toolset: Tools.Toolset, name: string, params: unknown) =>
  Effect.gen(function* () {
    const withHandlers = yield* toolset.toolkit.pipe(Effect.provide(toolset.layer))
    const stream = yield* withHandlers.handle(name, params as never)
    const results = yield* Stream.runCollect(stream)
    const last = results[results.length - 1]!
    return { isFailure: last.isFailure, result: last.encodedResult as any }
  })

const services = Layer.mergeAll(Tools.layerNode, TestHuman.layer(["go ahead"]))

describe("Tools.toolkit", () => {
  it.live("contains exactly the listed tools, with each one's options enforced by the tool", () =>
    Effect.gen(function* () {
      const { root, workspace } = yield* sandbox
      yield* write(root, "src/a.ts", "export {}")
      yield* write(root, "secret.env", "KEY=1")
      const entries = decode([
        { fs_read: { paths: ["src/**"] } },
        "fs_write",
        { shell_run: { allow: ["echo"] } },
        "ask_human",
        "memory_recall",
        {
          mcp: { server: "files", command: process.execPath, args: [filesystemServer, root], allow: ["list_directory"] }
        }
      ])
      const toolset = yield* Tools.toolkit(entries).pipe(Effect.provideService(Workspace.Workspace, workspace))
      assert.deepStrictEqual(Object.keys(toolset.toolkit.tools), [
        "fs_read",
        "fs_write",
        "shell_run",
        "ask_human",
        "files__list_directory"
      ])
      assert.deepInclude(toolset.tools.get("files__list_directory"), {
        name: "files__list_directory",
        tool: "files.list_directory"
      })
      assert.strictEqual((yield* handle(toolset, "fs_read", { path: "src/a.ts" })).result.content, "export {}")
      assert.strictEqual((yield* handle(toolset, "fs_read", { path: "secret.env" })).result._tag, "PathRefused")
      assert.strictEqual(
        (yield* handle(toolset, "shell_run", { command: "sh", args: [] })).result._tag,
        "ProgramNotAllowed"
      )
      assert.deepStrictEqual((yield* handle(toolset, "ask_human", { question: "ok?" })).result, { answer: "go ahead" })
      const listing = yield* handle(toolset, "files__list_directory", { path: Path.join(root, "src") })
      assert.include(listing.result, "a.ts")
      // A tool the spec does not list does not exist for the agent.
      const missing = yield* Effect.flip(handle(toolset, "fs_delete", { path: "src/a.ts" }))
      assert.strictEqual((missing as any).reason._tag, "ToolNotFoundError")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.effect("asks needsApproval with the policy name, the parameters and their reversibility", () =>
    Effect.gen(function* () {
      const { workspace } = yield* sandbox
      const asked: Array<Tools.ApprovalRequest> = []
      const toolset = yield* Tools.toolkit(
        decode(["fs_read", "fs_delete", { http_fetch: { hosts: ["x.test"], methods: ["GET", "POST"] } }]),
        {
          needsApproval: (request) => {
            asked.push(request)
            return request.reversibility === "irreversible"
          }
        }
      ).pipe(Effect.provideService(Workspace.Workspace, workspace))
      const ask = (name: string, params: unknown) =>
        (toolset.toolkit.tools[name]!.needsApproval as (p: unknown, c: unknown) => boolean)(params, {
          toolCallId: `call-${name}`,
          messages: []
        })
      assert.isFalse(ask("fs_read", { path: "a" }))
      assert.isTrue(ask("fs_delete", { path: "a" }))
      assert.isFalse(ask("http_fetch", { url: "https://x.test" }))
      assert.isTrue(ask("http_fetch", { url: "https://x.test", method: "POST" }))
      assert.deepStrictEqual(asked[3], {
        tool: "http_fetch",
        name: "http_fetch",
        params: { url: "https://x.test", method: "POST" },
        reversibility: "irreversible",
        toolCallId: "call-http_fetch"
      })
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.effect("fails to build when a listed tool's service is missing", () =>
    Effect.gen(function* () {
      const { workspace } = yield* sandbox
      const failed = yield* Effect.flip(
        Tools.toolkit(decode(["mail_send"])).pipe(Effect.provideService(Workspace.Workspace, workspace))
      )
      assert.deepStrictEqual(
        { ...failed },
        { _tag: "ToolsetError", tool: "mail_send", reason: "needs a Mailer in context" }
      )
      const ok = yield* Tools.toolkit(decode(["fs_read"])).pipe(Effect.provideService(Workspace.Workspace, workspace))
      assert.deepStrictEqual(Object.keys(ok.toolkit.tools), ["fs_read"])
    }).pipe(Effect.scoped)
  )
})
