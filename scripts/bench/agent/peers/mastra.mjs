// @ts-check
/**
 * Mastra: an `Agent` with a tool made by `createTool`, its model given to Mastra's own model router as
 * `openai/gpt-5-mini` at the fake server's URL, over chat completions (the router's bundled OpenAI-compatible
 * client; an `@ai-sdk/openai` model works too, but its types differ from the AI SDK provider version Mastra pins).
 * `maxSteps` is raised: Mastra stops after 5 steps by default, silently.
 */
import { Agent } from "@mastra/core/agent"
import { createTool } from "@mastra/core/tools"
import { z } from "zod"
import { API_KEY, lookup, MODEL, prompt, STEPS, SYSTEM, TOOL } from "../task.ts"

/** @type {import("../task.ts").MakeRunner} */
export const make = async (baseUrl) => {
  const agent = new Agent({
    id: "bench",
    name: "bench",
    instructions: SYSTEM,
    model: { id: `openai/${MODEL}`, url: baseUrl, apiKey: API_KEY, api: "chat" },
    tools: {
      [TOOL.name]: createTool({
        id: TOOL.name,
        description: TOOL.description,
        inputSchema: z.object({ item: z.number().int() }),
        execute: async ({ item }) => lookup(item)
      })
    }
  })
  return {
    run: async (tag) => {
      const result = await agent.generate(prompt(tag), { maxSteps: STEPS + 2 })
      return result.text
    }
  }
}
