/**
 * Test support for the server: scripted members and managers (every call answered from what it is asked for), a
 * temporary state directory, workspace and spec directory, the services a server runs with, a server started on
 * 127.0.0.1 with a free port, and a small HTTP(S) client over `node:http` that reads whole bodies (SSE included).
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeHttps from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeHttpClient, NodeServices } from "@effect/platform-node"
import { AgentEvents, ApprovalStore, AuditLog } from "@troupe/agent"
import { AgentSpec, type TeamSpec } from "@troupe/agent-spec"
import { Pooled, ProviderPool } from "@troupe/providers"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import { ActorSystem } from "@troupe/runtime"
import { Workspace } from "@troupe/tools"
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { type Jobs, Server, Tokens } from "../src/index.ts"

/** The token of the tests, named `ana`; `ci` holds another. */
export const token = "ana-0123456789abcdef"
export const otherToken = "ci-fedcba9876543210"
export const tokens = Effect.runSync(
  Tokens.fromEnvironment("TROUPE_TOKEN", { TROUPE_TOKEN: `ana=${token},ci=${otherToken}` })
)

/** Decodes a spec from its YAML form, with memory off. */
export const spec = (input: Partial<AgentSpec.AgentSpecInput> & { readonly name: string }): AgentSpec.AgentSpec =>
  Schema.decodeUnknownSync(AgentSpec.AgentSpec, AgentSpec.parseOptions)({ memory: { enabled: false }, ...input })

const objectName = (request: LanguageModel.ProviderOptions): string | undefined =>
  request.responseFormat.type === "json" ? request.responseFormat.objectName : undefined

const lastRole = (prompt: Prompt.Prompt): string | undefined => prompt.content.at(-1)?.role

/** A member that plans nothing, writes its file (when it has one), answers, and reflects `done`, run after run. */
export const worker = (behaviour: {
  readonly writes?: { readonly path: string; readonly content: string }
  readonly answer: string
}) =>
  Scripted.make(
    [
      Scripted.dynamic((request) => {
        switch (objectName(request)) {
          case "plan":
            return Scripted.text(JSON.stringify({ goals: [] }))
          case "reflection":
            return Scripted.text(
              JSON.stringify({ outcome: "done", reasoning: "finished", progress: [], answer: behaviour.answer })
            )
          default:
            if (behaviour.writes !== undefined && lastRole(request.prompt) !== "tool") {
              return Scripted.toolCalls([{ name: "fs_write", params: behaviour.writes }])
            }
            return Scripted.text(behaviour.answer)
        }
      })
    ],
    { cycle: true }
  )

/** A manager answering every decomposition with `subtasks`. */
export const manager = (subtasks: ReadonlyArray<Record<string, unknown>>) =>
  Scripted.make([Scripted.dynamic(() => Scripted.text(JSON.stringify({ subtasks })))], { cycle: true })

/** A model through the pool in context, billed as `openai/gpt-5-mini`. */
export const pooled = (languageModel: LanguageModel.LanguageModel) =>
  Pooled.make({ provider: "openai", model: "gpt-5-mini", languageModel })

/** A temporary directory with `home` (the state), `work` (the workspace) and `specs` (what requests name). */
export const tempDirs = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-server-"))
    for (const sub of ["home", "work", "specs"]) mkdirSync(join(dir, sub))
    return { dir, home: join(dir, "home"), work: join(dir, "work"), specs: join(dir, "specs") }
  }),
  ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The team of the tests: a lead that decomposes, a writer that writes `notes/hello.md`, a checker. */
export const team: TeamSpec.Team = {
  name: "notes-team",
  description: "",
  manager: spec({ name: "lead", persona: "Team lead" }),
  agents: [
    spec({ name: "writer", description: "Writes notes", tools: [{ fs_write: { paths: ["notes/**"] } }] as never }),
    spec({ name: "checker", description: "Checks notes" })
  ],
  supervision: { strategy: "one-for-one", maxRestarts: 5, within: "1 minute" as never }
}

