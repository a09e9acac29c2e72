/**
 * The server's team as MCP tools (`effect/ai`'s `McpServer` over Streamable HTTP, behind the same bearer token as
 * the API): one tool per member, named after it, that hands the member a `task` and answers with its answer; and
 * `team_goal`, that hands a `goal` to the whole team and answers with its report. A task that waits for an approval
 * waits until it is decided over the API (`POST /approvals/{id}/approve`).
 *
 * Each task is a job submitted as the name of the token the MCP client presented (the `Caller` the server's guard
 * provides to every request).
 *
 * An MCP client (Claude Desktop, an IDE, another agent framework) thereby uses a Troupe agent like any tool, while the
 * agent keeps its own budget, approvals and audit trail.
 */
import type { TeamSpec } from "@troupe/agent-spec"
import * as McpProtocol from "effect/ai/McpProtocol"
import * as McpServer from "effect/ai/McpServer"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import type * as HttpRouter from "effect/http/HttpRouter"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Jobs from "./Jobs.ts"
import { Caller, type Job, maxGoalLength } from "./ServerApi.ts"

/** Where the MCP endpoint is served. */
export const path = "/mcp"

/** The name of the tool that hands a goal to the whole team. */
export const teamTool = "team_goal"

/** A task handed over MCP did not end with an answer. */
export class AgentTaskFailed extends Schema.TaggedError<AgentTaskFailed>()("AgentTaskFailed", {
  agent: Schema.String,
  message: Schema.String
}) {}

const Task = Schema.Struct({
  task: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(maxGoalLength)).annotate({
    description: "What the agent is to do, in plain words"
  })
})

const Goal = Schema.Struct({
  goal: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(maxGoalLength)).annotate({
    description: "What the team is to achieve"
  })
})

const answerOf = (name: string, job: Job): Effect.Effect<string, AgentTaskFailed> =>
  job.state === "done"
    ? Effect.succeed(job.answer ?? "")
    : Effect.fail(
        new AgentTaskFailed({
          agent: name,
          message: `${job.state} (job ${job.id})${job.error === undefined ? "" : `: ${job.error.tag}: ${job.error.message}`}`
        })
      )

/** The MCP endpoint at {@link path}, offering the team's members and {@link teamTool}; nothing without a team. */
export const layer = (jobs: Jobs.Jobs, team: TeamSpec.Team | undefined, version: string) => {
  if (team === undefined || jobs.team === undefined) return Layer.empty
  const failed = (agent: string) => (error: { readonly message: string }) =>
    new AgentTaskFailed({ agent, message: error.message })
  const memberTools = team.agents.map((spec) =>
    Tool.make(spec.name, {
      description: `Hand a task to ${spec.name}${spec.description === "" ? "" : `: ${spec.description}`}${
        spec.persona === "" ? "" : ` (${spec.persona})`
      }. Answers with its answer.`,
      parameters: Task,
      success: Schema.String,
      failure: AgentTaskFailed,
      dependencies: [Caller]
    })
  )
  const goalTool = Tool.make(teamTool, {
    description: `Hand a goal to the team ${team.name}: decomposed by its manager, delegated, and reported.`,
    parameters: Goal,
    success: Schema.String,
    failure: AgentTaskFailed,
    dependencies: [Caller]
  })
  const toolkit = Toolkit.make(...memberTools, goalTool) as unknown as Toolkit.Toolkit<Record<string, Tool.Any>>
  const handlers: Record<string, (params: never) => Effect.Effect<string, AgentTaskFailed, Caller>> = {
    [teamTool]: (params: typeof Goal.Type) =>
      Effect.flatMap(Caller, (caller) => jobs.submit(params.goal, {}, caller.name)).pipe(
        Effect.flatMap((job) => jobs.await(job.id)),
        Effect.mapError(failed(team.name)),
        Effect.flatMap((job) => answerOf(team.name, job))
      )
  }
  for (const spec of team.agents) {
    handlers[spec.name] = (params: typeof Task.Type) =>
      Effect.flatMap(Caller, (caller) => jobs.delegate(spec.name, params.task, caller.name)).pipe(
        Effect.mapError(failed(spec.name)),
        Effect.flatMap((job) => answerOf(spec.name, job))
      )
  }
  const registrations = McpServer.toolkit(toolkit).pipe(Layer.provide(toolkit.toLayer(handlers as never)))
  return McpServer.layerHttp({
    name: "troupe",
    version,
    description: `The agents of the team ${team.name}`,
    path,
    protocols: [McpProtocol.v2025_11_25, McpProtocol.v2025_06_18, McpProtocol.v2025_03_26],
    registrations
  }).pipe(Layer.orDie) as unknown as Layer.Layer<
    never,
    never,
    HttpRouter.HttpRouter | HttpRouter.Request<"Requires", Caller>
  >
}
