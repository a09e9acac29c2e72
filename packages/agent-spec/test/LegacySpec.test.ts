import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { AgentSpec, LegacySpec } from "../src/index.ts"

const legacy = (ai_provider: LegacySpec.LegacySpec["ai_provider"]): LegacySpec.LegacySpec => ({
  name: "BackendGPT",
  ai_provider,
  model: "some-model",
  position: "Backend developer",
  role: "assistant",
  prompt: "Build the API"
})

const mapped = (spec: LegacySpec.LegacySpec) =>
  Schema.decodeUnknownSync(AgentSpec.AgentSpec, AgentSpec.parseOptions)(LegacySpec.toAgentSpecInput(spec))

describe("LegacySpec", () => {
  it("maps the built-in providers directly, and cld to anthropic", () => {
    for (const [given, provider] of [
      ["gemini", "gemini"],
      ["openai", "openai"],
      ["anthropic", "anthropic"],
      ["cld", "anthropic"]
    ] as const) {
      const spec = mapped(legacy(given))
      assert.deepStrictEqual(spec.model, { provider, model: "some-model" })
      assert.deepStrictEqual(spec.providers, {})
    }
  })

  it("maps xai, cohere and hf to OpenAI-compatible provider definitions", () => {
    const expected = {
      xai: ["https://api.x.ai/v1", "XAI_API_KEY"],
      cohere: ["https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"],
      hf: ["https://router.huggingface.co/v1", "HF_TOKEN"]
    } as const
    for (const name of ["xai", "cohere", "hf"] as const) {
      const spec = mapped(legacy(name))
      assert.strictEqual(spec.model?.provider, name)
      assert.deepStrictEqual(spec.providers[name], {
        kind: "openai",
        baseUrl: expected[name][0],
        apiKeyEnv: expected[name][1],
        headers: {}
      })
      assert.include(LegacySpec.notice(legacy(name)), expected[name][0])
    }
  })

  it("maps persona or position, role and prompt", () => {
    const spec = mapped({ ...legacy("openai"), persona: "Newer persona" })
    assert.strictEqual(spec.name, "backend-gpt")
    assert.strictEqual(spec.persona, "Newer persona")
    assert.strictEqual(spec.description, "assistant")
    assert.deepStrictEqual(spec.goals, ["Build the API"])
    assert.strictEqual(mapped(legacy("openai")).persona, "Backend developer")
  })

  it("turns names into valid agent names", () => {
    assert.strictEqual(LegacySpec.kebabName("ArchitectGPT"), "architect-gpt")
    assert.strictEqual(LegacySpec.kebabName("My Agent 2"), "my-agent-2")
    assert.strictEqual(LegacySpec.kebabName("HTTPServer"), "http-server")
    assert.strictEqual(LegacySpec.kebabName("!!!"), "agent")
  })

  it("traces each field of the mapped spec back to the legacy key it came from", () => {
    const spec = legacy("xai")
    const cases: ReadonlyArray<[ReadonlyArray<PropertyKey>, keyof LegacySpec.LegacySpec]> = [
      [["name"], "name"],
      [["description"], "role"],
      [["persona"], "position"],
      [["instructions"], "prompt"],
      [["goals", 0], "prompt"],
      [["model", "provider"], "ai_provider"],
      [["model", "model"], "model"],
      [["providers", "xai", "baseUrl"], "ai_provider"]
    ]
    for (const [path, key] of cases) assert.strictEqual(LegacySpec.sourceKey(spec, path), key, path.join("."))
    assert.strictEqual(LegacySpec.sourceKey({ ...spec, persona: "p" }, ["persona"]), "persona")
    const { role: _role, position: _position, ...bare } = spec
    assert.strictEqual(LegacySpec.sourceKey(bare, ["description"]), "name")
    assert.strictEqual(LegacySpec.sourceKey(bare, ["persona"]), "name")
  })

  it("recognises the legacy form by ai_provider", () => {
    assert.isTrue(LegacySpec.isLegacy(["name", "ai_provider"]))
    assert.isFalse(LegacySpec.isLegacy(["name", "model"]))
  })
})
