/**
 * The agent spec: everything Troupe needs to run an agent, declared in YAML and decoded here.
 *
 * `AgentSpec.Type` is the decoded, defaulted form (durations are `Duration`s, every defaulted field present);
 * `AgentSpec.Encoded` is what a YAML file holds. Decode with the loader (`SpecLoader`) to get positioned errors;
 * `Schema.decodeUnknownEffect(AgentSpec, parseOptions)` works on plain objects too.
 *
 * @example
 * ```ts
 * import { AgentSpec } from "@troupe/agent-spec"
 * import * as Schema from "effect/Schema"
 *
 * const spec = Schema.decodeUnknownSync(AgentSpec.AgentSpec, AgentSpec.parseOptions)({ name: "helper" })
 * spec.limits.maxSteps // 30
 * ```
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Excerpt from "./internal/excerpt.ts"
import * as Fields from "./internal/fields.ts"
import * as Issues from "./internal/issues.ts"
import * as Suggest from "./internal/suggest.ts"
import * as ModelSpec from "./ModelSpec.ts"
import * as SpecDuration from "./SpecDuration.ts"
import * as ToolSpec from "./ToolSpec.ts"

/** Decoding options every spec decode uses: report every issue with the offending input, reject unknown keys. */
export const parseOptions: SchemaAST.ParseOptions = { errors: "all", onExcessProperty: "error", reportInput: true }

/** An agent's name: lowercase letters, digits and dashes. */
export const AgentName = Schema.String.check(
  Schema.isPattern(/^[a-z0-9-]+$/u, { message: "Expected a name of lowercase letters, digits and dashes" })
)

/** What the agent may do without asking: `auto` runs, `ask` waits for a person's approval, `deny` refuses. */
export const Policy = Schema.Literals(["auto", "ask", "deny"]).annotate({
  description: "auto: run without asking; ask: wait for a person's approval; deny: refuse."
})

/** An approval policy. */
export type Policy = typeof Policy.Type

/** Approval policies: a default, a stricter one for irreversible tools, and per-tool overrides. */
export const Approvals = Schema.Struct({
  default: Fields.withDefault(Policy, "Policy for reversible tool calls.", "auto"),
  irreversible: Fields.withDefault(
    Policy,
    "Policy for tool calls whose effect cannot be undone (shell_run, git_push, mail_send, fs_delete).",
    "ask"
  ),
  tools: Fields.withDefault(
    Schema.Record(Schema.String, Policy),
    "Per-tool overrides, keyed by tool name (or SERVER.TOOL / SERVER.* for MCP tools); they win over the two above.",
    {}
  )
}).annotate({ description: "When the agent must ask a person before acting." })

/** Decoded approval policies. */
export type Approvals = typeof Approvals.Type

/** Long-term memory settings. */
export const Memory = Schema.Struct({
  enabled: Fields.withDefault(Schema.Boolean, "Whether the agent recalls and stores long-term memories.", true),
  namespace: Fields.optional(
    Schema.String.check(Schema.isPattern(/^[a-z0-9][a-z0-9_-]*$/u)),
    "Memory partition shared by agents with the same namespace; the agent's name when absent."
  ),
  recall: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    "How many memories are recalled into each task.",
    8
  ),
  minScore: Fields.optional(
    Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    "Recalled memories must be at least this similar (0..1)."
  )
}).annotate({ description: "Long-term memory." })

/** Decoded memory settings. */
export type Memory = typeof Memory.Type

/** Budgets that stop a run. */
export const Limits = Schema.Struct({
  maxSteps: Fields.withDefault(Schema.Int.check(Schema.isGreaterThan(0)), "Most model turns one task may take.", 30),
  maxTokens: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "Most tokens (input and output, all providers) one task may use.",
    200_000
  ),
  maxCostUsd: Fields.withDefault(
    Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
    "Most US dollars one task may spend.",
    2
  ),
  timeout: SpecDuration.withDefault(
    "Longest working time of one task; time spent waiting for a person's approval is not counted.",
    "20m"
  ),
  stepTimeout: SpecDuration.withDefault("Longest time of one step (one model turn and its tool calls).", "2m"),
  contextTokens: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "Estimated tokens of conversation sent to the model; past 80% of it, older turns are summarised.",
    100_000
  ),
  maxRepeats: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "How often one tool call (same tool, same arguments, same result) may be repeated before the task is stopped as a loop.",
    3
  ),
  maxStalledSteps: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThan(0)),
    "Steps without progress on the plan before the task is stopped as a loop.",
    10
  )
}).annotate({ description: "Budgets; going over one stops the task with a budget error." })

