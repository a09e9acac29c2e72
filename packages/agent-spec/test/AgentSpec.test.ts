import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { AgentSpec, ToolSpec } from "../src/index.ts"
import * as Issues from "../src/internal/issues.ts"

const decode = Schema.decodeUnknownExit(AgentSpec.AgentSpec, AgentSpec.parseOptions)

const ok = (input: unknown): AgentSpec.AgentSpec => {
  const exit = decode(input)
  if (Exit.isFailure(exit)) assert.fail(`expected success, got ${exit.cause}`)
  return exit.value
}

const problems = (input: unknown): ReadonlyArray<string> => {
  const exit = decode(input)
  if (Exit.isSuccess(exit)) return assert.fail("expected failure")
  return exit.cause.reasons.flatMap((r) =>
    r._tag === "Fail" ? Issues.flatten(r.error.issue).map((f) => `${f.path.join(".")}: ${f.message}`) : []
  )
}

const ms = (d: Duration.Duration) => Duration.toMillis(d)

describe("AgentSpec", () => {
  it("fills every default from a name alone", () => {
    const spec = ok({ name: "helper" })
    assert.strictEqual(spec.description, "")
    assert.strictEqual(spec.persona, "")
    assert.strictEqual(spec.instructions, "")
    assert.isUndefined(spec.instructionsFile)
    assert.deepStrictEqual(spec.goals, [])
    assert.isUndefined(spec.model)
    assert.isUndefined(spec.mixture)
    assert.deepStrictEqual(spec.providers, {})
    assert.deepStrictEqual(spec.tools, [])
    assert.deepStrictEqual(spec.approvals, { default: "auto", irreversible: "ask", tools: {} })
    assert.deepStrictEqual(spec.constraints, [])
    assert.deepStrictEqual(spec.memory, { enabled: true, recall: 8 })
    assert.strictEqual(spec.limits.maxSteps, 30)
    assert.strictEqual(spec.limits.maxTokens, 200_000)
    assert.strictEqual(spec.limits.maxCostUsd, 2)
    assert.strictEqual(ms(spec.limits.timeout), 20 * 60_000)
    assert.strictEqual(ms(spec.limits.stepTimeout), 2 * 60_000)
    assert.strictEqual(spec.supervision.restart, "transient")
    assert.strictEqual(spec.supervision.maxRestarts, 1)
    assert.strictEqual(ms(spec.supervision.within), 5_000)
    assert.isUndefined(spec.supervision.backoff)
  })

  it("requires a name of lowercase letters, digits and dashes", () => {
    assert.deepStrictEqual(problems({}), ['name: Missing required key "name"'])
    assert.deepStrictEqual(problems({ name: "Back End" }), [
      "name: Expected a name of lowercase letters, digits and dashes"
    ])
    ok({ name: "web-2" })
  })

  it("decodes the text fields and goals", () => {
    const spec = ok({
      name: "a",
      description: "d",
      persona: "p",
      instructions: "i",
      goals: ["g1", "g2"],
      constraints: ["c"]
    })
    assert.deepStrictEqual([spec.description, spec.persona, spec.instructions], ["d", "p", "i"])
    assert.deepStrictEqual(spec.goals, ["g1", "g2"])
    assert.deepStrictEqual(spec.constraints, ["c"])
    assert.deepStrictEqual(problems({ name: "a", goals: "one" }), ['goals: Expected array, got "one"'])
  })

  it("rejects instructions and instructionsFile together", () => {
    assert.deepStrictEqual(problems({ name: "a", instructions: "x", instructionsFile: "p.md" }), [
      "instructionsFile: instructions and instructionsFile are mutually exclusive: give one"
    ])
    assert.strictEqual(ok({ name: "a", instructionsFile: "p.md" }).instructionsFile, "p.md")
  })

  it("rejects an MCP server listed twice", () => {
    const mcp = { mcp: { server: "files", command: "npx" } }
    assert.deepStrictEqual(problems({ name: "a", tools: [mcp, mcp] }), [
      'tools.1.mcp.server: MCP server "files" is listed twice'
    ])
  })

  it("reports the cross-field problems of raw data even when fields fail", () => {
    const known = "define it under providers or use one of openai, anthropic, gemini, ollama"
    assert.deepStrictEqual(
      AgentSpec.crossFieldIssues({
        name: "Bad Name",
        model: { provider: "opnai" },
        mixture: { providers: [{ provider: "anthropc" }] },
        approvals: { tools: { fs_raed: "deny" } }
      }).map((i) => `${i.path.join(".")}${i.atKey ? " (key)" : ""}: ${i.message}`),
      [
        "mixture (key): model and mixture are mutually exclusive: give one",
        `model.provider: Unknown provider "opnai" (did you mean "openai"?); ${known}`,
        `mixture.providers.0.provider: Unknown provider "anthropc" (did you mean "anthropic"?); ${known}`,
        'approvals.tools.fs_raed (key): Unknown tool "fs_raed" (did you mean "fs_read"?)'
      ]
    )
    assert.deepStrictEqual(AgentSpec.crossFieldIssues("not a map"), [])
  })

  it("decodes a single model", () => {
    const spec = ok({ name: "a", model: { provider: "anthropic", model: "claude-sonnet-4-5", temperature: 0.5 } })
    assert.deepStrictEqual(spec.model, { provider: "anthropic", model: "claude-sonnet-4-5", temperature: 0.5 })
    assert.deepStrictEqual(problems({ name: "a", model: { provider: "openai" } }), [
      'model.model: Missing required key "model"'
    ])
    assert.strictEqual(problems({ name: "a", model: { provider: "openai", model: "m", temperature: 3 } }).length, 1)
  })

  it("decodes a mixture with defaults per member", () => {
    const spec = ok({
      name: "a",
      mixture: {
        strategy: "quorum",
        quorum: 2,
        providers: [
          { provider: "openai", model: "gpt-5-mini" },
          { provider: "anthropic", model: "claude-sonnet-4-5", weight: 1.2 }
        ]
      }
    })
    assert.strictEqual(spec.mixture?.strategy, "quorum")
    assert.strictEqual(spec.mixture?.quorum, 2)
    assert.strictEqual(spec.mixture?.retries, 1)
    assert.strictEqual(ms(spec.mixture!.timeout), 60_000)
    assert.deepStrictEqual(
      spec.mixture?.providers.map((p) => p.weight),
      [1, 1.2]
    )
    const defaults = ok({ name: "a", mixture: { providers: [{ provider: "openai", model: "m" }] } })
    assert.strictEqual(defaults.mixture?.strategy, "weighted-score")
    assert.deepStrictEqual(problems({ name: "a", mixture: { strategy: "best", providers: [] } }), [
      'mixture.strategy: Unknown value "best"; expected one of weighted-score, first-valid, quorum, fallback',
      "mixture.providers: Expected a value with a length of at least 1, got a list"
    ])
  })

  it("decodes a weighted-score judge; refuses one under another strategy or of an unknown provider", () => {
    const judge = { provider: "openai", model: "gpt-5-mini" }
    const members = [{ provider: "anthropic", model: "claude-sonnet-4-5" }]
    assert.deepStrictEqual(ok({ name: "a", mixture: { providers: members, judge } }).mixture?.judge, judge)
    assert.deepStrictEqual(problems({ name: "a", mixture: { strategy: "first-valid", providers: members, judge } }), [
      "mixture.judge: a judge rates answers under the weighted-score strategy only: remove it, or use weighted-score"
    ])
    assert.strictEqual(
      problems({ name: "a", mixture: { providers: members, judge: { provider: "opnai", model: "m" } } })[0]?.split(
        ";"
      )[0],
      'mixture.judge.provider: Unknown provider "opnai" (did you mean "openai"?)'
    )
  })

  it("rejects model and mixture together", () => {
    assert.deepStrictEqual(
      problems({
        name: "a",
        model: { provider: "openai", model: "m" },
        mixture: { providers: [{ provider: "openai", model: "m" }] }
      }),
      ["mixture: model and mixture are mutually exclusive: give one"]
    )
  })

  it("decodes named providers and checks that model providers exist", () => {
    const spec = ok({
      name: "a",
      providers: { local: { kind: "openai", baseUrl: "http://127.0.0.1:11434/v1", apiKeyEnv: "LOCAL_KEY" } },
      model: { provider: "local", model: "llama3" }
    })
    assert.deepStrictEqual(spec.providers.local, {
      kind: "openai",
      baseUrl: "http://127.0.0.1:11434/v1",
      apiKeyEnv: "LOCAL_KEY",
      headers: {}
    })
    assert.deepStrictEqual(AgentSpec.providerOf(spec, "local")?.kind, "openai")
    assert.deepStrictEqual(AgentSpec.providerOf(spec, "gemini")?.apiKeyEnv, "GEMINI_API_KEY")
    assert.deepStrictEqual(
      problems({ name: "a", model: { provider: "locl", model: "m" }, providers: spec.providers }),
      [
        'model.provider: Unknown provider "locl" (did you mean "local"?); define it under providers or use one of openai, anthropic, gemini, ollama, local'
      ]
    )
    assert.deepStrictEqual(problems({ name: "a", providers: { x: { kind: "grpc" } } }), [
      'providers.x.kind: Unknown value "grpc"; expected one of openai, anthropic, gemini, ollama'
    ])
  })

  it("decodes a provider's optional timeout as a duration", () => {
    const spec = ok({
      name: "a",
      providers: {
        slow: { kind: "ollama", baseUrl: "http://127.0.0.1:11434", timeout: "2m" },
        quick: { kind: "openai", headers: { "x-team": "web" } }
      },
      model: { provider: "slow", model: "llama3" }
    })
    assert.strictEqual(ms(spec.providers.slow!.timeout!), 120_000)
    assert.isFalse("timeout" in spec.providers.quick!)
    assert.deepStrictEqual(spec.providers.quick?.headers, { "x-team": "web" })
    assert.deepStrictEqual(problems({ name: "a", providers: { x: { kind: "openai", timeout: 10 } } }), [
      "providers.x.timeout: Expected a duration like 500ms, 30s, 2m or 1h, got 10"
    ])
    assert.deepStrictEqual(problems({ name: "a", providers: { x: { kind: "openai", timout: "1s" } } }), [
      'providers.x.timout: Unknown key "timout" (did you mean "timeout"?)'
    ])
  })

  it("knows the memory and knowledge tools by the names the memory package serves", () => {
    const names = ["memory_recall", "memory_remember", "knowledge_query", "knowledge_assert"] as const
    const spec = ok({ name: "a", tools: [...names] })
    assert.deepStrictEqual(
      spec.tools.map((t) => [t.name, t.options]),
      names.map((name) => [name, {}])
    )
    for (const name of names) assert.isFalse(ToolSpec.isIrreversible(name), name)
    assert.deepStrictEqual(problems({ name: "a", tools: [{ knowledge_query: { depth: 2 } }] }), [
      'tools.0.knowledge_query.depth: Unknown key "depth": this tool takes no options'
    ])
    assert.strictEqual(
      problems({ name: "a", tools: ["memory_store"] })[0]?.startsWith('tools.0: Unknown value "memory_store"'),
      true
    )
  })

  it("decodes tools by name and with options, with defaults", () => {
    const spec = ok({
      name: "a",
      tools: [
        "fs_read",
        { fs_write: { paths: ["src/**"] } },
        { shell_run: { allow: ["npm", "node"], timeout: "90s" } },
        { mcp: { server: "files", command: "npx", args: ["server", "."], allow: ["read_file"] } }
      ]
    })
    assert.deepStrictEqual(spec.tools[0], { name: "fs_read", options: { paths: ["**"] } })
    assert.deepStrictEqual(spec.tools[1], { name: "fs_write", options: { paths: ["src/**"] } })
    const shell = ToolSpec.find(spec.tools, "shell_run")!
    assert.deepStrictEqual(shell.allow, ["npm", "node"])
    assert.strictEqual(ms(shell.timeout), 90_000)
    assert.deepStrictEqual(shell.env, {})
    const mcp = ToolSpec.find(spec.tools, "mcp")!
    assert.strictEqual(mcp.server, "files")
    assert.deepStrictEqual(mcp.args, ["server", "."])
    assert.deepStrictEqual(mcp.allow, ["read_file"])
    assert.isUndefined(ToolSpec.find(spec.tools, "git_push"))
    const defaults = ok({ name: "a", tools: ["shell_run", "git_push", "http_fetch"] })
    assert.deepStrictEqual(ToolSpec.find(defaults.tools, "shell_run")?.allow, ["*"])
    assert.strictEqual(ToolSpec.find(defaults.tools, "git_push")?.remote, "origin")
    assert.deepStrictEqual(ToolSpec.find(defaults.tools, "http_fetch")?.methods, ["GET"])
  })

  it("rejects unknown tools and malformed entries, suggesting names", () => {
    assert.deepStrictEqual(
      problems({ name: "a", tools: ["fs_raed", { shel_run: {} }, {}, { mcp: { server: "s" } }] }),
      [
        `tools.0: Unknown value "fs_raed" (did you mean "fs_read"?); expected one of ${ToolSpec.toolNames.filter((n) => n !== "mcp").join(", ")}`,
        'tools.1.shel_run: Unknown key "shel_run" (did you mean "shell_run"?)',
        "tools.2: Expected exactly one tool name as the key of a tool entry",
        "tools.3.mcp.command: Give exactly one of command (stdio) or url (HTTP)"
      ]
    )
    assert.deepStrictEqual(problems({ name: "a", tools: ["fs_read", "fs_read"] }), [
      'tools.1: Tool "fs_read" is listed twice'
    ])
  })

  it("decodes approvals and resolves the policy of a call", () => {
    const spec = ok({
      name: "a",
      tools: ["shell_run", "fs_write", { mcp: { server: "files", command: "x" } }],
      approvals: {
        default: "auto",
        irreversible: "ask",
        tools: { git_push: "deny", "files.*": "ask", "files.read_file": "auto" }
      }
    })
    assert.strictEqual(AgentSpec.policyFor(spec, "fs_write"), "auto")
    assert.strictEqual(AgentSpec.policyFor(spec, "shell_run"), "ask")
    assert.strictEqual(AgentSpec.policyFor(spec, "git_push"), "deny")
    assert.strictEqual(AgentSpec.policyFor(spec, "files.write_file"), "ask")
    assert.strictEqual(AgentSpec.policyFor(spec, "files.read_file"), "auto")
    // An MCP tool without an override counts as irreversible.
    const plain = ok({
      name: "b",
      tools: [{ mcp: { server: "web", command: "x" } }],
      approvals: { irreversible: "deny" }
    })
    assert.strictEqual(AgentSpec.policyFor(plain, "web.fetch"), "deny")
    assert.deepStrictEqual(
      problems({ name: "a", approvals: { default: "maybe", tools: { git_psh: "deny", "web.x": "ask" } } }),
      ['approvals.default: Unknown value "maybe"; expected one of auto, ask, deny']
    )
    assert.deepStrictEqual(problems({ name: "a", approvals: { tools: { git_psh: "deny", "web.x": "ask" } } }), [
      'approvals.tools.git_psh: Unknown tool "git_psh" (did you mean "git_push"?)',
      'approvals.tools.web.x: No MCP server "web" for "web.x"'
    ])
  })

  it("decodes memory, limits and supervision", () => {
    const spec = ok({
      name: "a",
      memory: { enabled: false, namespace: "team", recall: 3, minScore: 0.5 },
      limits: { maxSteps: 5, maxTokens: 1000, maxCostUsd: 0.25, timeout: "1h", stepTimeout: "500ms" },
      supervision: { restart: "permanent", maxRestarts: 0, within: "10s", backoff: "2s" }
    })
    assert.deepStrictEqual(spec.memory, { enabled: false, namespace: "team", recall: 3, minScore: 0.5 })
    assert.strictEqual(AgentSpec.memoryNamespace(spec), "team")
    assert.strictEqual(AgentSpec.memoryNamespace(ok({ name: "solo" })), "solo")
    assert.deepStrictEqual(
      [
        spec.limits.maxSteps,
        spec.limits.maxTokens,
        spec.limits.maxCostUsd,
        ms(spec.limits.timeout),
        ms(spec.limits.stepTimeout)
      ],
      [5, 1000, 0.25, 3_600_000, 500]
    )
    assert.deepStrictEqual(
      [
        spec.supervision.restart,
        spec.supervision.maxRestarts,
        ms(spec.supervision.within),
        ms(spec.supervision.backoff!)
      ],
      ["permanent", 0, 10_000, 2_000]
    )
    const partial = ok({ name: "a", limits: { maxSteps: 7 } })
    assert.strictEqual(partial.limits.maxSteps, 7)
    assert.strictEqual(partial.limits.maxTokens, 200_000)
    assert.deepStrictEqual(problems({ name: "a", limits: { maxSteps: 0, timeout: "soon" } }), [
      "limits.maxSteps: Expected a value greater than 0, got 0",
      'limits.timeout: Expected a duration like 500ms, 30s, 2m or 1h, got "soon"'
    ])
  })

  it("rejects unknown keys at every level with a suggestion", () => {
    assert.deepStrictEqual(problems({ name: "a", descripton: "x", limits: { maxStep: 3 } }), [
      'descripton: Unknown key "descripton" (did you mean "description"?)',
      'limits.maxStep: Unknown key "maxStep" (did you mean "maxSteps"?)'
    ])
    assert.deepStrictEqual(
      problems({ name: "a", zzz: 1 })[0]?.startsWith('zzz: Unknown key "zzz"; known keys: name,'),
      true
    )
  })

  it("gives one mixture shape for single models, mixtures and the default", () => {
    const single = AgentSpec.modelsOf(ok({ name: "a", model: { provider: "gemini", model: "gemini-2.5-pro" } }))
    assert.strictEqual(single.strategy, "first-valid")
    assert.deepStrictEqual(single.providers, [{ provider: "gemini", model: "gemini-2.5-pro", weight: 1 }])
    const fallback = AgentSpec.modelsOf(ok({ name: "a" }))
    assert.deepStrictEqual(fallback.providers, [{ provider: "openai", model: "gpt-5-mini", weight: 1 }])
  })

  it("encodes back to the YAML form", () => {
    const spec = ok({ name: "a", tools: ["fs_read", { shell_run: { allow: ["npm"] } }], limits: { timeout: "90s" } })
    const encoded = Schema.encodeSync(AgentSpec.AgentSpec)(spec)
    assert.strictEqual(encoded.limits?.timeout, "90s")
    assert.deepStrictEqual(encoded.tools?.[1], { shell_run: { allow: ["npm"], timeout: "1m", env: {} } })
  })

  it("declares alert rules, reflection cadence and loop limits, with defaults", () => {
    const spec = ok({
      name: "a",
      alerts: [
        { metric: "success-rate", below: 0.8 },
        { metric: "cost-per-run", above: 1.5 },
        { metric: "step-latency-p95", above: "30s", window: 50 }
      ],
      reflection: { everySteps: 1 }
    })
    assert.deepStrictEqual(spec.alerts[0], { metric: "success-rate", below: 0.8, window: 20 })
    assert.deepStrictEqual(spec.alerts[1], { metric: "cost-per-run", above: 1.5 })
    const latency = spec.alerts[2]!
    assert.strictEqual(latency.metric === "step-latency-p95" && ms(latency.above), 30_000)
    assert.strictEqual(latency.metric === "step-latency-p95" && latency.window, 50)
    assert.strictEqual(spec.reflection.everySteps, 1)
    const defaults = ok({ name: "b" })
    assert.deepStrictEqual(defaults.alerts, [])
    assert.strictEqual(defaults.reflection.everySteps, 5)
    assert.deepStrictEqual(
      [defaults.limits.contextTokens, defaults.limits.maxRepeats, defaults.limits.maxStalledSteps],
      [100_000, 3, 10]
    )
    assert.isAbove(problems({ name: "c", alerts: [{ metric: "success-rate", below: 1.5 }] }).length, 0)
    assert.isAbove(problems({ name: "c", alerts: [{ metric: "uptime", above: 1 }] }).length, 0)
  })

  it("may leave out the plan and the reflection before the answer; plans and reflects by default", () => {
    const defaults = ok({ name: "a" })
    assert.deepStrictEqual(defaults.planning, { enabled: true })
    assert.deepStrictEqual(defaults.reflection, { everySteps: 5, beforeAnswer: true })
    const lean = ok({ name: "b", planning: { enabled: false }, reflection: { everySteps: 0, beforeAnswer: false } })
    assert.deepStrictEqual(lean.planning, { enabled: false })
    assert.deepStrictEqual(lean.reflection, { everySteps: 0, beforeAnswer: false })
    assert.isAbove(problems({ name: "c", reflection: { everySteps: -1 } }).length, 0)
    assert.isAbove(problems({ name: "c", planning: { enabled: "no" } }).length, 0)
    assert.isAbove(problems({ name: "c", planning: { enable: false } }).length, 0)
  })

  it("names a few providers, never thousands, when a model names an unknown one", () => {
    const providers = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`p${i}`, { kind: "openai" }]))
    const [message] = problems({ name: "a", providers, model: { provider: "nope", model: "m" } })
    assert.include(message, "and 1996 more")
    assert.isBelow(message!.length, 300)
  })
})
