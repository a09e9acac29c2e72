import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as McpClient from "effect/ai/McpClient"
import * as McpProtocol from "effect/ai/McpProtocol"
import * as Effect from "effect/Effect"
import { AgentTools } from "../src/index.ts"
import { request, services, startServer, tempDirs, token } from "./support.ts"

const connect = (url: string, headers: Record<string, string>) =>
  McpClient.http({ url: `${url}${AgentTools.path}`, protocol: McpProtocol.v2025_11_25, headers }).pipe(
    Effect.flatMap((transport) =>
      McpClient.make({ name: "test-client", version: "1.0.0", timeout: "10 seconds" }).pipe(
        Effect.provideService(McpClient.Transport, transport)
      )
    )
  )

const textOf = (result: { readonly content: ReadonlyArray<unknown> }) =>
  result.content.map((part) => (part as { readonly text?: string }).text ?? "").join("")

describe("troupe serve: the team's agents over MCP", () => {
  it.live("an MCP client lists the members and team_goal, and hands a task to a member that does it", () =>
    Effect.gen(function* () {
      const dirs = yield* tempDirs
      const context = yield* services(dirs.work)
      const server = yield* startServer(dirs).pipe(Effect.provide(context))
      const client = yield* connect(server.url, { authorization: `Bearer ${token}` }).pipe(Effect.provide(context))
      const tools = yield* client.listTools()
      assert.deepStrictEqual(tools.map((t) => t.name).sort(), ["checker", AgentTools.teamTool, "writer"])
      const writer = tools.find((t) => t.name === "writer")!
      assert.match(writer.description ?? "", /Writes notes/)
      assert.deepStrictEqual(Object.keys((writer.inputSchema as { properties: object }).properties), ["task"])

      const result = yield* client.callTool({ tool: writer, arguments: { task: "Write notes/hello.md" } })
      assert.notStrictEqual(result.isError, true)
      assert.include(textOf(result), "Wrote notes/hello.md")
      assert.strictEqual(readFileSync(join(dirs.work, "notes/hello.md"), "utf8"), "Hello.")
      // The task was a job like any other, submitted as the name of the client's token.
      const jobs = JSON.parse((yield* request(`${server.url}/jobs`, { token })).body) as Array<any>
      assert.deepStrictEqual(
        jobs.map((j) => [j.kind, j.name, j.state, j.submittedBy]),
        [["agent", "writer", "done", "ana"]]
      )

      const team = tools.find((t) => t.name === AgentTools.teamTool)!
      const report = yield* client.callTool({ tool: team, arguments: { goal: "Write a note and check it" } })
      assert.notStrictEqual(report.isError, true, textOf(report))
      const text = textOf(report)
      assert.include(text, "write (writer): Write — Wrote notes/hello.md")
      assert.include(text, "check (checker): Check — The note reads well")

      // A bad argument is refused by the schema, not run.
      const bad = yield* Effect.result(client.callTool({ tool: writer, arguments: { task: "" } }))
      assert.isTrue(bad._tag === "Failure" || bad.success.isError === true)
    }).pipe(Effect.scoped)
  )

  it.live("the MCP endpoint refuses a client without the token, or with a wrong one", () =>
    Effect.gen(function* () {
      const dirs = yield* tempDirs
      const context = yield* services(dirs.work)
      const server = yield* startServer(dirs).pipe(Effect.provide(context))
      for (const headers of [{}, { authorization: "Bearer not-the-token-at-all" }]) {
        const refused = yield* Effect.flip(connect(server.url, headers).pipe(Effect.provide(context)))
        assert.match(String(refused.message ?? refused), /401/)
      }
      // A raw JSON-RPC request gets 401 too.
      const raw = yield* request(`${server.url}${AgentTools.path}`, {
        method: "POST",
        body: { jsonrpc: "2.0", id: 1, method: "initialize", params: {} }
      })
      assert.strictEqual(raw.status, 401)
    }).pipe(Effect.scoped)
  )
})