/** Decoded limits. */
export type Limits = typeof Limits.Type

/** When the agent reflects on its work. */
export const ReflectionSettings = Schema.Struct({
  everySteps: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    "Reflect after every N steps (1: after each step; 0: never on a schedule). The agent also reflects after any step with a failure, when it seems to loop, and (with beforeAnswer) before it ends.",
    5
  ),
  beforeAnswer: Fields.withDefault(
    Schema.Boolean,
    "Reflect on the model's answer before the task ends; the reflection may send the agent back to work. false: an answer from a step without failures ends the task.",
    true
  )
}).annotate({ description: "Self-reflection: when the agent judges its last steps and decides what to do next." })

/** Whether the agent plans before it acts. */
export const PlanningSettings = Schema.Struct({
  enabled: Fields.withDefault(
    Schema.Boolean,
    "Make a plan (structured output) before the first step. false: the agent acts on the task at once; a reflection that asks to re-plan still makes one.",
    true
  )
}).annotate({ description: "Planning: goals and subgoals with their status, made before the first step." })

/** Decoded planning settings. */
export type PlanningSettings = typeof PlanningSettings.Type

/** Decoded reflection settings. */
export type ReflectionSettings = typeof ReflectionSettings.Type

const window = (what: string, value: number) =>
  Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThan(0)),
    `How many of the latest ${what} the metric covers.`,
    value
  )

/** A rule that raises an alert: the agent's success rate, cost per run or step latency passing a bound. */
export const Alert = Schema.Union([
  Schema.Struct({
    metric: Fields.required(Schema.Literal("success-rate"), "The share of runs that succeeded."),
    below: Fields.required(
      Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
      "Alert below this share."
    ),
    window: window("runs", 20)
  }),
  Schema.Struct({
    metric: Fields.required(Schema.Literal("cost-per-run"), "What one run cost, in US dollars."),
    above: Fields.required(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)), "Alert above this cost.")
  }),
  Schema.Struct({
    metric: Fields.required(Schema.Literal("step-latency-p95"), "The 95th percentile of step durations."),
    above: SpecDuration.field("Alert above this latency."),
    window: window("steps", 100)
  })
]).annotate({ description: "An alert rule: when the metric passes its bound, an AgentAlertRaised event is published." })

/** A decoded alert rule. */
export type Alert = typeof Alert.Type

/** How the agent's supervisor restarts it after a failure. */
export const Supervision = Schema.Struct({
  restart: Fields.withDefault(
    Schema.Literals(["permanent", "transient", "temporary"]).annotate({
      description: "permanent: always restart; transient: restart only after a failure; temporary: never restart."
    }),
    "Restart policy.",
    "transient"
  ),
  maxRestarts: Fields.withDefault(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    "Restarts allowed within the period before the supervisor gives up (the runtime's default, OTP's 1 in 5s).",
    1
  ),
  within: SpecDuration.withDefault("The period maxRestarts counts over.", "5s"),
  backoff: Schema.optionalKey(
    SpecDuration.field("Delay before the first restart; doubles on each further one. No delay when absent.")
  )
}).annotate({ description: "Restart policy under the supervisor." })

/** Decoded supervision settings. */
export type Supervision = typeof Supervision.Type

