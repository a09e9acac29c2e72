/**
 * What a line typed in interactive mode asks for: a prompt for the agent, or one of the slash commands.
 *
 * ```ts
 * ReplCommands.parse("/mixture on") // { _tag: "Mixture", on: true }
 * ReplCommands.parse("what is in README.md?") // { _tag: "Prompt", text: "what is in README.md?" }
 * ```
 */

/** A line, understood. */
export type Input =
  | { readonly _tag: "Prompt"; readonly text: string }
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Clear" }
  /** `/agent` alone shows the agent and the built-ins; with a name or a path it switches. */
  | { readonly _tag: "Agent"; readonly name: string | undefined }
  /** `/model` alone shows the model; with `provider/model` or a model id it switches. */
  | { readonly _tag: "Model"; readonly ref: string | undefined }
  /** `/mixture` alone shows whether the mixture is on. */
  | { readonly _tag: "Mixture"; readonly on: boolean | undefined }
  | { readonly _tag: "Memory"; readonly query: string }
  | { readonly _tag: "Approvals" }
  | { readonly _tag: "Audit" }
  | { readonly _tag: "Cost" }
  | { readonly _tag: "Exit" }
  /** A slash command used the wrong way: `message` says how to use it. */
  | { readonly _tag: "Invalid"; readonly message: string }

/** What `/help` prints. */
export const help: ReadonlyArray<string> = [
  "Type a question or a task; the agent answers it, using its tools in the current directory.",
  "  /help              this list",
  "  /clear             forget the conversation so far (the agent's long-term memory stays)",
  "  /agent [NAME|FILE] show the agent, or switch to a built-in (agents/NAME.yaml) or a spec file",
  "  /model [P/MODEL]   show the model, or switch: provider/model, or a model of the current provider",
  "  /mixture [on|off]  ask every configured provider at once and keep the best answer",
  "  /memory QUERY      what the agent remembers about QUERY",
  "  /approvals         approvals waiting (troupe approvals decides them from another shell)",
  "  /audit             the last run's audit trail",
  "  /cost              tokens and money spent in this session",
  "  /exit              leave (also Ctrl-D)",
  "Ctrl-C cancels the step in progress; at the prompt, Ctrl-C twice leaves.",
  "A line starting with a space is not kept in the history."
]

const usage = (message: string): Input => ({ _tag: "Invalid", message })

/** Understands one line. */
export const parse = (line: string): Input => {
  const text = line.trim()
  if (text === "") return { _tag: "Empty" }
  // `//text` sends `/text` to the agent, for a prompt that starts with a slash.
  if (text.startsWith("//")) return { _tag: "Prompt", text: text.slice(1) }
  if (!text.startsWith("/")) return { _tag: "Prompt", text }
  const space = text.search(/\s/)
  const name = (space === -1 ? text : text.slice(0, space)).toLowerCase()
  const rest = space === -1 ? "" : text.slice(space).trim()
  const argument = rest === "" ? undefined : rest
  switch (name) {
    case "/help":
    case "/?":
      return { _tag: "Help" }
    case "/clear":
      return { _tag: "Clear" }
    case "/agent":
      return { _tag: "Agent", name: argument }
    case "/model":
      return argument !== undefined && /\s/.test(argument)
        ? usage("/model takes one model: /model gpt-5-mini or /model anthropic/claude-sonnet-4-5")
        : { _tag: "Model", ref: argument }
    case "/mixture":
      if (argument === undefined) return { _tag: "Mixture", on: undefined }
      if (/^on$/i.test(argument)) return { _tag: "Mixture", on: true }
      if (/^off$/i.test(argument)) return { _tag: "Mixture", on: false }
      return usage("/mixture on or /mixture off")
    case "/memory":
      return argument === undefined ? usage("/memory QUERY: what to look for") : { _tag: "Memory", query: argument }
    case "/approvals":
      return { _tag: "Approvals" }
    case "/audit":
      return { _tag: "Audit" }
    case "/cost":
      return { _tag: "Cost" }
    case "/exit":
    case "/quit":
      return { _tag: "Exit" }
    default:
      return usage(`unknown command ${name.slice(0, 40)}: /help lists them (//text sends /text to the agent)`)
  }
}
