/**
 * `@troupe/agent`: an agent spec becomes a supervised actor that plans, acts, observes and reflects within its budget.
 */
export * as Agent from "./Agent.ts"
export * as AgentError from "./AgentError.ts"
export * as AgentEvent from "./AgentEvent.ts"
export * as AgentEvents from "./AgentEvents.ts"
export * as AgentMetrics from "./AgentMetrics.ts"
export * as AgentModel from "./AgentModel.ts"
export * as Alerts from "./Alerts.ts"
export * as Approvals from "./Approvals.ts"
export * as Plan from "./Plan.ts"
export * as Prompting from "./Prompting.ts"
export * as Questions from "./Questions.ts"
export * as Reflection from "./Reflection.ts"
export * as Run from "./Run.ts"
export * as Spend from "./Spend.ts"
