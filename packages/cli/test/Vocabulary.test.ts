/**
 * `@troupe/agent-spec` keeps its own literal copy of the provider vocabulary and of the defaults other packages
 * decide, so that it stays free of dependencies. These tests fail when a copy and its source disagree.
 */
import { assert, describe, it } from "@effect/vitest"
import { AgentSpec, ModelSpec } from "@troupe/agent-spec"
import { Memory } from "@troupe/memory"
import { Mixture, ProviderCatalog } from "@troupe/providers"
import { Supervisor } from "@troupe/runtime"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

const defaults = Schema.decodeUnknownSync(
  AgentSpec.AgentSpec,
  AgentSpec.parseOptions
)({
  name: "defaults",
  mixture: { providers: [{ provider: "openai", model: "m" }] }
})

describe("the provider vocabulary", () => {
  it("provider kinds are the catalogue's", () => {
    assert.deepStrictEqual(ModelSpec.ProviderKind.literals, ProviderCatalog.kinds)
  })

  it("built-in providers: the same names, kinds and key variables", () => {
    const fromSpec = Object.entries(ModelSpec.builtinProviders).map(([name, d]) => [name, d.kind, d.apiKeyEnv])
    const fromCatalog = ProviderCatalog.builtins.map((b) => [b.name, b.kind, b.keyVariable])
    assert.deepStrictEqual(fromSpec, fromCatalog)
  })

  it("mixture strategy names are the mixture's", () => {
    assert.deepStrictEqual(ModelSpec.MixtureStrategy.literals, Mixture.strategyNames)
  })

  it("the default model is the first built-in provider's default model", () => {
    const first = ProviderCatalog.builtins[0]!
    assert.deepStrictEqual(ModelSpec.defaultModel, { provider: first.name, model: first.defaultModel })
  })
})

describe("defaults the spec shows but other packages decide", () => {
  it("supervision: the runtime's restart intensity, no backoff", () => {
    assert.strictEqual(defaults.supervision.maxRestarts, Supervisor.defaultIntensity.maxRestarts)
    assert.strictEqual(
      Duration.toMillis(defaults.supervision.within),
      Duration.toMillis(Duration.fromInputUnsafe(Supervisor.defaultIntensity.within))
    )
    assert.isUndefined(defaults.supervision.backoff)
  })

  it("memory: the recall size is memory's", () => {
    assert.strictEqual(defaults.memory.recall, Memory.defaultRecallK)
  })

  it("a mixture member's timeout and fallback's retries", () => {
    assert.strictEqual(Duration.toMillis(defaults.mixture!.timeout), Duration.toMillis(Mixture.defaultMemberTimeout))
    assert.strictEqual(defaults.mixture!.retries, Mixture.defaultRetries)
  })
})
