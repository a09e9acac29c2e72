import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { JsonSchema } from "../src/index.ts"
import { root } from "./support.ts"

/** Every object property schema in a JSON Schema document, with its path. */
const properties = (node: unknown, path: string, out: Array<[string, Record<string, unknown>]>) => {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      properties(item, `${path}[${i}]`, out)
    })
    return out
  }
  if (typeof node !== "object" || node === null) return out
  const record = node as Record<string, unknown>
  for (const [key, value] of Object.entries(record)) {
    if ((key === "properties" || key === "patternProperties") && typeof value === "object" && value !== null) {
      for (const [name, schema] of Object.entries(value)) {
        out.push([`${path}.${name}`, schema as Record<string, unknown>])
        properties(schema, `${path}.${name}`, out)
      }
    } else {
      properties(value, `${path}.${key}`, out)
    }
  }
  return out
}

describe("JsonSchema", () => {
  it("is deterministic, formatted, and ends with a newline", () => {
    const a = JsonSchema.agentSchemaText()
    assert.strictEqual(a, JsonSchema.agentSchemaText())
    assert.isTrue(a.endsWith("}\n"))
    assert.strictEqual(a, `${JSON.stringify(JSON.parse(a), null, 2)}\n`)
  })

  it("matches the committed file (run pnpm codegen when this fails)", () => {
    assert.strictEqual(readFileSync(join(root, "agents/agent.schema.json"), "utf8"), JsonSchema.agentSchemaText())
  })

  it("checks agent specs and team files, describes every field and rejects unknown keys", () => {
    const document = JSON.parse(JsonSchema.agentSchemaText())
    assert.strictEqual(document.$schema, "https://json-schema.org/draft/2020-12/schema")
    assert.deepStrictEqual(document.if, { type: "object", required: ["agents"] })
    assert.deepStrictEqual([document.then, document.else], [{ $ref: "#/$defs/team" }, { $ref: "#/$defs/agent" }])
    for (const schema of [document.$defs.agent, document.$defs.team]) {
      assert.strictEqual(schema.additionalProperties, false)
      const all = properties(schema, "$", [])
      assert.isAbove(all.length, 50)
      const undescribed = all.filter(([, s]) => typeof s.description !== "string" || s.description.length === 0)
      assert.deepStrictEqual(
        undescribed.map(([p]) => p),
        []
      )
    }
    const agent = document.$defs.agent
    assert.deepStrictEqual(agent.required, ["name"])
    assert.deepStrictEqual(document.$defs.team.required, ["name", "agents"])
    assert.strictEqual(agent.properties.limits.properties.timeout.default, "20m")
    assert.strictEqual(agent.properties.limits.properties.timeout.pattern, "^(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)$")
  })

  it("is named by a yaml-language-server line in every YAML under agents/", () => {
    const dir = join(root, "agents")
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"))
    assert.includeMembers(files, ["backend.yaml", "team.yaml"])
    assert.isAtLeast(files.length, 10)
    for (const file of files) {
      const first = readFileSync(join(dir, file), "utf8").split("\n")[0]
      assert.strictEqual(first, "# yaml-language-server: $schema=./agent.schema.json", file)
    }
  })
})
