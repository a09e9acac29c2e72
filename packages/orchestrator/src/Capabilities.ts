/**
 * What a team member can do, and who can take a subtask.
 *
 * A member's capabilities are its name and the tools its spec allows (`fs_write`, `git_commit`, MCP servers as
 * `mcp:SERVER`): what it can actually do, read from the spec, rather than a label that could drift from it. A
 * subtask names the capabilities it needs; a member is capable when it has all of them.
 */
import type { AgentSpec } from "@troupe/agent-spec"

/** A member's capabilities: its name and its tools. */
export const of = (spec: AgentSpec.AgentSpec): ReadonlySet<string> =>
  new Set([
    spec.name,
    ...spec.tools.map((tool) => (tool.name === "mcp" ? `mcp:${tool.options.server}` : (tool.name as string)))
  ])

/** Whether `spec` has every capability in `required`. */
export const covers = (spec: AgentSpec.AgentSpec, required: ReadonlyArray<string>): boolean => {
  const own = of(spec)
  return required.every((capability) => own.has(capability))
}

/**
 * The members that can take a subtask, best first: the one the subtask names (when capable), then the others in
 * the order the team lists them.
 */
export const candidates = (
  members: ReadonlyArray<AgentSpec.AgentSpec>,
  required: ReadonlyArray<string>,
  preferred: string | undefined
): ReadonlyArray<AgentSpec.AgentSpec> => {
  const capable = members.filter((member) => covers(member, required))
  const first = capable.find((member) => member.name === preferred)
  return first === undefined ? capable : [first, ...capable.filter((member) => member !== first)]
}

/** One line per member for the manager: name, what it does, and its capabilities. */
export const roster = (members: ReadonlyArray<AgentSpec.AgentSpec>): string =>
  members
    .map((member) => {
      const about = member.description !== "" ? member.description : member.persona
      return `- ${member.name}${about === "" ? "" : `: ${about}`}. Capabilities: ${[...of(member)].join(", ")}`
    })
    .join("\n")
