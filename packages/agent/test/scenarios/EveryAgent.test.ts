/**
 * Every built-in agent under `agents/` loads without a notice, starts with its real tools in an empty workspace
 * (nothing fetched, no server started that the machine lacks), and has a scenario file here.
 */
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { SpecLoader } from "@troupe/agent-spec"
import { Mailer } from "@troupe/tools"
import * as Effect from "effect/Effect"
import * as Agent from "../../src/Agent.ts"
import { agentsDir, inWorkspace, slow, start } from "./support.ts"

const builtins = readdirSync(agentsDir)
  .filter((file) => file.endsWith(".yaml") && file !== "team.yaml")
  .map((file) => file.slice(0, -".yaml".length))

describe("the built-in agents", slow, () => {
  it("are the ten of the README, each with a scenario", () => {
    assert.sameMembers(builtins, [
      "generic",
      "manager",
      "architect",
      "backend",
      "frontend",
      "designer",
      "git",
      "mailer",
      "optimizer",
      "tester"
    ])
    for (const name of builtins) {
      const file = `${name[0]!.toUpperCase()}${name.slice(1)}.test.ts`
      assert.isTrue(existsSync(join(import.meta.dirname, file)), `no scenario ${file} for agents/${name}.yaml`)
    }
  })

  it.live("load without a notice and start with their real tools in an empty workspace", () =>
    inWorkspace(
      () =>
        Effect.gen(function* () {
          const delegation = Agent.delegationTo(() => undefined)
          for (const name of builtins) {
            const loaded = yield* SpecLoader.loadAgent(join(agentsDir, `${name}.yaml`)).pipe(
              Effect.provide(NodeServices.layer)
            )
            assert.deepStrictEqual(loaded.notices, [], name)
            const started = yield* start(name, [], { delegation })
            const status = yield* started.agent.status
            assert.strictEqual(status.state, "idle", name)
          }
        }),
      // A transport that is never used: mail_send needs one to exist.
      { services: Mailer.layer({ host: "127.0.0.1", port: 9 }) }
    )
  )
})
