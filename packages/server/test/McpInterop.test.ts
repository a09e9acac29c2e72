/**
 * The MCP endpoint against the reference client, `@modelcontextprotocol/sdk` over Streamable HTTP: what another
 * framework's agent or an IDE would use.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import * as Effect from "effect/Effect"
import { AgentTools } from "../src/index.ts"
import { services, startServer, tempDirs, token } from "./support.ts"

const connect = (url: string, headers: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const client = new Client({ name: "reference-client", version: "1.0.0" })
      const transport = new StreamableHTTPClientTransport(new URL(`${url}${AgentTools.path}`), {
        requestInit: { headers }
      })
      yield* Effect.tryPromise(() => client.connect(transport))
      return client
    }),
    (client) => Effect.promise(() => client.close())
  )

describe("troupe serve: MCP with the reference client", () => {
  it.live(
    "the reference SDK lists the team's tools and hands a member a task; without the token it cannot connect",
    () =>
      Effect.gen(function* () {
        const dirs = yield* tempDirs
        const server = yield* startServer(dirs).pipe(Effect.provide(yield* services(dirs.work)))
        const client = yield* connect(server.url, { authorization: `Bearer ${token}` })
        const listed = yield* Effect.promise(() => client.listTools())
        assert.deepStrictEqual(listed.tools.map((t) => t.name).sort(), ["checker", AgentTools.teamTool, "writer"])
        const result = (yield* Effect.promise(() =>
          client.callTool({ name: "writer", arguments: { task: "Write notes/hello.md" } })
        )) as { readonly isError?: boolean; readonly content: Array<{ readonly type: string; readonly text?: string }> }
        assert.notStrictEqual(result.isError, true)
        assert.include(result.content.map((c) => c.text ?? "").join(""), "Wrote notes/hello.md")
        assert.strictEqual(readFileSync(join(dirs.work, "notes/hello.md"), "utf8"), "Hello.")

        for (const headers of [{}, { authorization: "Bearer wrong-token-0123456789" }]) {
          const refused = yield* Effect.flip(connect(server.url, headers))
          assert.match(String(refused.cause ?? refused), /401|Unauthorized/i)
        }
      }).pipe(Effect.scoped)
  )
})
