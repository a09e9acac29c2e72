/**
 * `pnpm postgres`: a throwaway PostgreSQL for development. Prints its URL (and how to start a runner on it), then
 * keeps it up until Ctrl-C, when the server is stopped and its directory removed.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as ThrowawayPostgres from "./ThrowawayPostgres.ts"

const program = Effect.scoped(
  Effect.gen(function* () {
    const postgres = yield* ThrowawayPostgres.make()
    yield* Effect.sync(() =>
      process.stdout.write(
        `${postgres.url}\n` +
          `  start runners:  pnpm troupe runner --postgres ${postgres.url}\n` +
          `  data in ${postgres.directory}, removed on Ctrl-C\n`
      )
    )
    return yield* Effect.never
  })
).pipe(
  Effect.catchTag("PostgresUnavailable", (error) =>
    Effect.sync(() => {
      process.stderr.write(`${error.message}\n`)
      process.exitCode = 1
    })
  )
)

NodeRuntime.runMain(program)
