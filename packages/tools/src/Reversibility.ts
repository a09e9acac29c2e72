/**
 * How far a tool call's effect can be undone, which is what approvals scale with:
 * - `reversible`: no lasting effect, or one undone trivially (reads, listings, status, a question to a person);
 * - `compensable`: a lasting effect that a later action can undo (`fs_write` over a file the agent can write
 *   back, `git_commit` that `git reset` takes back, a memory that can be forgotten);
 * - `irreversible`: nothing takes it back (`fs_delete`, `shell_run` of an arbitrary program, `git_push`,
 *   `mail_send`, an HTTP request that is not GET or HEAD, any MCP tool, whose effects we cannot know).
 *
 * It may depend on the call's arguments: {@link of} takes the parameters (`http_fetch` is reversible for GET and
 * HEAD, irreversible otherwise). The spec catalogue's `irreversible` flag is the answer for the default
 * arguments; a test keeps the two in step (with `mcp` as the one known difference, see the test).
 *
 * @example
 * ```ts
 * import { Reversibility } from "@troupe/tools"
 *
 * Reversibility.of("http_fetch", { url: "https://x.test", method: "POST" }) // "irreversible"
 * Reversibility.of("fs_read", { path: "a" }) // "reversible"
 * ```
 */
import type { ToolSpec } from "@troupe/agent-spec"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/** How far a tool call's effect can be undone. */
export const Reversibility = Schema.Literals(["reversible", "compensable", "irreversible"])

/** How far a tool call's effect can be undone. */
export type Reversibility = typeof Reversibility.Type

const always =
  (reversibility: Reversibility) =>
  (_params?: unknown): Reversibility =>
    reversibility

const httpMethod = (params: unknown): Reversibility => {
  const method = Predicate.isObject(params) && typeof params.method === "string" ? params.method.toUpperCase() : "GET"
  return method === "GET" || method === "HEAD" ? "reversible" : "irreversible"
}

/** The reversibility of every built-in tool, as a function of the call's parameters. */
export const table: { readonly [K in ToolSpec.ToolName]: (params?: unknown) => Reversibility } = {
  fs_read: always("reversible"),
  fs_list: always("reversible"),
  fs_write: always("compensable"),
  fs_delete: always("irreversible"),
  shell_run: always("irreversible"),
  shell_start: always("irreversible"),
  git_status: always("reversible"),
  git_diff: always("reversible"),
  git_log: always("reversible"),
  git_commit: always("compensable"),
  git_push: always("irreversible"),
  http_fetch: httpMethod,
  mail_send: always("irreversible"),
  memory_recall: always("reversible"),
  memory_remember: always("compensable"),
  knowledge_query: always("reversible"),
  knowledge_assert: always("compensable"),
  // The delegated agent's own actions go through its own approvals; handing over the task undoes nothing here.
  delegate: always("reversible"),
  ask_human: always("reversible"),
  // Waiting changes nothing.
  wait_for: always("reversible"),
  // A server's tool may do anything; unless approvals say otherwise it is treated as the worst case.
  mcp: always("irreversible")
}

/** The reversibility of a call of the built-in tool `name` with `params` (the defaults when absent). */
export const of = (name: ToolSpec.ToolName, params?: unknown): Reversibility => table[name](params)

/** Whether a call of `name` with `params` cannot be undone. */
export const isIrreversible = (name: ToolSpec.ToolName, params?: unknown): boolean =>
  of(name, params) === "irreversible"
