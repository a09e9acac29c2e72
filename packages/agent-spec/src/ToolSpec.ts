/**
 * The tools an agent may use: a closed catalogue of built-in tools, each with typed options, plus `mcp` entries
 * for tools served by Model Context Protocol servers.
 *
 * In YAML a tool is either its bare name (`- fs_read`, all options defaulted) or a one-key map from the name to
 * its options (`- shell_run: { allow: [npm], timeout: 60s }`). Decoded, every entry is `{ name, options }`.
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Fields from "./internal/fields.ts"
import * as Issues from "./internal/issues.ts"
import * as SpecDuration from "./SpecDuration.ts"

const paths = (what: string) =>
  Fields.withDefault(
    Fields.Strings,
    `Glob patterns, relative to the workspace, of the files this tool may ${what}; nothing outside the workspace is ever reachable.`,
    ["**"]
  )

/** Options of `fs_read`, `fs_list`, `fs_write` and `fs_delete`. */
export const FsOptions = Schema.Struct({ paths: paths("touch") })

/** Options of `shell_run`. */
export const ShellRunOptions = Schema.Struct({
  allow: Fields.withDefault(
    Fields.Strings,
    'Programs the agent may run (the first word of a command). ["*"] allows any program; every run still goes through approvals.',
    ["*"]
  ),
  timeout: SpecDuration.withDefault("How long one command may run before it is killed.", "60s"),
  cwd: Fields.optional(Schema.String, "Working directory, relative to the workspace."),
  env: Fields.withDefault(
    Schema.Record(Schema.String, Schema.String),
    "Extra environment variables for the commands.",
    {}
  )
})

/** Options of `shell_start`: those of `shell_run`, with a timeout for programs left to run in the background. */
export const ShellStartOptions = Schema.Struct({
  ...ShellRunOptions.fields,
  timeout: SpecDuration.withDefault("How long one program may run in the background before it is killed.", "10m")
})

/** Options of `git_push`. */
export const GitPushOptions = Schema.Struct({
  remote: Fields.withDefault(Schema.String, "The remote pushed to.", "origin"),
  branches: Fields.withDefault(Fields.Strings, 'Branch patterns that may be pushed; ["*"] allows any.', ["*"])
})

/** Options of `http_fetch`. */
export const HttpFetchOptions = Schema.Struct({
  hosts: Fields.withDefault(Fields.Strings, 'Host names that may be fetched ("*.example.com" patterns allowed).', []),
  methods: Fields.withDefault(
    Schema.Array(Schema.Literals(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])),
    "HTTP methods allowed.",
    ["GET"]
  ),
  timeout: SpecDuration.withDefault("How long one request may take.", "30s")
})

/** Options of `mail_send`. */
export const MailSendOptions = Schema.Struct({
  to: Fields.withDefault(Fields.Strings, 'Addresses or "@domain" suffixes mail may be sent to; empty allows none.', []),
  from: Fields.optional(Schema.String, "The sender address; defaults to the transport's configured sender.")
})

/** Options of `delegate` (hand a task to another agent of the team). */
export const DelegateOptions = Schema.Struct({
  agents: Fields.withDefault(
    Fields.Strings,
    "Names of the agents that may be delegated to; empty allows any team member.",
    []
  )
})

/** Options of `wait_for` (wait for a file change in the workspace, or for time to pass). */
export const WaitForOptions = Schema.Struct({
  paths: paths("watch for changes"),
  maxWait: SpecDuration.withDefault(
    "Longest one wait may last: a longer sleep is refused, and a wait for a change gives up at it.",
    "10m"
  )
})

const noKeys = Schema.makeFilter((options: object) =>
  Object.keys(options).map((key) => ({
    path: [key],
    issue: new SchemaIssue.InvalidValue({
      message: `Unknown key "${key}": this tool takes no options`,
      [Issues.atKeyAnnotation]: true
    })
  }))
)

/**
 * Options of the tools that take none: an empty map. An empty struct alone lets any key through, so a check
 * reports each one, at its key.
 */
export const NoOptions = Schema.Struct({}).check(noKeys)

/** Options of an `mcp` entry: one Model Context Protocol server, reached over stdio (`command`) or HTTP (`url`). */
export const McpOptions = Schema.Struct({
  server: Fields.required(
    Schema.String.check(Schema.isPattern(/^[a-z0-9][a-z0-9_-]*$/u)),
    "Name of the server; its tools appear as SERVER.TOOL (e.g. in approvals)."
  ),
  command: Fields.optional(Schema.String, "Program that runs the server over stdio."),
  args: Fields.withDefault(Fields.Strings, "Arguments of the command.", []),
  env: Fields.withDefault(Schema.Record(Schema.String, Schema.String), "Environment of the command.", {}),
  url: Fields.optional(Schema.String, "HTTP endpoint of a remote server (instead of command)."),
  allow: Fields.optional(Fields.Strings, "The server's tools the agent may use; all of them when absent."),
  timeout: SpecDuration.withDefault("How long one call may take.", "30s")
})
  // Annotated before the check: annotations given after a check do not reach the JSON Schema.
  .annotate({ description: "Tools of a Model Context Protocol server." })
  .check(
    Schema.makeFilter((o) =>
      (o.command === undefined) === (o.url === undefined)
        ? { path: ["command"], issue: "Give exactly one of command (stdio) or url (HTTP)" }
        : undefined
    )
  )

