/**
 * What building a toolset can fail with, and which listed tools it leaves to others: light on purpose, so that code
 * that only names tools (an agent without built-in tools) does not load every tool with `Tools`.
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as Schema from "effect/Schema"

/** The toolkit could not be built: a service a listed tool needs is missing, or an MCP server failed. */
export class ToolsetError extends Schema.TaggedError<ToolsetError>()("ToolsetError", {
  tool: Schema.String,
  reason: Schema.String
}) {}

/** The tools that come from `@troupe/memory` and are merged by the agent. */
export const memoryTools: ReadonlySet<ToolSpec.ToolName> = new Set([
  "memory_recall",
  "memory_remember",
  "knowledge_query",
  "knowledge_assert"
])
