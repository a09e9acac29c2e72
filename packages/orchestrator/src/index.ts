/**
 * `@troupe/orchestrator`: a team of agents as one supervised actor tree that decomposes a goal, delegates it by
 * capability, runs independent work at once, and reports, with one provider pool, memory store, budget and audit
 * trail for the whole team.
 */
export * as Capabilities from "./Capabilities.ts"
export * as Decomposer from "./Decomposer.ts"
export * as DetachedRuns from "./DetachedRuns.ts"
export * as MemberRuns from "./MemberRuns.ts"
export * as Orchestrator from "./Orchestrator.ts"
export * as OrchestratorError from "./OrchestratorError.ts"
export * as OrchestratorEvent from "./OrchestratorEvent.ts"
export * as Report from "./Report.ts"
export * as Subtask from "./Subtask.ts"
export * as TeamBudget from "./TeamBudget.ts"
export * as TeamMemory from "./TeamMemory.ts"
export * as TeamTrail from "./TeamTrail.ts"
