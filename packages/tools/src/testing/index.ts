/**
 * `@troupe/tools/testing`: test doubles of the services the tools need from the agent package.
 */

/** A scripted team for `delegate`. */
export * as TestDelegation from "./TestDelegation.ts"
/** A scripted person for `ask_human`. */
export * as TestHuman from "./TestHuman.ts"
