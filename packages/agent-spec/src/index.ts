/**
 * `@troupe/agent-spec`: agents declared in YAML. The `AgentSpec` schema, the loader that reports every problem as
 * `FILE:LINE:COL: message`, team files, the legacy six-field format, and JSON Schema for editors.
 */

/** The agent spec schema, its decoded types and helpers. */
export * as AgentSpec from "./AgentSpec.ts"
/** JSON Schema documents generated from the schemas. */
export * as JsonSchema from "./JsonSchema.ts"
/** The six-field format of the reference Rust framework, wiseaidotdev/autogpt (formerly kevin-rs/autogpt). */
export * as LegacySpec from "./LegacySpec.ts"
/** Models, mixtures and provider definitions. */
export * as ModelSpec from "./ModelSpec.ts"
/** `30s`-style durations. */
export * as SpecDuration from "./SpecDuration.ts"
/** Positioned, typed load errors. */
export * as SpecError from "./SpecError.ts"
/** Loading agent specs and team files. */
export * as SpecLoader from "./SpecLoader.ts"
/** Team files. */
export * as TeamSpec from "./TeamSpec.ts"
/** The tool catalogue and tool entries. */
export * as ToolSpec from "./ToolSpec.ts"
