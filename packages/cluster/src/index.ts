/**
 * `@troupe/cluster`: the distributed mode — agents as `effect/cluster` entities placed across runner processes that
 * share PostgreSQL, a client that submits them tasks, and a throwaway PostgreSQL for development and tests.
 */
export * as AgentTask from "./AgentTask.ts"
export * as ApprovalTable from "./ApprovalTable.ts"
export * as Client from "./Client.ts"
export * as ClusterMemberRuns from "./ClusterMemberRuns.ts"
export * as ClusterTuning from "./ClusterTuning.ts"
export * as Runner from "./Runner.ts"
export * as ThrowawayPostgres from "./ThrowawayPostgres.ts"
