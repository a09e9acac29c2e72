import * as Http from "node:http"
import { createRequire } from "node:module"
import type { AddressInfo } from "node:net"
import * as Path from "node:path"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as McpTools from "../src/McpTools.ts"
import { nodeServices, tempDir, write } from "./support.ts"

const require = createRequire(import.meta.url)
const filesystemServer = require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js")

const services = Layer.mergeAll(nodeServices, NodeHttpClient.layerUndici)

const options = (overrides: Partial<McpTools.Options>): McpTools.Options => ({
  server: "fs",
  args: [],
  env: {},
  timeout: Duration.seconds(20),
  ...overrides
})

// A minimal stdio MCP server: a tool whose name has a dot, one that never answers, and one that reports an error.
const handMadeServer = `
const readline = require("node:readline")
const send = (m) => process.stdout.write(JSON.stringify(m) + "\\n")
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line)
  if (m.method === "initialize") send({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "hand", version: "1" } } })
  else if (m.method === "tools/list") send({ jsonrpc: "2.0", id: m.id, result: { tools: [
    { name: "dotted.name", description: "echo", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
    { name: "hang", inputSchema: { type: "object" } },
    { name: "broken", inputSchema: { type: "object" } },
    { name: "${"x".repeat(80)}", inputSchema: { type: "object" } }
  ] } })
  else if (m.method === "tools/call" && m.params.name === "dotted.name") send({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: "echo: " + m.params.arguments.text + " key=" + (process.env.OPENAI_API_KEY ?? "none") + " given=" + process.env.GIVEN }] } })
  else if (m.method === "tools/call" && m.params.name === "broken") send({ jsonrpc: "2.0", id: m.id, result: { isError: true, content: [{ type: "text", text: "it broke" }] } })
})
`

// An MCP server over streamable HTTP on 127.0.0.1, stateless: a fresh server and transport per request.
const httpServer = Effect.acquireRelease(
  Effect.callback<{ url: string; close: () => void }>((resume) => {
    const mcp = () => {
      const server = new Server({ name: "http-test", version: "1" }, { capabilities: { tools: {} } })
      server.setRequestHandler(ListToolsRequestSchema, async () => ({
        tools: [
          {
            name: "add",
            description: "Adds",
            inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } }
          }
        ]
      }))
      server.setRequestHandler(CallToolRequestSchema, async (request) => {
        const args = request.params.arguments as { a: number; b: number }
        return { content: [{ type: "text", text: String(args.a + args.b) }] }
      })
      return server
    }
    const http = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c) => chunks.push(c))
      req.on("end", () => {
        const server = mcp()
        const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true })
        res.on("close", () => {
          void transport.close()
          void server.close()
        })
        const body = chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString())
        void server.connect(transport).then(() => transport.handleRequest(req, res, body))
      })
    })
    http.listen(0, "127.0.0.1", () =>
      resume(
        Effect.succeed({
          url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
          close: () => http.close()
        })
      )
    )
  }),
  (s) => Effect.sync(() => s.close())
)

