// @ts-check
/**
 * `@openai/agents`: an `Agent` with a function tool, run by a `Runner` whose OpenAI provider speaks chat
 * completions to the fake server. Tracing is off (it would export to OpenAI), and `maxTurns` is raised from its
 * default of 10, after which the run throws.
 */
import { Agent, OpenAIProvider, Runner, tool } from "@openai/agents"
import { z } from "zod"
import { API_KEY, lookup, MODEL, prompt, STEPS, SYSTEM, TOOL } from "../task.ts"

/** @type {import("../task.ts").MakeRunner} */
export const make = async (baseUrl) => {
  const runner = new Runner({
    modelProvider: new OpenAIProvider({ apiKey: API_KEY, baseURL: baseUrl, useResponses: false }),
    tracingDisabled: true
  })
  const agent = new Agent({
    name: "bench",
    instructions: SYSTEM,
    model: MODEL,
    tools: [
      tool({
        name: TOOL.name,
        description: TOOL.description,
        parameters: z.object({ item: z.number().int() }),
        execute: async ({ item }) => lookup(item)
      })
    ]
  })
  return {
    run: async (tag) => {
      const result = await runner.run(agent, prompt(tag), { maxTurns: STEPS + 5 })
      return String(result.finalOutput ?? "")
    }
  }
}
