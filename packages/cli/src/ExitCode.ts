/**
 * The process exit codes of the `troupe` command, and the typed failure that carries one to the edge.
 *
 * Commands fail with `CliExit` instead of exiting the process themselves, so they stay testable and the one
 * entry point (`bin.ts`) decides how to leave.
 */
import * as Schema from "effect/Schema"

/** The exit codes every `troupe` command uses. */
export const ExitCode = {
  succeeded: 0,
  failed: 1,
  badInput: 2,
  waitingForApproval: 3,
  budgetExceeded: 4,
  /** Interrupted by Ctrl-C (SIGINT), as shells report it. */
  interrupted: 130
} as const

/** One of the documented exit codes. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * A command's request to end the process with `code`, after `message` (already meant for a person) is printed
 * on stderr. An empty message prints nothing.
 */
export class CliExit extends Schema.TaggedError<CliExit>()("CliExit", {
  code: Schema.Int,
  message: Schema.String
}) {}
