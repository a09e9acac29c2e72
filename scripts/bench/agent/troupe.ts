/**
 * Troupe: the task as one `Run.execute` of a default agent spec (model `openai/gpt-5-mini`, reflection every 5
 * steps) with a one-tool toolkit, its model built by `AgentModel.make` through a `ProviderPool` and the undici
 * HTTP client, `OPENAI_BASE_URL` pointing at the fake server. No memory and no audit trail: events go nowhere.
 *
 * A run makes a plan call, 10 tool turns, the answer turn and three reflections (after steps 5, 10 and the answer):
 * 15 model calls where the peers make 11.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { AgentModel, Approvals, Prompting, Run } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import { ProviderPool } from "@troupe/providers"
import { ConfigProvider, Deferred, Effect, Layer, ManagedRuntime, Schema } from "effect"
import { Tool, Toolkit } from "effect/ai"
import { API_KEY, lookup, type MakeRunner, MODEL, prompt, TOOL } from "./task.ts"

const Lookup = Tool.make(TOOL.name, {
  description: TOOL.description,
  parameters: Schema.Struct({ item: Schema.Int }),
  success: Schema.String
})

const Tools = Toolkit.make(Lookup)

const spec = Schema.decodeUnknownSync(
  AgentSpec.AgentSpec,
  AgentSpec.parseOptions
)({ name: "bench", model: { provider: "openai", model: MODEL } })

export const make: MakeRunner = async (baseUrl) => {
  const runtime = ManagedRuntime.make(Layer.mergeAll(ProviderPool.layer(), NodeHttpClient.layerUndici))
  const { model, toolkit } = await runtime.runPromise(
    Effect.gen(function* () {
      const model = yield* AgentModel.make(spec).pipe(
        Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromEnvRecord({ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: baseUrl })
        )
      )
      const toolkit = yield* Tools.pipe(
        Effect.provide(Tools.toLayer({ lookup: ({ item }) => Effect.succeed(lookup(item)) }))
      )
      return { model, toolkit }
    })
  )
  const policy = (tool: string) => Approvals.policyOf(spec, tool)
  const tools = Approvals.withPolicy(toolkit, policy)
  const system = Prompting.system(spec)
  let runs = 0

  // The one place that knows how Troupe runs a task: swap it for the actor API when that lands.
  const run = (tag: string) =>
    runtime.runPromise(
      Effect.map(
        Run.execute(
          {
            spec,
            runId: `bench-${++runs}`,
            goal: prompt(tag),
            system,
            model,
            toolkit: tools,
            memory: undefined,
            gate: Approvals.makeGate(),
            policy,
            emit: () => Effect.void,
            barrier: Effect.void
          },
          { cancel: Deferred.makeUnsafe<void>(), onState: () => {} }
        ),
        (result) => result.answer
      )
    )
  return { run }
}
