/** A job of an agent of this process: one run, followed through the agents' event hub. */
import type { Agent, AgentEvent } from "@troupe/agent"
import * as Effect from "effect/Effect"
import type * as PubSub from "effect/PubSub"
import * as Scope from "effect/Scope"
import { Conflict } from "../ServerApi.ts"
import * as JobContext from "./jobContext.ts"
import type * as JobEntry from "./jobEntry.ts"

const routeOf =
  (runId: string) =>
  (event: JobEntry.Source["event"]): JobEntry.Source | undefined =>
    "runId" in event && event.runId === runId && event._tag.startsWith("Agent")
      ? { _tag: "Agent", event: event as AgentEvent.AgentEvent }
      : undefined

/** Starts `goal` on `agent` (a `Conflict` while it pursues another). */
export const submit: JobContext.SubmitAgent<Agent.Agent> = (context, agent, goal, by, durable = {}) =>
  Effect.gen(function* () {
    const status = yield* agent.status.pipe(Effect.orElseSucceed(() => undefined))
    if (status !== undefined && status.state !== "idle") {
      return yield* new Conflict({ message: `agent ${agent.name} is pursuing another goal` })
    }
    const { runId, recordEnd, jobScope } = yield* JobContext.recordAgentRun(context, goal, by, durable)
    const subscription = yield* context.hub.subscribe.pipe(Scope.provide(jobScope))
    const entry = yield* context.table.add(runId, "agent", agent.name, goal, by)
    const run = yield* Effect.forkIn(agent.run(goal, { runId }), context.scope)
    entry.cancel = agent.cancel
    return yield* JobContext.follow(context, entry, run, {
      subscriptions: [
        { subscription: subscription as PubSub.Subscription<JobEntry.Source["event"]>, route: routeOf(runId) }
      ],
      outcome: (exit) => exit,
      jobScope,
      onEnd: recordEnd
    })
  })
