/**
 * Test support for the cluster: a throwaway PostgreSQL, a fake OpenAI server on 127.0.0.1 answering as a scripted
 * agent would, specs that name it as their provider, and a runner and a client in the test's own process.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AgentSpec } from "@troupe/agent-spec"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Client from "../src/Client.ts"
import * as Runner from "../src/Runner.ts"
import * as ThrowawayPostgres from "../src/ThrowawayPostgres.ts"

/** A temp dir removed with the scope. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const schemaName = (request: FakeServer.Received) =>
  (request.body as { response_format?: { json_schema?: { name?: string } } }).response_format?.json_schema?.name

/** The messages of a chat request. */
export const messages = (request: FakeServer.Received) =>
  (request.body as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? []

/** The goal's word after "key", the way the fake model reads its task. */
export const keyOf = (request: FakeServer.Received) =>
  /key ([a-z0-9-]+)/.exec(JSON.stringify(messages(request)))?.[1] ?? "unknown"

/**
 * The fake model: no plan; when the goal says "run KEY", one `shell_run` of `node record.mjs KEY`; an answer naming
 * the key; a reflection saying done, or giving up when the goal says "give up".
 */
export const model = FakeOpenAi.make({
  turns: (request) => {
    const key = keyOf(request)
    const goal = JSON.stringify(messages(request))
    const name = schemaName(request)
    if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
    if (name === "reflection") {
      return {
        text: JSON.stringify(
          goal.includes("give up")
            ? { outcome: "give-up", reasoning: "cannot", progress: [] }
            : { outcome: "done", reasoning: "done", progress: [], answer: `answered ${key}` }
        )
      }
    }
    if (goal.includes("run ") && !messages(request).some((m) => m.role === "tool")) {
      return { toolCalls: [{ name: "shell_run", arguments: { command: "node", args: ["record.mjs", key] } }] }
    }
    return { text: `answered ${key}` }
  }
})

/** A spec whose model is the fake server at `url`. */
export const spec = (url: string, input: Record<string, unknown> = {}): AgentSpec.AgentSpec =>
  Schema.decodeUnknownSync(
    AgentSpec.AgentSpec,
    AgentSpec.parseOptions
  )({
    name: "worker",
    memory: { enabled: false },
    providers: { fake: { kind: "openai", baseUrl: url } },
    model: { provider: "fake", model: "gpt-test" },
    limits: { maxSteps: 6 },
    ...input
  })

/** What a test cluster is made of. */
export class TestCluster extends Context.Service<
  TestCluster,
  {
    readonly postgres: ThrowawayPostgres.ThrowawayPostgres
    readonly workspace: string
    readonly model: FakeServer.FakeServer
  }
>()("@troupe/cluster/test/TestCluster") {}

/**
 * A throwaway PostgreSQL, the fake model, a workspace, one runner in this process (approving nothing) and a client:
 * `TestCluster` and `Client.Client`.
 */
export const layer = Layer.unwrap(
  Effect.gen(function* () {
    const postgres = yield* ThrowawayPostgres.make()
    const workspace = yield* tempDir("troupe-cluster-")
    const server = yield* model
    const port = yield* ThrowawayPostgres.freePort
    const runner = Runner.layer({ postgres: postgres.url, port, workspace })
    return Layer.mergeAll(
      Layer.succeed(TestCluster, { postgres, workspace, model: server }),
      Client.layer({ postgres: postgres.url }).pipe(Layer.provide(runner))
    )
  })
)
