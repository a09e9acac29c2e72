/**
 * The `troupe` command: its root command, subcommands and exit codes, for embedding or testing.
 */
export * as Cli from "./Cli.ts"
export * as Prompt from "./commands/Prompt.ts"
export * as ExitCode from "./ExitCode.ts"
export * as ProviderSelection from "./ProviderSelection.ts"
