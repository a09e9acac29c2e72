/**
 * Troupe durable: the `troupe` runner's agents with what `troupe run` adds to every run — the run journal
 * (`RunJournal.layer`: each model call and tool call an activity journalled before the run goes on) and the audit
 * trail (`durability: "written"`), both in a temporary `TROUPE_HOME` on the machine's disk and both fdatasynced at
 * the run's barriers: before a tool that changes something runs, and before the run answers.
 *
 * `lookup` only reads, and says so (`Tool.Readonly`), as an application's read-only tool should: the run does not
 * wait for a barrier before it, and one barrier before the answer covers the run's lines. With
 * `BENCH_LOOKUP_READONLY=0` it is left unannotated, like a tool that acts: a barrier before every step.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Agent, AgentEvents, AuditLog, RunJournal } from "@troupe/agent"
import { ProviderPool } from "@troupe/providers"
import { ActorSystem } from "@troupe/runtime"
import { ConfigProvider, Effect, Layer, ManagedRuntime, Scope } from "effect"
import { Tool } from "effect/ai"
import { API_KEY, type MakeRunner } from "./task.ts"
import * as TroupeRuns from "./troupeRuns.ts"

const Lookup = TroupeRuns.Lookup.annotate(Tool.Readonly, process.env.BENCH_LOOKUP_READONLY !== "0")

export const make: MakeRunner = async (baseUrl) => {
  const home = mkdtempSync(join(tmpdir(), "troupe-bench-durable-"))
  // Every run leaves a journal and a trail (about 40 KB): gone with the process.
  process.on("exit", () => rmSync(home, { recursive: true, force: true }))
  const config = ConfigProvider.fromEnvRecord({ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: baseUrl })
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(
      ActorSystem.layer(),
      AgentEvents.layer,
      ProviderPool.layer(),
      NodeHttpClient.layerUndici,
      RunJournal.layer({ directory: join(home, "runs") }),
      AuditLog.layer({ home, durability: "written" })
    )
  )
  const { scope, toolkit, audit } = await runtime.runPromise(
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const toolkit = yield* TroupeRuns.toolkitOf(Lookup)
      return { scope, toolkit, audit: yield* AuditLog.AuditLog }
    })
  )
  return TroupeRuns.runner(runtime, (name) =>
    Agent.make(TroupeRuns.specOf(name), { toolkit, audit }).pipe(
      Effect.provideService(ConfigProvider.ConfigProvider, config),
      Scope.provide(scope),
      Effect.orDie
    )
  )
}
