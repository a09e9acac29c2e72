/**
 * `troupe serve [--team FILE] [--specs DIR] [--workspace DIR] [--host H] [--port P] [--token-env VAR]
 * [--tls-cert FILE --tls-key FILE] [--postgres URL] [--concurrency N]`: the orchestrated mode over HTTP and MCP
 * (`@troupe/server`).
 *
 * The server's team (`--team`, none by default) pursues the goals that name no file; a request may
 * name a team file or an agent spec under `--specs` instead. The agents work in `--workspace`, with their trails and
 * approvals in `$TROUPE_HOME` as for `troupe run`: a tool call that waits for a person is listed at `GET /approvals`
 * and decided over the API (or with `troupe approvals` beside it). With `--postgres`, named agents and the teams'
 * members run on the cluster's runners (teams plan and report here), and the approvals listed and decided are the
 * cluster's (`troupe approvals --postgres` decides the same ones).
 *
 * Every request needs `Authorization: Bearer TOKEN`, the token read from `--token-env` (default `TROUPE_TOKEN`):
 * without one the server does not start (exit 2, one line naming the variable). HTTPS with `--tls-cert` and
 * `--tls-key`. Once it listens it prints one line, `troupe serve: listening on URL ...`, and serves until stopped.
 *
 * Agent runs and orchestrations are durable (`RunJournal`, as `troupe run` and `troupe orchestrate`): a server killed
 * and started again resumes the jobs of named agents and the team goals it had not finished, under their ids, without
 * repeating their journalled model calls, tool calls, approvals and decompositions (with `--postgres`, an attempt in
 * flight on a runner is waited for as the same task).
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { AuditLog } from "@troupe/agent"
import type { SpecLoader, TeamSpec } from "@troupe/agent-spec"
import { KnowledgeBase, Memory } from "@troupe/memory"
import { TerminalText } from "@troupe/providers"
import { AgentTools, type Jobs, Server, Tokens } from "@troupe/server"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as AgentServices from "../AgentServices.ts"
import * as CommandIo from "../CommandIo.ts"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as SpecFile from "../SpecFile.ts"
import * as TroupeHome from "../TroupeHome.ts"

/** The options of `troupe serve`. */
export interface Input {
  readonly team: string | undefined
  readonly specs: string | undefined
  readonly workspace: string | undefined
  readonly host: string
  readonly port: number
  readonly tokenEnv: string
  readonly tlsCert: string | undefined
  readonly tlsKey: string | undefined
  readonly postgres: string | undefined
  readonly concurrency: number | undefined
}

/** The largest certificate or key file read. */
const maxPemBytes = 1024 * 1024

const { line, errorLine } = CommandIo

const badInput = (message: string) => new CliExit({ code: ExitCode.badInput, message })

/** Reads a PEM file: a regular file, bounded; the error names the flag and the file, never what it holds. */
const readPem = (flag: string, file: string, check: (pem: string) => unknown) =>
  Effect.try({
    try: () => {
      const descriptor = NodeFs.openSync(file, NodeFs.constants.O_RDONLY | NodeFs.constants.O_NONBLOCK)
      const stat = NodeFs.fstatSync(descriptor)
      const ok = stat.isFile() && stat.size <= maxPemBytes
      const text = ok ? NodeFs.readFileSync(descriptor, "utf8") : ""
      NodeFs.closeSync(descriptor)
      if (!ok) return undefined
      check(text)
      return text
    },
    catch: () => badInput(`${flag} ${TerminalText.sanitize(file)}: not a readable PEM file of the right kind`)
  }).pipe(
    Effect.flatMap((text) =>
      text === undefined
        ? Effect.fail(badInput(`${flag} ${TerminalText.sanitize(file)}: not a regular file of at most 1 MiB`))
        : Effect.succeed(text)
    )
  )

