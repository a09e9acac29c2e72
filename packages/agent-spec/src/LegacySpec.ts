/**
 * The six-field agent format of the reference Rust framework, `wiseaidotdev/autogpt` (formerly `kevin-rs/autogpt`),
 * accepted and mapped onto {@link AgentSpec}.
 *
 * ```yaml
 * name: ArchitectGPT
 * ai_provider: gemini        # gemini | openai | anthropic | cld | xai | cohere | hf
 * model: gemini-2.5-flash
 * position: Lead architect   # or persona
 * role: assistant
 * prompt: Design the system
 * ```
 *
 * Mapping: `name` becomes a kebab-case name, `ai_provider`/`model` the `model`, `persona`/`position` the persona,
 * `prompt` (the reference's objective) the first goal and the instructions, `role` the description. xAI, Cohere
 * and Hugging Face have no protocol of their own here; each maps to a provider definition over their documented
 * OpenAI-compatible endpoints.
 */
import * as Schema from "effect/Schema"
import type * as AgentSpec from "./AgentSpec.ts"
import * as Fields from "./internal/fields.ts"
import type * as ModelSpec from "./ModelSpec.ts"

/** The `ai_provider` values of `wiseaidotdev/autogpt`. */
export const LegacyProvider = Schema.Literals(["gemini", "openai", "anthropic", "cld", "xai", "cohere", "hf"])

/** The legacy agent schema (as written; all keys checked, unknown keys are errors). */
export const LegacySpec = Schema.Struct({
  name: Fields.required(Fields.Text, "The agent's name."),
  ai_provider: Fields.required(LegacyProvider, "The provider."),
  model: Fields.required(Fields.Text, "The model name."),
  persona: Fields.optional(Schema.String, "Who the agent is."),
  position: Fields.optional(Schema.String, "Who the agent is (older name of persona)."),
  role: Fields.optional(Schema.String, "The role label of the agent's messages."),
  prompt: Fields.required(Fields.Text, "The agent's objective.")
})

/** A decoded legacy spec. */
export type LegacySpec = typeof LegacySpec.Type

/** Whether a document's root keys are the legacy format's (it is the only one with `ai_provider`). */
export const isLegacy = (rootKeys: ReadonlyArray<string>): boolean => rootKeys.includes("ai_provider")

// Provider definitions, named like the legacy value, of the providers reached over an OpenAI-compatible endpoint.
const openaiCompatible: Record<string, (typeof ModelSpec.ProviderDefinition)["Encoded"]> = {
  xai: { kind: "openai", baseUrl: "https://api.x.ai/v1", apiKeyEnv: "XAI_API_KEY", headers: {} },
  cohere: {
    kind: "openai",
    baseUrl: "https://api.cohere.ai/compatibility/v1",
    apiKeyEnv: "COHERE_API_KEY",
    headers: {}
  },
  hf: { kind: "openai", baseUrl: "https://router.huggingface.co/v1", apiKeyEnv: "HF_TOKEN", headers: {} }
}

const providerName = (legacy: LegacySpec): string => (legacy.ai_provider === "cld" ? "anthropic" : legacy.ai_provider)

/** `ArchitectGPT` → `architect-gpt`; anything left that is not `[a-z0-9-]` becomes a dash. */
export const kebabName = (name: string): string => {
  const kebab = name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
  return kebab === "" ? "agent" : kebab
}

/** The agent spec (in its written form, to be decoded with defaults) that a legacy spec means. */
export const toAgentSpecInput = (legacy: LegacySpec): AgentSpec.AgentSpecInput => {
  const provider = providerName(legacy)
  const compatible = openaiCompatible[legacy.ai_provider]
  const persona = legacy.persona ?? legacy.position
  return {
    name: kebabName(legacy.name),
    ...(legacy.role !== undefined ? { description: legacy.role } : {}),
    ...(persona !== undefined ? { persona } : {}),
    instructions: legacy.prompt,
    goals: [legacy.prompt],
    model: { provider, model: legacy.model },
    ...(compatible !== undefined ? { providers: { [provider]: compatible } } : {})
  }
}

/**
 * The legacy key an agent spec path comes from (`model.provider` → `ai_provider`, `goals.0` → `prompt`, ...), so
 * a problem of the mapped spec points at what the author wrote. Paths the mapping makes up point at `ai_provider`.
 */
export const sourceKey = (legacy: LegacySpec, path: ReadonlyArray<PropertyKey>): keyof LegacySpec => {
  switch (String(path[0])) {
    case "name":
      return "name"
    case "description":
      return legacy.role !== undefined ? "role" : "name"
    case "persona":
      return legacy.persona !== undefined ? "persona" : legacy.position !== undefined ? "position" : "name"
    case "instructions":
    case "goals":
      return "prompt"
    case "model":
      return path[1] === "model" ? "model" : "ai_provider"
    default:
      return "ai_provider"
  }
}

/**
 * The notice returned with every legacy spec. `name` is how the mapped agent's name is shown; the loader passes a
 * short excerpt (or the `${VAR}` it came from), since the legacy name is free text.
 */
export const notice = (legacy: LegacySpec, name = `"${kebabName(legacy.name)}"`): string => {
  const via = openaiCompatible[legacy.ai_provider]
  return `legacy six-field agent format of wiseaidotdev/autogpt, formerly kevin-rs/autogpt (name, ai_provider, model, persona/position, role, prompt): mapped to agent ${name} on ${providerName(legacy)}${via === undefined ? "" : ` (OpenAI-compatible ${via.baseUrl}, key from ${via.apiKeyEnv})`}, prompt as goal and instructions; write the full format to add tools, approvals, memory and limits`
}