/** The built-in tools: what each does, whether its effect can be undone, and its options. */
export const catalogue = {
  fs_read: { description: "Read a file of the workspace.", irreversible: false, options: FsOptions },
  fs_list: { description: "List files of the workspace.", irreversible: false, options: FsOptions },
  fs_write: { description: "Create or overwrite a file of the workspace.", irreversible: false, options: FsOptions },
  fs_delete: { description: "Delete a file of the workspace.", irreversible: true, options: FsOptions },
  shell_run: { description: "Run a program in the workspace.", irreversible: true, options: ShellRunOptions },
  shell_start: {
    description: "Start a program in the workspace in the background; wait_for reports its exit.",
    irreversible: true,
    options: ShellStartOptions
  },
  git_status: { description: "Show the working tree status.", irreversible: false, options: NoOptions },
  git_diff: { description: "Show changes.", irreversible: false, options: NoOptions },
  git_log: { description: "Show commit history.", irreversible: false, options: NoOptions },
  git_commit: { description: "Record staged changes as a commit.", irreversible: false, options: NoOptions },
  git_push: { description: "Push commits to a remote.", irreversible: true, options: GitPushOptions },
  http_fetch: { description: "Make an HTTP request.", irreversible: false, options: HttpFetchOptions },
  mail_send: { description: "Send an email.", irreversible: true, options: MailSendOptions },
  memory_recall: {
    description: "Search long-term memory (the agent's own and its team's) by meaning and keywords.",
    irreversible: false,
    options: NoOptions
  },
  memory_remember: {
    description: "Store an episode, fact, lesson or document in long-term memory.",
    irreversible: false,
    options: NoOptions
  },
  knowledge_query: {
    description: "Look up facts (subject, predicate, object) in the knowledge base, now or as of a time.",
    irreversible: false,
    options: NoOptions
  },
  knowledge_assert: {
    description:
      "Record a fact (subject, predicate, object) in the knowledge base; one it contradicts stays in the history.",
    irreversible: false,
    options: NoOptions
  },
  delegate: { description: "Hand a task to another agent.", irreversible: false, options: DelegateOptions },
  ask_human: { description: "Ask a person a question and wait.", irreversible: false, options: NoOptions },
  wait_for: {
    description:
      "Wait for files of the workspace to change, a program started in the background to end, or time to pass.",
    irreversible: false,
    options: WaitForOptions
  },
  // A server's tool can do anything: irreversible unless the approvals say otherwise.
  mcp: { description: "Tools of a Model Context Protocol server.", irreversible: true, options: McpOptions }
} as const

type Catalogue = typeof catalogue

/** The name of a built-in tool. */
export type ToolName = keyof Catalogue

/** Every built-in tool name, in catalogue order. */
export const toolNames = Object.keys(catalogue) as ReadonlyArray<ToolName>

/** The decoded options of each tool. */
export type ToolOptions = { readonly [K in ToolName]: Catalogue[K]["options"]["Type"] }

/** One decoded tool entry: its name and its (defaulted) options. */
export type ToolSpec = { readonly [K in ToolName]: { readonly name: K; readonly options: ToolOptions[K] } }[ToolName]

/** Whether a tool's effect cannot be undone (so approvals treat it as `irreversible`). */
export const isIrreversible = (name: ToolName): boolean => catalogue[name].irreversible

/** The options of the first entry named `name`, typed, or `undefined` when the agent does not have that tool. */
export const find = <K extends ToolName>(tools: ReadonlyArray<ToolSpec>, name: K): ToolOptions[K] | undefined =>
  tools.find((tool) => tool.name === name)?.options as ToolOptions[K] | undefined

type EntryFields = { readonly [K in ToolName]: Schema.optionalKey<Catalogue[K]["options"]> }

const described = (name: ToolName): Schema.Top => {
  const { description, options } = catalogue[name]
  if (name === "mcp") return options
  // Annotations given after a check land on the check, which the JSON Schema does not show: describe the empty
  // struct first, then check it.
  return options === NoOptions
    ? Schema.Struct({}).annotate({ description }).check(noKeys)
    : options.annotate({ description })
}

const entryFields = Object.fromEntries(
  toolNames.map((name) => [name, Schema.optionalKey(described(name))])
) as unknown as EntryFields

/** The map form of a tool entry: exactly one key, the tool's name, with its options. */
const ToolMap = Schema.Struct(entryFields)
  .annotate({ description: "A tool with options: exactly one key, the tool's name." })
  .check(
    Schema.makeFilter((entry) =>
      Object.keys(entry).length === 1 ? undefined : "Expected exactly one tool name as the key of a tool entry"
    )
  )

/** The bare-name form of a tool entry (`- fs_read`): the tool with every option defaulted. */
const ToolByName = Schema.Literals(toolNames.filter((name) => name !== "mcp") as Array<Exclude<ToolName, "mcp">>)
  .annotate({ description: "A built-in tool by name, with default options." })
  .pipe(
    Schema.decodeTo(ToolMap, {
      decode: SchemaGetter.transform((name) => ({ [name]: {} }) as (typeof ToolMap)["Encoded"]),
      encode: SchemaGetter.transform((entry) => Object.keys(entry)[0] as Exclude<ToolName, "mcp">)
    })
  )

const isToolSpec = (u: unknown): u is ToolSpec =>
  Predicate.isObject(u) && "name" in u && typeof u.name === "string" && u.name in catalogue && "options" in u

/**
 * A tool entry: a bare name or a one-key map of name to options, decoded to a {@link ToolSpec}. Encoding always
 * writes the map form (the map member comes first), so no option is lost.
 */
export const ToolEntry = Schema.Union([ToolMap, ToolByName]).pipe(
  Schema.decodeTo(Schema.declare(isToolSpec), {
    decode: SchemaGetter.transform((entry) => {
      const name = Object.keys(entry)[0] as ToolName
      return { name, options: (entry as Record<string, unknown>)[name] } as ToolSpec
    }),
    encode: SchemaGetter.transform((spec: ToolSpec) => ({ [spec.name]: spec.options }) as (typeof ToolMap)["Type"])
  })
)