const fields = {
  name: Fields.required(AgentName, "The agent's name: lowercase letters, digits and dashes."),
  description: Fields.withDefault(Schema.String, "One line on what the agent does (shown to managers).", ""),
  persona: Fields.withDefault(Schema.String, "Who the agent is, e.g. Senior backend engineer.", ""),
  instructions: Fields.withDefault(
    Schema.String,
    "Standing instructions (the system prompt). Mutually exclusive with instructionsFile.",
    ""
  ),
  instructionsFile: Fields.optional(
    Schema.String,
    "A file, relative to this spec, holding the instructions; the loader reads it into instructions."
  ),
  goals: Fields.withDefault(Fields.Strings, "Standing goals the agent pursues in every task.", []),
  model: Fields.optional(
    ModelSpec.ModelRef,
    "The model the agent uses. Mutually exclusive with mixture; openai gpt-5-mini when both are absent."
  ),
  mixture: Fields.optional(ModelSpec.Mixture, "Several models queried in parallel. Mutually exclusive with model."),
  providers: Fields.withDefault(
    Schema.Record(Schema.String.check(Schema.isPattern(/^[a-z0-9][a-z0-9_-]*$/u)), ModelSpec.ProviderDefinition),
    "Named provider definitions, in addition to the built-ins openai, anthropic, gemini and ollama.",
    {}
  ),
  tools: Fields.withDefault(
    Schema.Array(ToolSpec.ToolEntry),
    "The tools the agent may use (an allowlist); each a name or a one-key map of name to options.",
    []
  ),
  approvals: Fields.withDefault(Approvals, "When to ask a person first.", {}),
  constraints: Fields.withDefault(Fields.Strings, "Rules the agent must never break (added to its prompt).", []),
  memory: Fields.withDefault(Memory, "Long-term memory.", {}),
  limits: Fields.withDefault(Limits, "Budgets.", {}),
  supervision: Fields.withDefault(Supervision, "Restart policy.", {}),
  planning: Fields.withDefault(PlanningSettings, "Whether the agent plans before it acts.", {}),
  reflection: Fields.withDefault(ReflectionSettings, "When the agent reflects on its work.", {}),
  alerts: Fields.withDefault(Schema.Array(Alert), "Rules that raise alerts on the agent's metrics.", [])
}

/** A problem that involves several fields, at the path of the field to change. */
export interface CrossFieldIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
  readonly atKey: boolean
}

/** The parts of a spec the cross-field rules look at, read from decoded or from raw (undecoded) data. */
interface View {
  readonly hasModel: boolean
  readonly hasMixture: boolean
  readonly hasInstructions: boolean
  readonly hasInstructionsFile: boolean
  readonly modelProvider: string | undefined
  readonly mixtureProviders: ReadonlyArray<string | undefined>
  readonly mixtureStrategy: string | undefined
  readonly hasJudge: boolean
  readonly judgeProvider: string | undefined
  readonly providers: ReadonlyArray<string>
  readonly tools: ReadonlyArray<{ readonly name: string | undefined; readonly server: string | undefined }>
  readonly approvalKeys: ReadonlyArray<string>
}

const record = (u: unknown): Record<string, unknown> | undefined => (Predicate.isObject(u) ? u : undefined)

const str = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)

const rawView = (raw: Record<string, unknown>): View => {
  const tools = Array.isArray(raw.tools) ? raw.tools : []
  return {
    hasModel: raw.model !== undefined,
    hasMixture: raw.mixture !== undefined,
    hasInstructions: typeof raw.instructions === "string" && raw.instructions !== "",
    hasInstructionsFile: raw.instructionsFile !== undefined,
    modelProvider: str(record(raw.model)?.provider),
    mixtureProviders: ((): ReadonlyArray<string | undefined> => {
      const members = record(raw.mixture)?.providers
      return Array.isArray(members) ? members.map((m) => str(record(m)?.provider)) : []
    })(),
    mixtureStrategy: str(record(raw.mixture)?.strategy),
    hasJudge: record(raw.mixture)?.judge !== undefined,
    judgeProvider: str(record(record(raw.mixture)?.judge)?.provider),
    providers: Object.keys(record(raw.providers) ?? {}),
    tools: tools.map((entry) => {
      if (typeof entry === "string") return { name: entry, server: undefined }
      const map = record(entry)
      const keys = map === undefined ? [] : Object.keys(map)
      const name = keys.length === 1 ? keys[0] : undefined
      return { name, server: name === "mcp" ? str(record(map?.mcp)?.server) : undefined }
    }),
    approvalKeys: Object.keys(record(record(raw.approvals)?.tools) ?? {})
  }
}

