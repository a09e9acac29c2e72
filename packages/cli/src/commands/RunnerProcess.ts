/**
 * `troupe runner --postgres URL [--host H] [--port N] [--workspace DIR] [--concurrency N] [--memory DIR] [--wait] [--yes]`:
 * a runner of the distributed mode.
 *
 * It joins the cluster whose storage is the PostgreSQL database at `URL` (creating the cluster's tables the first
 * time), listens for the other runners on `--port` (a free one by default) and runs the agent tasks placed on its
 * shards until it is stopped (Ctrl-C hands its shards to the other runners). It prints `runner HOST:PORT ready`
 * once it has joined, then one line as each task starts and ends. Each task's run writes its audit trail under
 * `$TROUPE_HOME/runs/<taskId>/` (`troupe audit TASK_ID --verify` there). Calls a spec's policy asks about are denied
 * (no one is at a runner to ask) unless `--yes` approves them or, with `--wait`, they wait in the cluster's
 * PostgreSQL for `troupe approvals approve|deny ID --postgres URL` from any machine that reaches it (`ApprovalTable`).
 * With `--memory DIR` the agents whose spec enables memory remember and recall in that LanceDB directory (with the
 * local embedder, as `troupe run`); runners may share one directory, and each reads the others' writes before every
 * recall, so a task recalls what a task on another runner remembered. Without it agents run with no long-term memory.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { AuditLog } from "@troupe/agent"
import { ApprovalTable, Runner, ThrowawayPostgres } from "@troupe/cluster"
import { KnowledgeBase, Memory } from "@troupe/memory"
import { LocalEmbedder, TerminalText } from "@troupe/providers"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as TroupeHome from "../TroupeHome.ts"

/** The options of `troupe runner`. */
export interface Input {
  readonly postgres: string
  readonly host: string | undefined
  readonly port: number | undefined
  readonly workspace: string | undefined
  readonly concurrency?: number | undefined
  readonly memory?: string | undefined
  readonly wait?: boolean | undefined
  readonly yes: boolean
}

const line = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))

// The URL may hold a password: only its host and database are ever printed.
const describeUrl = (url: URL) => `${url.hostname}:${url.port === "" ? "5432" : url.port}${url.pathname}`

/** Runs `troupe runner` until interrupted. */
export const run = (input: Input) =>
  Effect.gen(function* () {
    const url = URL.canParse(input.postgres) ? new URL(input.postgres) : undefined
    if (url === undefined || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: "--postgres must be a PostgreSQL URL: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
      })
    }
    if (input.port !== undefined && (input.port < 1 || input.port > 65535)) {
      return yield* new CliExit({ code: ExitCode.badInput, message: `--port ${input.port} is not a TCP port` })
    }
    if (input.concurrency !== undefined && input.concurrency < 1) {
      return yield* new CliExit({ code: ExitCode.badInput, message: "--concurrency must be at least 1" })
    }
    const workspace = NodePath.resolve(input.workspace ?? ".")
    if (!NodeFs.existsSync(workspace) || !NodeFs.statSync(workspace).isDirectory()) {
      return yield* new CliExit({ code: ExitCode.badInput, message: `--workspace ${workspace} is not a directory` })
    }
    const memoryDirectory = input.memory === undefined ? undefined : NodePath.resolve(input.memory)
    if (
      memoryDirectory !== undefined &&
      NodeFs.existsSync(memoryDirectory) &&
      !NodeFs.statSync(memoryDirectory).isDirectory()
    ) {
      return yield* new CliExit({ code: ExitCode.badInput, message: `--memory ${memoryDirectory} is not a directory` })
    }
    const host = input.host ?? "127.0.0.1"
    const port = input.port ?? (yield* Effect.orDie(ThrowawayPostgres.freePort))
    const audit = yield* AuditLog.AuditLog
    const approvals =
      input.wait === true
        ? yield* ApprovalTable.connect(input.postgres).pipe(
            Effect.mapError(
              (error) => new CliExit({ code: ExitCode.failed, message: `--wait: ${describeError(error)}` })
            )
          )
        : undefined
    const memory = memoryDirectory === undefined ? undefined : yield* memoryServices(memoryDirectory)
    const runner = Runner.layer({
      postgres: input.postgres,
      host,
      port,
      workspace,
      approveAsk: input.yes,
      concurrency: input.concurrency,
      onTask: (event, taskId) => line(`task ${taskId} ${event}`),
      audit,
      approvals,
      ...memory
    })
    // Storage the cluster cannot use comes out of its layers as a defect: here it is one line and exit 1.
    const joined = Layer.build(runner).pipe(
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.interrupt
          : Effect.fail(
              new CliExit({
                code: ExitCode.failed,
                message: `runner ${host}:${port} could not join the cluster at ${describeUrl(url)}: ${describeError(Cause.squash(cause))}`
              })
            )
      )
    )
    yield* Effect.scoped(
      Effect.gen(function* () {
        yield* joined
        yield* line(
          `runner ${host}:${port} ready (storage ${describeUrl(url)}, workspace ${workspace}${memoryDirectory === undefined ? "" : `, memory ${memoryDirectory}`})`
        )
        return yield* Effect.never
      })
    )
  }).pipe(
    // The memory's, closed after the runner's own.
    Effect.scoped,
    Effect.provide(TroupeHome.auditLayer),
    // The cluster's own informational logs would drown the task lines; warnings and errors still reach stderr.
    Effect.provideService(References.MinimumLogLevel, "Warn"),
    Effect.provideService(Logger.LogToStderr, true)
  )

// Tasks move between runners: a recall reads the other runners' writes to the shared directory first (about 0.1 ms).
const memoryServices = (directory: string) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      Layer.mergeAll(
        Memory.layer({ directory, refreshInterval: 0 }).pipe(Layer.provide(LocalEmbedder.layer())),
        KnowledgeBase.layer({ directory })
      )
    )
    return {
      memory: Context.get(context, Memory.Memory),
      knowledgeBase: Context.get(context, KnowledgeBase.KnowledgeBase)
    }
  }).pipe(
    Effect.mapError((error) => new CliExit({ code: ExitCode.failed, message: `--memory: ${describeError(error)}` }))
  )

// A storage or socket failure, in one line; the URL (and its password) is never part of it: the driver's messages
// name the failing step, not the connection string.
const describeError = (error: unknown): string => {
  const e = error as { readonly _tag?: string; readonly message?: string }
  const text = `${e._tag ?? "error"}${e.message === undefined || e.message === "" ? "" : `: ${e.message}`}`
  return text.split("\n")[0]!.slice(0, 300)
}
