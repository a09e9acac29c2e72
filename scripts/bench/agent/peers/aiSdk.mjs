// @ts-check
/**
 * Vercel `ai`: one `generateText` with the tool, looping until the model answers (`stopWhen`, since its default
 * stops after one step), over `@ai-sdk/openai`'s chat-completions model pointed at the fake server.
 */
import { createOpenAI } from "@ai-sdk/openai"
import { generateText, stepCountIs, tool } from "ai"
import { z } from "zod"
import { API_KEY, lookup, MODEL, prompt, STEPS, SYSTEM, TOOL } from "../task.ts"

/** @type {import("../task.ts").MakeRunner} */
export const make = async (baseUrl) => {
  // `.chat`: the provider's default model speaks the Responses API, which the fake server does not.
  const model = createOpenAI({ baseURL: baseUrl, apiKey: API_KEY }).chat(MODEL)
  const tools = {
    [TOOL.name]: tool({
      description: TOOL.description,
      inputSchema: z.object({ item: z.number().int() }),
      execute: async ({ item }) => lookup(item)
    })
  }
  return {
    run: async (tag) => {
      const result = await generateText({
        model,
        system: SYSTEM,
        prompt: prompt(tag),
        tools,
        stopWhen: stepCountIs(STEPS + 2)
      })
      return result.text
    }
  }
}
