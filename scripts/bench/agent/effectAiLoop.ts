/**
 * The floor of Troupe's own stack: the task as a bare `effect/ai` tool loop (`LanguageModel.generateText` with the
 * task's toolkit, repeated while the model calls a tool) over the model an agent of the default spec gets
 * (`AgentModel.make`: Troupe's OpenAI adapter through a `ProviderPool`, the undici HTTP client). No actor, plan,
 * reflection, events, metrics, budget or loop detection: what the parts an agent must use cost before the agent
 * layer adds anything, beside the peers' whole frameworks.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { AgentModel } from "@troupe/agent"
import { ProviderPool } from "@troupe/providers"
import type * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { API_KEY, type MakeRunner, prompt, SYSTEM } from "./task.ts"
import * as TroupeRuns from "./troupeRuns.ts"

export const make: MakeRunner = async (baseUrl) => {
  const config = ConfigProvider.fromEnvRecord({ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: baseUrl })
  const runtime = ManagedRuntime.make(Layer.mergeAll(ProviderPool.layer(), NodeHttpClient.layerUndici))
  const { model, toolkit } = await runtime.runPromise(
    Effect.gen(function* () {
      const toolkit = yield* TroupeRuns.toolkitOf(TroupeRuns.Lookup)
      const model = yield* AgentModel.make(TroupeRuns.specOf("effect-ai-loop")).pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, config)
      )
      return { model, toolkit }
    })
  )
  const turn = (history: Prompt.Prompt) =>
    LanguageModel.generateText({ prompt: Prompt.setSystem(history, SYSTEM), toolkit }).pipe(
      Effect.provideService(LanguageModel.LanguageModel, model)
    )
  const loop = (history: Prompt.Prompt): Effect.Effect<string, AiError.AiError> =>
    Effect.flatMap(turn(history), (response) =>
      response.toolCalls.length === 0
        ? Effect.succeed(response.text)
        : loop(Prompt.concat(history, Prompt.fromResponseParts(response.content)))
    )
  return { run: (tag) => runtime.runPromise(loop(Prompt.make(prompt(tag)))) }
}
