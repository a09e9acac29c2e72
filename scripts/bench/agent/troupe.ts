/**
 * Troupe: the task run by agents of the embedding API (`Agent.make`, each a supervised actor) in its default
 * configuration: a default agent spec (model `openai/gpt-5-mini`, reflection every 5 steps) with a one-tool toolkit,
 * its model through a `ProviderPool` and the undici HTTP client, `OPENAI_BASE_URL` pointing at the fake server,
 * events published on the program's hub (nobody listens), no memory and no audit trail.
 *
 * An agent pursues one goal at a time, so concurrent runs use as many agents: an idle one is reused, else one more is
 * started. A run makes a plan call, 10 tool turns, the answer turn and three reflections (after steps 5, 10 and the
 * answer): 15 model calls where the peers make 11.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Agent, AgentEvents } from "@troupe/agent"
import { ProviderPool } from "@troupe/providers"
import { ActorSystem } from "@troupe/runtime"
import { ConfigProvider, Effect, Layer, ManagedRuntime, Scope } from "effect"
import { API_KEY, type MakeRunner } from "./task.ts"
import * as TroupeRuns from "./troupeRuns.ts"

/** The runner for agents of the default spec with `fields` on top. */
export const makeWith =
  (fields: TroupeRuns.SpecFields): MakeRunner =>
  async (baseUrl) => {
    const config = ConfigProvider.fromEnvRecord({ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: baseUrl })
    const runtime = ManagedRuntime.make(
      Layer.mergeAll(ActorSystem.layer(), AgentEvents.layer, ProviderPool.layer(), NodeHttpClient.layerUndici)
    )
    const { scope, toolkit } = await runtime.runPromise(
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const toolkit = yield* TroupeRuns.toolkitOf(TroupeRuns.Lookup)
        return { scope, toolkit }
      })
    )
    return TroupeRuns.runner(runtime, (name) =>
      Agent.make(TroupeRuns.specOf(name, fields), { toolkit }).pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, config),
        Scope.provide(scope),
        Effect.orDie
      )
    )
  }

export const make: MakeRunner = makeWith({})
