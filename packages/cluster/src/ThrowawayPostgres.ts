/**
 * A throwaway PostgreSQL server for development and tests: `initdb` into a temporary directory, the server on
 * 127.0.0.1 at a free port (its unix socket in the same directory), one database, and everything stopped and removed
 * when the scope closes.
 *
 * The server binaries are found with `pg_config --bindir`, else under `/usr/lib/postgresql/VERSION/bin` (Debian puts
 * them there, off the `PATH`). PostgreSQL refuses to run as root, so when this process is root the binaries run as
 * the `postgres` user (`runuser -u postgres --`) and the directory is handed to that user. Durability is switched off
 * (`fsync`, `synchronous_commit`, `full_page_writes`): the data is thrown away anyway, and a test's wall time is
 * mostly commits.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { ThrowawayPostgres } from "@troupe/cluster"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const postgres = yield* ThrowawayPostgres.make()
 *     return postgres.url // postgres://postgres@127.0.0.1:PORT/troupe
 *   })
 * )
 * ```
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/** The server could not be set up: binaries missing, `initdb` or the start failed, or a step timed out. */
export class PostgresUnavailable extends Schema.TaggedError<PostgresUnavailable>()("PostgresUnavailable", {
  step: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `PostgreSQL ${this.step}: ${this.reason}`
  }
}

/** A running throwaway server. */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/DATABASE` (trust authentication on loopback). */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly database: string
  /** The temporary directory: `data/`, `socket/` and the server's `log`. */
  readonly directory: string
}

/** Options of `make`. */
export interface Options {
  /** The database to create (default `troupe`). */
  readonly database?: string | undefined
  /** The server's `max_connections` (default 200: each runner holds a pool and a lock connection). */
  readonly maxConnections?: number | undefined
}

const commandTimeout = Duration.seconds(90)
const outputCap = 4096

// Runs a program to its end, bounded in time; its output (capped) goes into the error, never to a terminal.
const exec = (
  step: string,
  file: string,
  args: ReadonlyArray<string>,
  cwd?: string
): Effect.Effect<string, PostgresUnavailable> =>
  Effect.callback<string, PostgresUnavailable>((resume) => {
    const child = NodeChildProcess.execFile(
      file,
      args,
      { timeout: Duration.toMillis(commandTimeout), maxBuffer: 1024 * 1024, ...(cwd === undefined ? {} : { cwd }) },
      (error, stdout, stderr) => {
        if (error === null) return resume(Effect.succeed(stdout))
        const output = `${stderr}${stdout}`.trim().slice(-outputCap)
        resume(
          Effect.fail(
            new PostgresUnavailable({
              step,
              reason: `${NodePath.basename(file)} failed (${error.code ?? error.signal ?? "error"})${output === "" ? "" : `: ${output}`}`
            })
          )
        )
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const isRoot = () => process.getuid?.() === 0

// As root, every server binary runs as `postgres`: PostgreSQL will not run as root.
const asOwner = (
  step: string,
  binary: string,
  args: ReadonlyArray<string>,
  cwd: string
): Effect.Effect<string, PostgresUnavailable> =>
  isRoot() ? exec(step, "runuser", ["-u", "postgres", "--", binary, ...args], cwd) : exec(step, binary, args, cwd)

/** Where the server binaries are: `pg_config --bindir`, else the newest `/usr/lib/postgresql/N/bin`. */
export const binDirectory: Effect.Effect<string, PostgresUnavailable> = exec("pg_config", "pg_config", [
  "--bindir"
]).pipe(
  Effect.map((out) => out.trim()),
  Effect.filterOrFail(
    (dir) => NodeFs.existsSync(NodePath.join(dir, "initdb")),
    () => new PostgresUnavailable({ step: "binaries", reason: "pg_config's bindir has no initdb" })
  ),
  Effect.catch(() =>
    Effect.sync(() => {
      const base = "/usr/lib/postgresql"
      const versions = NodeFs.existsSync(base)
        ? NodeFs.readdirSync(base)
            .filter((v) => /^\d+$/.test(v) && NodeFs.existsSync(NodePath.join(base, v, "bin", "initdb")))
            .sort((a, b) => Number(b) - Number(a))
        : []
      return versions.length === 0 ? undefined : NodePath.join(base, versions[0]!, "bin")
    }).pipe(
      Effect.flatMap((dir) =>
        dir === undefined
          ? Effect.fail(
              new PostgresUnavailable({
                step: "binaries",
                reason: "no PostgreSQL server binaries (initdb): install them, e.g. apt-get install -y postgresql"
              })
            )
          : Effect.succeed(dir)
      )
    )
  )
)

/** A TCP port free on 127.0.0.1 at the time of asking. */
export const freePort: Effect.Effect<number, PostgresUnavailable> = Effect.callback<number, PostgresUnavailable>(
  (resume) => {
    const server = NodeNet.createServer()
    server.once("error", (error) =>
      resume(Effect.fail(new PostgresUnavailable({ step: "port", reason: String(error) })))
    )
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(Effect.succeed(port)))
    })
  }
)

// The temporary directory, owned by `postgres` when we are root; removed with the scope.
const temporaryDirectory = Effect.acquireRelease(
  Effect.gen(function* () {
    const directory = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "troupe-pg-"))
    if (isRoot()) yield* exec("chown", "chown", ["-R", "postgres:postgres", directory])
    return directory
  }),
  (directory) => Effect.sync(() => NodeFs.rmSync(directory, { recursive: true, force: true }))
)

/**
 * Starts a throwaway server for as long as the scope lasts. Takes a few seconds (`initdb` most of it); fails with
 * `PostgresUnavailable` naming the step when the binaries are missing or a step fails or times out.
 */
export const make = (options: Options = {}): Effect.Effect<ThrowawayPostgres, PostgresUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const bin = yield* binDirectory
    const directory = yield* temporaryDirectory
    const data = NodePath.join(directory, "data")
    const socket = NodePath.join(directory, "socket")
    const database = options.database ?? "troupe"
    yield* asOwner(
      "initdb",
      NodePath.join(bin, "initdb"),
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
      directory
    )
    yield* asOwner("socket directory", "mkdir", ["-p", socket], directory)
    const port = yield* freePort
    const serverOptions = [
      "-h 127.0.0.1",
      `-p ${port}`,
      `-k ${socket}`,
      `-c max_connections=${options.maxConnections ?? 200}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off"
    ].join(" ")
    const pgCtl = NodePath.join(bin, "pg_ctl")
    yield* Effect.acquireRelease(
      asOwner(
        "start",
        pgCtl,
        ["start", "-D", data, "-l", NodePath.join(directory, "log"), "-w", "-t", "60", "-o", serverOptions],
        directory
      ),
      () => Effect.ignore(asOwner("stop", pgCtl, ["stop", "-D", data, "-m", "immediate", "-w", "-t", "30"], directory))
    )
    yield* asOwner(
      "createdb",
      NodePath.join(bin, "createdb"),
      ["-h", socket, "-p", String(port), "-U", "postgres", database],
      directory
    )
    return {
      url: `postgres://postgres@127.0.0.1:${port}/${database}`,
      host: "127.0.0.1",
      port,
      database,
      directory
    }
  })