describe("McpTools", () => {
  it("names tools SERVER__TOOL for the model and SERVER.TOOL for policies", () => {
    assert.strictEqual(McpTools.wireName("github", "create_issue"), "github__create_issue")
    assert.strictEqual(McpTools.policyName("github", "create_issue"), "github.create_issue")
    assert.strictEqual(McpTools.wireName("s", "a.b c/d"), "s__a_b_c_d")
    const long = McpTools.wireName("server", "y".repeat(100))
    assert.strictEqual(long.length, 64)
    assert.notStrictEqual(long, McpTools.wireName("server", `${"y".repeat(99)}z`))
    assert.match(long, /^[a-zA-Z0-9_-]{1,64}$/u)
  })

  it.live("offers and calls the tools of @modelcontextprotocol/server-filesystem over stdio", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* write(dir, "notes/todo.txt", "buy milk")
      const server = yield* McpTools.connect(options({ command: process.execPath, args: [filesystemServer, dir] }), dir)
      const names = server.tools.map((t) => t.wireName)
      assert.include(names, "fs__read_text_file")
      assert.include(names, "fs__list_directory")
      for (const name of names) assert.match(name, /^[a-zA-Z0-9_-]{1,64}$/u)
      const list = server.tools.find((t) => t.wireName === "fs__list_directory")!
      assert.strictEqual(list.policyName, "fs.list_directory")
      assert.include(yield* list.handler({ path: Path.join(dir, "notes") }), "todo.txt")
      const read = server.tools.find((t) => t.wireName === "fs__read_text_file")!
      assert.strictEqual(yield* read.handler({ path: Path.join(dir, "notes/todo.txt") }), "buy milk")
      const outside = yield* Effect.flip(read.handler({ path: "/etc/hostname" }))
      assert.strictEqual(outside._tag, "McpToolFailed")
      assert.strictEqual(outside.tool, "fs.read_text_file")
      const notObject = yield* Effect.flip(read.handler(["a"]))
      assert.strictEqual(notObject.reason, "arguments must be a JSON object")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("keeps only the allowed tools", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const server = yield* McpTools.connect(
        options({
          command: process.execPath,
          args: [filesystemServer, dir],
          allow: ["read_text_file", "fs.list_directory"]
        }),
        dir
      )
      assert.deepStrictEqual(server.tools.map((t) => t.wireName).sort(), ["fs__list_directory", "fs__read_text_file"])
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live(
    "maps dotted names, bounds a call by the timeout, returns server errors, and scrubs the server's environment",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        yield* write(dir, "server.cjs", handMadeServer)
        process.env.OPENAI_API_KEY = "sk-fake-mcp-0001"
        const server = yield* McpTools.connect(
          options({
            server: "hand",
            command: process.execPath,
            args: [Path.join(dir, "server.cjs")],
            env: { GIVEN: "yes" },
            timeout: Duration.millis(500)
          }),
          dir
        ).pipe(Effect.ensuring(Effect.sync(() => delete process.env.OPENAI_API_KEY)))
        const dotted = server.tools.find((t) => t.policyName === "hand.dotted.name")!
        assert.strictEqual(dotted.wireName, "hand__dotted_name")
        assert.strictEqual(yield* dotted.handler({ text: "hi" }), "echo: hi key=none given=yes")
        const hang = server.tools.find((t) => t.policyName === "hand.hang")!
        const started = Date.now()
        const timedOut = yield* Effect.flip(hang.handler({}))
        assert.include(timedOut.reason, "TimeoutError")
        assert.isBelow(Date.now() - started, 5_000)
        const broken = server.tools.find((t) => t.policyName === "hand.broken")!
        assert.deepInclude(yield* Effect.flip(broken.handler({})), { tool: "hand.broken", reason: "it broke" })
        const long = server.tools.find((t) => t.policyName.startsWith("hand.xxx"))!
        assert.strictEqual(long.wireName.length, 64)
      }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("calls the tools of a server over streamable HTTP", () =>
    Effect.gen(function* () {
      const { url } = yield* httpServer
      const server = yield* McpTools.connect(options({ server: "calc", url }), "/")
      const add = server.tools.find((t) => t.wireName === "calc__add")!
      assert.strictEqual(add.policyName, "calc.add")
      assert.strictEqual(yield* add.handler({ a: 2, b: 3 }), "5")
    }).pipe(Effect.scoped, Effect.provide(services))
  )

  it.live("fails to connect to a server that cannot start", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const failed = yield* Effect.flip(
        McpTools.connect(options({ command: "/nonexistent/mcp-server", timeout: Duration.seconds(2) }), dir)
      )
      assert.strictEqual(failed._tag, "McpConnectError")
      assert.strictEqual(failed.server, "fs")
    }).pipe(Effect.scoped, Effect.provide(services))
  )
})