const decodedView = (spec: Schema.Struct.Type<typeof fields>): View => ({
  hasModel: spec.model !== undefined,
  hasMixture: spec.mixture !== undefined,
  hasInstructions: spec.instructions !== "",
  hasInstructionsFile: spec.instructionsFile !== undefined,
  modelProvider: spec.model?.provider,
  mixtureProviders: spec.mixture?.providers.map((m) => m.provider) ?? [],
  mixtureStrategy: spec.mixture?.strategy,
  hasJudge: spec.mixture?.judge !== undefined,
  judgeProvider: spec.mixture?.judge?.provider,
  providers: Object.keys(spec.providers),
  tools: spec.tools.map((tool) => ({ name: tool.name, server: tool.name === "mcp" ? tool.options.server : undefined })),
  approvalKeys: Object.keys(spec.approvals.tools)
})

const crossFieldRules = (view: View): ReadonlyArray<CrossFieldIssue> => {
  const issues: Array<CrossFieldIssue> = []
  if (view.hasModel && view.hasMixture) {
    issues.push({ path: ["mixture"], atKey: true, message: "model and mixture are mutually exclusive: give one" })
  }
  if (view.hasInstructionsFile && view.hasInstructions) {
    issues.push({
      path: ["instructionsFile"],
      atKey: true,
      message: "instructions and instructionsFile are mutually exclusive: give one"
    })
  }
  const providers = [...Object.keys(ModelSpec.builtinProviders), ...view.providers]
  const known = new Set(providers)
  // A hostile spec may name thousands of providers: the message lists a few, never all of them.
  const listed =
    providers.length <= 8
      ? providers.join(", ")
      : `${providers.slice(0, 8).join(", ")} and ${providers.length - 8} more`
  const checkProvider = (provider: string | undefined, path: ReadonlyArray<PropertyKey>) => {
    if (provider !== undefined && !known.has(provider)) {
      issues.push({
        path,
        atKey: false,
        message: `Unknown provider ${Excerpt.literal(provider)}${Suggest.didYouMean(provider, providers)}; define it under providers or use one of ${listed}`
      })
    }
  }
  checkProvider(view.modelProvider, ["model", "provider"])
  view.mixtureProviders.forEach((provider, i) => {
    checkProvider(provider, ["mixture", "providers", i, "provider"])
  })
  checkProvider(view.judgeProvider, ["mixture", "judge", "provider"])
  if (view.hasJudge && (view.mixtureStrategy ?? "weighted-score") !== "weighted-score") {
    issues.push({
      path: ["mixture", "judge"],
      atKey: true,
      message: "a judge rates answers under the weighted-score strategy only: remove it, or use weighted-score"
    })
  }
  const seen = new Set<string>()
  const servers = new Set<string>()
  view.tools.forEach((tool, i) => {
    if (tool.name === undefined) return
    if (tool.name === "mcp") {
      if (tool.server === undefined) return
      if (servers.has(tool.server)) {
        issues.push({
          path: ["tools", i, "mcp", "server"],
          atKey: false,
          message: `MCP server ${Excerpt.literal(tool.server)} is listed twice`
        })
      }
      servers.add(tool.server)
    } else {
      if (seen.has(tool.name))
        issues.push({ path: ["tools", i], atKey: false, message: `Tool ${Excerpt.literal(tool.name)} is listed twice` })
      seen.add(tool.name)
    }
  })
  const approvable = [...ToolSpec.toolNames.filter((name) => name !== "mcp"), ...[...servers].map((s) => `${s}.*`)]
  const approvableSet = new Set(approvable)
  for (const key of view.approvalKeys) {
    const dot = key.indexOf(".")
    const isKnown = dot > 0 ? servers.has(key.slice(0, dot)) : approvableSet.has(key)
    if (!isKnown) {
      issues.push({
        path: ["approvals", "tools", key],
        atKey: true,
        message: `${dot > 0 ? `No MCP server ${Excerpt.literal(key.slice(0, dot))} for` : "Unknown tool"} ${Excerpt.literal(key)}${Suggest.didYouMean(key, approvable)}`
      })
    }
  }
  return issues
}

