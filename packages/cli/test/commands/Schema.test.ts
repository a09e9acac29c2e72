import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { root, troupe } from "../support.ts"

describe("troupe schema", () => {
  it.live(
    "prints the JSON Schema of agent specs and team files, the text of agents/agent.schema.json",
    () =>
      Effect.gen(function* () {
        const run = yield* troupe(["schema"])
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stdout, readFileSync(join(root, "agents/agent.schema.json"), "utf8"))
        const schema = JSON.parse(run.stdout)
        assert.strictEqual(schema.$schema, "https://json-schema.org/draft/2020-12/schema")
        assert.property(schema.$defs, "agent")
        const extra = yield* troupe(["schema", "agents/backend.yaml"])
        assert.strictEqual(extra.code, 2)
      }),
    30_000
  )
})
