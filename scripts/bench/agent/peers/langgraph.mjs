// @ts-check
/**
 * LangGraph.js: the prebuilt ReAct agent (`createReactAgent`: a model node and a tool node in a graph) over
 * `@langchain/openai`'s `ChatOpenAI` pointed at the fake server.
 */
import { tool } from "@langchain/core/tools"
import { createReactAgent } from "@langchain/langgraph/prebuilt"
import { ChatOpenAI } from "@langchain/openai"
import { z } from "zod"
import { API_KEY, lookup, MODEL, prompt, STEPS, SYSTEM, TOOL } from "../task.ts"

/** @type {import("../task.ts").MakeRunner} */
export const make = async (baseUrl) => {
  const llm = new ChatOpenAI({ model: MODEL, apiKey: API_KEY, configuration: { baseURL: baseUrl } })
  const lookupTool = tool(async ({ item }) => lookup(item), {
    name: TOOL.name,
    description: TOOL.description,
    schema: z.object({ item: z.number().int() })
  })
  const agent = createReactAgent({ llm, tools: [lookupTool], prompt: SYSTEM })
  return {
    run: async (tag) => {
      // Each step is two graph steps (model, tools); the default limit of 25 leaves too little room to spare.
      const state = await agent.invoke(
        { messages: [{ role: "user", content: prompt(tag) }] },
        { recursionLimit: 4 * STEPS }
      )
      const content = state.messages.at(-1)?.content
      return typeof content === "string" ? content : JSON.stringify(content)
    }
  }
}