/**
 * The cross-field problems of raw (undecoded) spec data: model and mixture both given, unknown providers,
 * duplicate tools, approvals for tools the agent does not have, ... The loader reports these together with the
 * field problems, which the schema alone would only report once every field decodes.
 */
export const crossFieldIssues = (raw: unknown): ReadonlyArray<CrossFieldIssue> => {
  const map = record(raw)
  return map === undefined ? [] : crossFieldRules(rawView(map))
}

/**
 * The agent spec schema. Unknown keys are errors when decoded with {@link parseOptions}.
 *
 * Defaults: description, persona and instructions `""`; goals, tools, constraints `[]`; approvals
 * `{ default: auto, irreversible: ask }`; memory `{ enabled: true, recall: 8 }`; limits `{ maxSteps: 30,
 * maxTokens: 200000, maxCostUsd: 2, timeout: 20m, stepTimeout: 2m, contextTokens: 100000, maxRepeats: 3,
 * maxStalledSteps: 10 }`; supervision `{ restart: transient, maxRestarts: 1, within: 5s }` (the runtime's intensity, no backoff);
 * planning `{ enabled: true }`; reflection `{ everySteps: 5, beforeAnswer: true }`; alerts `[]`. `model` and `mixture` stay absent when not given: use
 * {@link modelsOf} for the effective models.
 */
export const AgentSpec = Schema.Struct(fields)
  .annotate({
    title: "Troupe agent spec",
    description: "An agent declared in YAML: persona, goals, tools, constraints, approvals, memory, model and limits."
  })
  .check(
    Schema.makeFilter((spec) =>
      crossFieldRules(decodedView(spec)).map((issue) => ({
        path: issue.path,
        issue: new SchemaIssue.InvalidValue({ message: issue.message, [Issues.atKeyAnnotation]: issue.atKey })
      }))
    )
  )

/** A decoded, defaulted agent spec. */
export type AgentSpec = typeof AgentSpec.Type

/** An agent spec as written in YAML (before decoding and defaults). */
export type AgentSpecInput = typeof AgentSpec.Encoded

/**
 * The models the agent uses, as a mixture: its `mixture`, or its single `model` (or {@link ModelSpec.defaultModel})
 * as a one-member `first-valid` mixture, so callers handle one shape.
 */
export const modelsOf = (spec: AgentSpec): ModelSpec.Mixture =>
  spec.mixture ?? {
    strategy: "first-valid",
    timeout: spec.limits.stepTimeout,
    retries: 1,
    providers: [{ ...(spec.model ?? ModelSpec.defaultModel), weight: 1 }]
  }

/** The provider definition a model reference names: one of the spec's `providers`, or a built-in. */
export const providerOf = (spec: AgentSpec, provider: string): ModelSpec.ProviderDefinition | undefined =>
  spec.providers[provider] ?? ModelSpec.builtinProviders[provider]

/** The memory namespace: `memory.namespace`, or the agent's name. */
export const memoryNamespace = (spec: AgentSpec): string => spec.memory.namespace ?? spec.name

/**
 * The policy for a call of `tool` (a built-in name, or `SERVER.TOOL` for MCP): a per-tool override, then
 * `SERVER.*`, then `irreversible` or `default` by whether the call's effect can be undone: `irreversible` when the
 * caller knows it for this very call (an `http_fetch` POST is irreversible, a GET is not), else by the tool's
 * nature in the catalogue (MCP tools count as irreversible).
 */
export const policyFor = (spec: AgentSpec, tool: string, irreversible?: boolean): Policy => {
  const overrides = spec.approvals.tools
  const direct = overrides[tool]
  if (direct !== undefined) return direct
  const dot = tool.indexOf(".")
  const server = dot > 0 ? overrides[`${tool.slice(0, dot)}.*`] : undefined
  if (server !== undefined) return server
  const irreversibleCall =
    irreversible === undefined
      ? dot > 0 || (tool in ToolSpec.catalogue && ToolSpec.isIrreversible(tool as ToolSpec.ToolName))
      : irreversible
  return irreversibleCall ? spec.approvals.irreversible : spec.approvals.default
}