const loadTeam = (file: string): Effect.Effect<TeamSpec.Team, CliExit, SpecLoader.Requirements> =>
  SpecFile.load(file).pipe(
    Effect.flatMap((loaded) =>
      loaded._tag === "Team"
        ? Effect.succeed(loaded.team)
        : Effect.fail(badInput(`--team ${file} is one agent, not a team: requests can name it as an agent`))
    )
  )

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

const directory = (flag: string, path: string | undefined) =>
  Effect.suspend(() => {
    const resolved = NodePath.resolve(path ?? ".")
    return NodeFs.existsSync(resolved) && NodeFs.statSync(resolved).isDirectory()
      ? Effect.succeed(resolved)
      : Effect.fail(badInput(`${flag} ${TerminalText.sanitize(resolved)} is not a directory`))
  })

/**
 * Agent runs handed to the runners of the cluster whose storage is `postgres` (`troupe runner --postgres`), each as a
 * task whose id is the job's. The cluster's client is loaded only then: its PostgreSQL driver costs the other runs
 * nothing. The URL is never printed (it may hold a password).
 */
const clusterRemote = (postgres: string) =>
  Effect.gen(function* () {
    const { AgentTask, ApprovalTable, Client, ClusterMemberRuns } = yield* Effect.promise(
      () => import("@troupe/cluster")
    )
    // Built in the server's scope: the client lives as long as the server.
    const built = yield* Layer.build(Client.layer({ postgres: Redacted.make(postgres) })).pipe(
      Effect.mapError(
        () =>
          new CliExit({
            code: ExitCode.failed,
            message: "troupe serve: --postgres: cannot reach the cluster's storage"
          })
      )
    )
    const client = Context.get(built, Client.Client)
    const remote: Jobs.Remote = {
      run: (spec, goal, runId) =>
        client.submit(AgentTask.task(runId, spec, goal)).pipe(
          Effect.map((result) => ({
            answer: result.answer,
            spend: {
              steps: result.steps,
              inputTokens: result.inputTokens,
              outputTokens: result.outputTokens,
              costUsd: result.costUsd
            }
          })),
          Effect.mapError((error) =>
            error._tag === "TaskFailed"
              ? { _tag: error.tag, message: `${error.reason} (on runner ${error.runner})` }
              : { _tag: error._tag, message: error.message }
          )
        )
    }
    // The teams' members run there too, and the approvals their tasks wait for are the cluster's: the server's
    // approval endpoints decide them.
    const memberRuns = yield* ClusterMemberRuns.make.pipe(Effect.provideService(Client.Client, client))
    const approvals = yield* ApprovalTable.connect(postgres).pipe(
      Effect.mapError(
        () =>
          new CliExit({
            code: ExitCode.failed,
            message: "troupe serve: --postgres: cannot reach the cluster's storage"
          })
      )
    )
    return { remote, memberRuns, approvals }
  })

