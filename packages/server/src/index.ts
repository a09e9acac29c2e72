/**
 * `@troupe/server`: `troupe serve`, the orchestrator over HTTP (`effect/http-api`, an OpenAPI document, Server-Sent
 * Events) and the team's agents as MCP tools, every request behind a bearer token.
 */
export * as AgentTools from "./AgentTools.ts"
export * as Jobs from "./Jobs.ts"
export * as Server from "./Server.ts"
export * as ServerApi from "./ServerApi.ts"
export * as ServerHandlers from "./ServerHandlers.ts"
export * as Tokens from "./Tokens.ts"
