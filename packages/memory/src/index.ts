/**
 * `@troupe/memory`: long-term memory on LanceDB (hybrid recall) and a structured knowledge base, with agent tools.
 */
export * as KnowledgeBase from "./KnowledgeBase.ts"
export * as Memory from "./Memory.ts"
export * as MemoryError from "./MemoryError.ts"
export * as MemoryRecord from "./MemoryRecord.ts"
export * as MemoryTools from "./MemoryTools.ts"
