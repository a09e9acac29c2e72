import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Tokens } from "../src/index.ts"

const long = "0123456789abcdef"

describe("Tokens", () => {
  it.effect(
    "there is no default: unset, empty, short, blank-holding or duplicate tokens are refused, never quoted",
    () =>
      Effect.gen(function* () {
        const refused = (environment: Record<string, string | undefined>) =>
          Effect.flip(Tokens.fromEnvironment("TROUPE_TOKEN", environment))
        assert.match((yield* refused({})).message, /^TROUPE_TOKEN: no token is set/)
        assert.match((yield* refused({ TROUPE_TOKEN: "   " })).message, /no token is set/)
        const short = yield* refused({ TROUPE_TOKEN: "short-secret" })
        assert.match(short.message, /shorter than 16 characters/)
        assert.notInclude(short.message, "short-secret")
        assert.match((yield* refused({ TROUPE_TOKEN: `a=${long},a=${long}x` })).message, /two tokens are named a/)
        assert.match((yield* refused({ TROUPE_TOKEN: `=${long}` })).message, /needs a name/)
        assert.match((yield* refused({ TROUPE_TOKEN: `a=${long} x` })).message, /whitespace/)
      })
  )

  it.effect(
    "a lone token is named after its variable; named tokens by their names; the bearer scheme in any case",
    () =>
      Effect.gen(function* () {
        const lone = yield* Tokens.fromEnvironment("API_TOKEN", { API_TOKEN: long })
        assert.strictEqual(Tokens.check(lone, `Bearer ${long}`), "API_TOKEN")
        assert.strictEqual(Tokens.check(lone, `bearer ${long}`), "API_TOKEN")
        const named = yield* Tokens.fromEnvironment("T", { T: `ana=${long}, ci = ${long}-ci` })
        assert.strictEqual(Tokens.check(named, `Bearer ${long}`), "ana")
        assert.strictEqual(Tokens.check(named, `Bearer ${long}-ci`), "ci")
        for (const header of [
          undefined,
          "",
          long,
          `Basic ${long}`,
          `Bearer ${long.slice(0, -1)}`,
          `Bearer ${long}0`,
          `Bearer ${long} extra`,
          "Bearer "
        ]) {
          assert.isUndefined(Tokens.check(named, header), String(header))
        }
      })
  )
})
