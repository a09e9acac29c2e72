/**
 * The `troupe serve` command's flags; the server itself (`ServeServer.ts`) is loaded only when the command runs, so
 * that the other commands do not pay for loading the HTTP API, the MCP server and the team.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** The variable holding the bearer token(s) when `--token-env` is not given. */
export const defaultTokenEnv = "TROUPE_TOKEN"

/** The port when `--port` is not given. */
export const defaultPort = 8787

/** The `serve` command. */
export const command = Command.make(
  "serve",
  {
    team: Flag.String("team").pipe(
      Flag.withDescription(
        "The server's team file: it pursues the goals that name no file, and its agents are the MCP tools"
      ),
      Flag.optional
    ),
    specs: Flag.String("specs").pipe(
      Flag.withDescription(
        "The directory of the team files and agent specs requests may name (default: the current one)"
      ),
      Flag.optional
    ),
    workspace: Flag.String("workspace").pipe(
      Flag.withDescription("The directory the agents work in (default: the current one)"),
      Flag.optional
    ),
    host: Flag.String("host").pipe(Flag.withDescription("The address to listen on (default 127.0.0.1)"), Flag.optional),
    port: Flag.Int("port").pipe(
      Flag.withDescription(`The port to listen on (default ${defaultPort}; 0 picks a free one)`),
      Flag.optional
    ),
    tokenEnv: Flag.String("token-env").pipe(
      Flag.withDescription(
        `The variable holding the bearer token, or NAME=TOKEN pairs separated by commas (default ${defaultTokenEnv}); there is no default token`
      ),
      Flag.optional
    ),
    tlsCert: Flag.String("tls-cert").pipe(Flag.withDescription("A PEM certificate: serve HTTPS"), Flag.optional),
    tlsKey: Flag.String("tls-key").pipe(Flag.withDescription("The PEM private key of --tls-cert"), Flag.optional),
    postgres: Flag.String("postgres").pipe(
      Flag.withDescription("The PostgreSQL URL of a cluster of runners (distributed mode)"),
      Flag.optional
    ),
    concurrency: Flag.Int("concurrency").pipe(
      Flag.withDescription("Subtasks of one orchestration running at once, at most (default 4)"),
      Flag.optional
    )
  },
  (flags) =>
    Effect.flatMap(
      Effect.promise(() => import("./ServeServer.ts")),
      (implementation) =>
        implementation.run({
          team: Option.getOrUndefined(flags.team),
          specs: Option.getOrUndefined(flags.specs),
          workspace: Option.getOrUndefined(flags.workspace),
          host: Option.getOrElse(flags.host, () => "127.0.0.1"),
          port: Option.getOrElse(flags.port, () => defaultPort),
          tokenEnv: Option.getOrElse(flags.tokenEnv, () => defaultTokenEnv),
          tlsCert: Option.getOrUndefined(flags.tlsCert),
          tlsKey: Option.getOrUndefined(flags.tlsKey),
          postgres: Option.getOrUndefined(flags.postgres),
          concurrency: Option.getOrUndefined(flags.concurrency)
        })
    )
).pipe(
  Command.withDescription(
    "Serve the team over HTTP (goals, events, approvals, audit trails; OpenAPI at /openapi.json) and MCP (/mcp), behind a bearer token"
  )
)
