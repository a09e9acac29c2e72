import { existsSync } from "node:fs"
import * as NodeNet from "node:net"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as ThrowawayPostgres from "../src/ThrowawayPostgres.ts"

const accepts = (port: number) =>
  Effect.callback<boolean>((resume) => {
    const socket = NodeNet.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

describe("ThrowawayPostgres", () => {
  it.live(
    "starts a server on 127.0.0.1 with its database, and stops and removes it when the scope closes",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const postgres = yield* ThrowawayPostgres.make({ database: "cluster_test" }).pipe(Scope.provide(scope))
        assert.match(postgres.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/cluster_test$/)
        const rows = yield* Effect.gen(function* () {
          const sql = yield* PgClient.PgClient
          return yield* sql<{
            database: string
            answer: number
          }>`SELECT current_database() AS database, 6 * 7 AS answer`
        }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(postgres.url) })))
        assert.deepStrictEqual(rows, [{ database: "cluster_test", answer: 42 }])
        assert.isTrue(existsSync(postgres.directory))
        yield* Scope.close(scope, Exit.void)
        assert.isFalse(existsSync(postgres.directory))
        assert.isFalse(yield* accepts(postgres.port))
      }),
    120_000
  )
})
