/**
 * The floor: the task as a hand-written loop over Node's global `fetch` — POST the conversation, parse the answer,
 * run the tool it asked for, append both, repeat until the model answers without a tool call.
 */
import { API_KEY, lookup, type MakeRunner, MODEL, prompt, SYSTEM, TOOL } from "./task.ts"

interface ToolCall {
  readonly id: string
  readonly function: { readonly name: string; readonly arguments: string }
}

interface Completion {
  readonly choices: ReadonlyArray<{
    readonly message: { readonly content: string | null; readonly tool_calls?: ReadonlyArray<ToolCall> }
  }>
}

const tools = [
  {
    type: "function",
    function: {
      name: TOOL.name,
      description: TOOL.description,
      parameters: {
        type: "object",
        properties: { item: { type: "integer" } },
        required: ["item"],
        additionalProperties: false
      }
    }
  }
]

export const make: MakeRunner = async (baseUrl) => {
  const url = `${baseUrl}/chat/completions`
  const headers = { "content-type": "application/json", authorization: `Bearer ${API_KEY}` }
  return {
    run: async (tag) => {
      const messages: Array<unknown> = [
        { role: "system", content: SYSTEM },
        { role: "user", content: prompt(tag) }
      ]
      while (true) {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body: JSON.stringify({ model: MODEL, messages, tools })
        })
        if (!response.ok) throw new Error(`the model answered ${response.status}`)
        const message = ((await response.json()) as Completion).choices[0]!.message
        messages.push(message)
        const calls = message.tool_calls ?? []
        if (calls.length === 0) return message.content ?? ""
        for (const call of calls) {
          const { item } = JSON.parse(call.function.arguments) as { item: number }
          messages.push({ role: "tool", tool_call_id: call.id, content: lookup(item) })
        }
      }
    }
  }
}