/** Runs `troupe serve` until it is stopped. */
export const run = (input: Input) =>
  Effect.gen(function* () {
    // The token first: a server that would let anyone in never starts.
    const tokens = yield* Tokens.fromEnvironment(input.tokenEnv, process.env).pipe(
      Effect.mapError((error) =>
        badInput(
          `troupe serve: ${error.message} (export ${input.tokenEnv}=TOKEN of at least ${Tokens.minimumLength} characters, or NAME=TOKEN pairs separated by commas)`
        )
      )
    )
    if (!Number.isInteger(input.port) || input.port < 0 || input.port > 65_535) {
      return yield* badInput("--port must be from 0 to 65535")
    }
    if (input.concurrency !== undefined && input.concurrency < 1) {
      return yield* badInput("--concurrency must be at least 1")
    }
    if ((input.tlsCert === undefined) !== (input.tlsKey === undefined)) {
      return yield* badInput("--tls-cert and --tls-key go together")
    }
    const tls =
      input.tlsCert !== undefined && input.tlsKey !== undefined
        ? {
            cert: yield* readPem("--tls-cert", input.tlsCert, (pem) => new NodeCrypto.X509Certificate(pem)),
            key: yield* readPem("--tls-key", input.tlsKey, (pem) => NodeCrypto.createPrivateKey(pem))
          }
        : undefined
    if (tls !== undefined) {
      const matches = new NodeCrypto.X509Certificate(tls.cert).checkPrivateKey(NodeCrypto.createPrivateKey(tls.key))
      if (!matches) return yield* badInput("--tls-key is not the private key of --tls-cert")
    }
    const workspaceDir = yield* directory("--workspace", input.workspace)
    const specRoot = yield* directory("--specs", input.specs)
    const teamFile = input.team

    const team = teamFile === undefined ? undefined : yield* loadTeam(teamFile).pipe(Effect.provide(NodeServices.layer))
    const withMemory = [team?.manager, ...(team?.agents ?? [])].some((spec) => spec?.memory.enabled === true)
    const memoryDir = yield* TroupeHome.memoryDirectory
    const runsDir = NodePath.resolve(yield* TroupeHome.home, "runs")

    const program = Effect.gen(function* () {
      const memory = withMemory ? Option.some(yield* Memory.Memory) : Option.none()
      const knowledgeBase = withMemory ? Option.some(yield* KnowledgeBase.KnowledgeBase) : Option.none()
      const cluster = input.postgres === undefined ? undefined : yield* clusterRemote(input.postgres)
      const remote = cluster?.remote
      if (tls === undefined && !isLoopback(input.host)) {
        yield* errorLine(
          `troupe serve: warning: plain HTTP on ${TerminalText.sanitize(input.host)}: bearer tokens cross the network readable; give --tls-cert and --tls-key`
        )
      }
      const running = yield* Server.start({
        host: input.host,
        port: input.port,
        tokens,
        tls,
        jobs: {
          team,
          specRoot,
          approvals: cluster?.approvals ?? (yield* TroupeHome.approvals),
          audit: yield* AuditLog.AuditLog,
          memory: Option.getOrUndefined(memory),
          knowledgeBase: Option.getOrUndefined(knowledgeBase),
          concurrency: input.concurrency,
          remote,
          memberRuns: cluster?.memberRuns,
          records: runsDir
        }
      }).pipe(
        Effect.catchTag("TlsInvalid", (error) => Effect.fail(badInput(`troupe serve: ${error.message}`))),
        Effect.catchTag("ServeError", () =>
          Effect.fail(
            new CliExit({
              code: ExitCode.failed,
              message: `troupe serve: cannot listen on ${TerminalText.sanitize(input.host)}:${input.port} (in use, or not an address of this machine)`
            })
          )
        )
      )
      const names = running.jobs.team?.members.map((m) => m.name) ?? []
      const what =
        team === undefined ? "no team: requests name a team or an agent" : `team ${team.name}: ${names.join(", ")}`
      const mcp = team === undefined ? "" : `; MCP at ${running.url}${AgentTools.path}`
      const where = remote === undefined ? "" : "; agents run on the cluster's runners"
      yield* line(
        `troupe serve: listening on ${running.url} (${what}; OpenAPI at ${running.url}${Server.openapiPath}${mcp}${where})`
      )
      return yield* Effect.never
    })

    return yield* program.pipe(
      Effect.scoped,
      Effect.provide(
        AgentServices.layer({ workspace: workspaceDir, runs: runsDir, memory: withMemory ? memoryDir : undefined })
      )
    )
  }).pipe(
    Effect.catchTags({
      ProviderConfigError: (error: { readonly provider: string; readonly description: string }) =>
        Effect.fail(badInput(`${error.provider}: ${error.description}`)),
      ToolsetError: (error: { readonly tool: string; readonly reason: string }) =>
        Effect.fail(badInput(`tool ${error.tool}: ${error.reason}`))
    })
  )
