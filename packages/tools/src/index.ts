/**
 * `@troupe/tools`: the tools and sensors agents act through, each confined to the workspace and bounded. Every
 * tool is an `effect/ai` `Tool` whose failures go back to the model as typed results (failure mode `return`),
 * with a reversibility that approvals scale with. `Tools.toolkit` builds an agent's toolkit from its spec.
 */

/** The programs `shell_start` runs in the background, until `wait_for` reports their end. */
export * as BackgroundProcesses from "./BackgroundProcesses.ts"
/** The team `delegate` hands tasks to. */
export * as Delegation from "./Delegation.ts"
/** `fs_read`, `fs_list`, `fs_write`, `fs_delete`. */
export * as FsTools from "./FsTools.ts"
/** `git_status`, `git_diff`, `git_log`, `git_commit`, `git_push`. */
export * as GitTools from "./GitTools.ts"
/** `http_fetch`. */
export * as HttpTool from "./HttpTool.ts"
/** The person `ask_human` asks. */
export * as Human from "./Human.ts"
/** The idempotency key of the tool call in progress, passed on by the built-in tools. */
export * as Idempotency from "./Idempotency.ts"
/** The SMTP transport of `mail_send`. */
export * as Mailer from "./Mailer.ts"
/** `mail_send`. */
export * as MailTool from "./MailTool.ts"
/** The tools of MCP servers. */
export * as McpTools from "./McpTools.ts"
/** The environment of child processes, scrubbed of secrets. */
export * as ProcessEnv from "./ProcessEnv.ts"
/** How far a tool call's effect can be undone. */
export * as Reversibility from "./Reversibility.ts"
/** What an agent can wait on: the clock, file changes, a process's exit. */
export * as Sensor from "./Sensor.ts"
/** Sensor waits kept apart from a run's working time. */
export * as SensorWaits from "./SensorWaits.ts"
/** `shell_start`. */
export * as ShellStartTool from "./ShellStartTool.ts"
/** `shell_run`. */
export * as ShellTool from "./ShellTool.ts"
/** `ask_human` and `delegate`. */
export * as TeamTools from "./TeamTools.ts"
/** The typed failures the tools return to the model. */
export * as ToolError from "./ToolError.ts"
/** The toolkit of one agent, from its spec's tools list. */
export * as Tools from "./Tools.ts"
/** What building a toolset can fail with, and which listed tools it leaves to the memory package. */
export * as Toolset from "./Toolset.ts"
/** `wait_for`: a file change in the workspace, or time passing. */
export * as WaitTool from "./WaitTool.ts"
/** The workspace and the confinement of paths to it. */
export * as Workspace from "./Workspace.ts"
