/**
 * Which tool calls only read: a built-in tool whose reversibility for these parameters is `reversible` (`fs_read`,
 * `git_status`, `http_fetch` with GET, ...; not `delegate`), or an application tool annotated `Tool.Readonly`. A run
 * waits for its barrier (journal and trail fdatasynced) before every other call acts; before a read it does not, and
 * the next barrier covers the read's lines (group commit). A power cut in between loses at most lines of calls that changed
 * nothing: the resumed run asks the model again and reads again. A process kill loses nothing either way (every
 * line is written at once).
 *
 * Measured with `pnpm bench agent` (`troupe_durable`, see BENCHMARKS.md): waiting for two fdatasyncs before each
 * read was most of what durability cost a step.
 */
import type { Tools } from "@troupe/tools"
import * as Tool from "effect/ai/Tool"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Context from "effect/Context"

/** Whether a call of `tool` with `params` only reads; unknown tools do not. */
export type ReadOnly = (tool: string, params: unknown) => boolean

// Reversible for approvals (the delegated agent asks for its own), but the run it starts acts: it keeps its barrier,
// so that the model's decision to delegate is durable before the other agent starts.
const actsThroughOthers = new Set(["delegate"])

/** The predicate over the built-in toolset (by its tools' reversibility) and the application's toolkit. */
export const make = (
  toolset: Tools.Toolset | undefined,
  application: Toolkit.WithHandler<any> | undefined
): ReadOnly => {
  const annotated = new Set<string>()
  for (const [name, tool] of Object.entries(application?.tools ?? {})) {
    if (Context.get((tool as Tool.Any).annotations, Tool.Readonly)) annotated.add(name)
  }
  return (tool, params) => {
    const info = toolset?.tools.get(tool)
    if (info === undefined) return annotated.has(tool)
    return !actsThroughOthers.has(info.tool) && info.reversibility(params) === "reversible"
  }
}