/** The scripted models of the team, and of `scribe` (an agent spec the tests write), by agent name. */
export const models = Effect.gen(function* () {
  const lead = yield* manager([
    { id: "write", title: "Write", task: "Write notes/hello.md", dependsOn: [], capabilities: [], agent: "writer" },
    { id: "check", title: "Check", task: "Check the note", dependsOn: ["write"], capabilities: [], agent: "checker" }
  ])
  const byName: Record<string, LanguageModel.LanguageModel> = {
    lead: yield* pooled(lead.languageModel),
    writer: yield* pooled(
      (yield* worker({ writes: { path: "notes/hello.md", content: "Hello." }, answer: "Wrote notes/hello.md" }))
        .languageModel
    ),
    checker: yield* pooled((yield* worker({ answer: "The note reads well" })).languageModel),
    scribe: yield* pooled(
      (yield* worker({ writes: { path: "scribe.md", content: "Scribed." }, answer: "Wrote scribe.md" })).languageModel
    )
  }
  // Any other agent a test names answers like the checker.
  return (s: AgentSpec.AgentSpec) => byName[s.name] ?? byName.checker
})

/** `scribe`: an agent spec whose `fs_write` waits for a person. */
export const scribeYaml = [
  "name: scribe",
  "memory: { enabled: false }",
  "tools: [fs_write]",
  "approvals: { tools: { fs_write: ask } }"
].join("\n")

/** The services a server runs with, its workspace in `work`, built for as long as the scope lasts. */
export const services = (work: string) => Layer.build(servicesLayer(work))

const servicesLayer = (work: string) =>
  Layer.mergeAll(
    ActorSystem.layer(),
    AgentEvents.layer,
    ProviderPool.layer(),
    NodeHttpClient.layerUndici,
    NodeServices.layer,
    Workspace.layer(work)
  )

/** A server on 127.0.0.1 with the test team, its state in `home`, named specs in `specs`. */
export const startServer = (
  dirs: { readonly home: string; readonly specs: string; readonly work: string },
  options: {
    readonly tls?: { readonly cert: string; readonly key: string }
    readonly remote?: Jobs.Remote
    readonly limits?: Pick<Jobs.Options, "maxEndedJobs" | "maxEventsTotal" | "maxEventsPerJob">
    readonly records?: string
  } = {}
) =>
  Effect.gen(function* () {
    writeFileSync(join(dirs.specs, "scribe.yaml"), scribeYaml)
    const audit = yield* AuditLog.make({ home: dirs.home, durability: "written" })
    const approvals = yield* ApprovalStore.make(join(dirs.home, "approvals"))
    const running = yield* Server.start({
      host: "127.0.0.1",
      port: 0,
      tokens,
      tls: options.tls,
      jobs: {
        team,
        specRoot: dirs.specs,
        approvals,
        audit,
        models: yield* models,
        remote: options.remote,
        records: options.records,
        ...options.limits
      }
    })
    return { ...running, audit, approvals }
  })

/** A response, its body read whole. */
export interface Reply {
  readonly status: number
  readonly headers: NodeHttp.IncomingHttpHeaders
  readonly body: string
}

/** One request over HTTP(S) with an optional bearer token and JSON body; `ca` trusts a test certificate. */
export const request = (
  url: string,
  options: {
    readonly method?: string
    readonly token?: string | undefined
    readonly authorization?: string
    readonly body?: unknown
    readonly ca?: string
  } = {}
) =>
  Effect.callback<Reply, Error>((resume) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    const headers: Record<string, string> = {}
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    if (options.authorization !== undefined) headers.authorization = options.authorization
    if (body !== undefined) headers["content-type"] = "application/json"
    const send = url.startsWith("https:") ? NodeHttps.request : NodeHttp.request
    const req = send(
      url,
      { method: options.method ?? "GET", headers, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          text += chunk
        })
        res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, body: text })))
        res.on("error", (error) => resume(Effect.fail(error)))
      }
    )
    req.on("error", (error) => resume(Effect.fail(error)))
    if (body !== undefined) req.write(body)
    req.end()
    return Effect.sync(() => req.destroy())
  })

/** The JSON `data` of each event of an SSE body. */
export const sseData = (body: string): Array<any> =>
  body
    .split("\n\n")
    .flatMap((block) =>
      block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trim())
    )
    .filter((data) => data !== "")
    .map((data) => JSON.parse(data))

/** Waits (polling, at most `tries` × 50 ms) until `check` returns a value. */
export const eventually = <A>(check: Effect.Effect<A | undefined, unknown>, tries = 400) =>
  Effect.gen(function* () {
    for (let i = 0; i < tries; i++) {
      const found = yield* check
      if (found !== undefined) return found
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.die("the condition never held")
  })

/** A self-signed certificate for 127.0.0.1 made with `openssl`. */
export const selfSigned = (dir: string) => {
  mkdirSync(dir, { recursive: true })
  const key = join(dir, "key.pem")
  const cert = join(dir, "cert.pem")
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1"
    ],
    { stdio: "ignore" }
  )
  return { key, cert }
}
