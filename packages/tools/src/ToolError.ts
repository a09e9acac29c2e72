/**
 * The typed failures of the tools. Each tool returns them to the model (failure mode `return`) as a JSON object
 * with a `_tag` and a few fields, so the model can see what was refused and why, and try something else. They are
 * Schema-backed, so they can be audited and sent between actors as they are.
 *
 * Every field is something the model may see: a failure never carries the content of a file, a secret from the
 * environment, or the body of a refused request.
 */
import * as Schema from "effect/Schema"

/** A path was refused: it leaves the workspace, is not matched by the tool's `paths`, or is malformed. */
export class PathRefused extends Schema.TaggedError<PathRefused>()("PathRefused", {
  path: Schema.String,
  reason: Schema.String
}) {}

/** The path does not exist. */
export class FileNotFound extends Schema.TaggedError<FileNotFound>()("FileNotFound", {
  path: Schema.String
}) {}

/** The path exists but is not what the tool works on (a directory for `fs_read`, a FIFO, a device, ...). */
export class WrongFileType extends Schema.TaggedError<WrongFileType>()("WrongFileType", {
  path: Schema.String,
  expected: Schema.String,
  actual: Schema.String
}) {}

/** An input is over a size limit (`fs_write` content, a request body). */
export class TooLarge extends Schema.TaggedError<TooLarge>()("TooLarge", {
  what: Schema.String,
  size: Schema.Int,
  limit: Schema.Int
}) {}

/** A parameter is malformed: an empty commit message, a branch name starting with `-`, a bad URL, ... */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  argument: Schema.String,
  reason: Schema.String
}) {}

/** `shell_run` was asked to run a program that is not in its `allow` list. */
export class ProgramNotAllowed extends Schema.TaggedError<ProgramNotAllowed>()("ProgramNotAllowed", {
  program: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {}

/** `http_fetch` was asked for (or redirected to) a host that is not in its `hosts` list. */
export class HostNotAllowed extends Schema.TaggedError<HostNotAllowed>()("HostNotAllowed", {
  host: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {}

/** `http_fetch` was asked for a method that is not in its `methods` list. */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", {
  method: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {}

/** `mail_send` was asked to write to an address that its `to` list does not allow. */
export class RecipientNotAllowed extends Schema.TaggedError<RecipientNotAllowed>()("RecipientNotAllowed", {
  address: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {}

/** `git_push` was asked to push a branch that its `branches` patterns do not allow. */
export class BranchNotAllowed extends Schema.TaggedError<BranchNotAllowed>()("BranchNotAllowed", {
  branch: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {}

/** `delegate` was asked to hand a task to an agent its `agents` list does not allow. */
export class AgentNotAllowed extends Schema.TaggedError<AgentNotAllowed>()("AgentNotAllowed", {
  agent: Schema.String,
  allowed: Schema.Array(Schema.String)
}) {}

/** An operation took longer than its timeout and was stopped. */
export class TimedOut extends Schema.TaggedError<TimedOut>()("TimedOut", {
  operation: Schema.String,
  timeoutMillis: Schema.Int
}) {}

/** A `git` command exited with a non-zero status; `output` is its (capped) standard error and output. */
export class GitFailed extends Schema.TaggedError<GitFailed>()("GitFailed", {
  command: Schema.String,
  exitCode: Schema.NullOr(Schema.Int),
  output: Schema.String
}) {}

/** An HTTP request could not be completed (connection refused, too many redirects, a broken response). */
export class RequestFailed extends Schema.TaggedError<RequestFailed>()("RequestFailed", {
  url: Schema.String,
  reason: Schema.String
}) {}

/** Sending mail failed at the SMTP server (or no server is configured). */
export class MailFailed extends Schema.TaggedError<MailFailed>()("MailFailed", {
  reason: Schema.String
}) {}

/** No person could answer (`ask_human` without a console, a closed approval channel, a timeout). */
export class HumanUnavailable extends Schema.TaggedError<HumanUnavailable>()("HumanUnavailable", {
  reason: Schema.String
}) {}

/** The delegated agent could not take or finish the task. */
export class DelegationFailed extends Schema.TaggedError<DelegationFailed>()("DelegationFailed", {
  agent: Schema.String,
  reason: Schema.String
}) {}

/** A tool of an MCP server failed: the server reported an error, or the call broke or timed out. */
export class McpToolFailed extends Schema.TaggedError<McpToolFailed>()("McpToolFailed", {
  tool: Schema.String,
  reason: Schema.String
}) {}

/**
 * A system call failed for a reason that is none of the above (permission denied, disk full, the program could
 * not be started). `reason` is the error code (`EACCES`, `ENOENT`, ...) and a short description, never file
 * content.
 */
export class IoFailed extends Schema.TaggedError<IoFailed>()("IoFailed", {
  operation: Schema.String,
  reason: Schema.String
}) {}

/** Failures of the file-system tools. */
export const FsFailure = Schema.Union([PathRefused, FileNotFound, WrongFileType, TooLarge, IoFailed])

/** Failures of the file-system tools. */
export type FsFailure = typeof FsFailure.Type
