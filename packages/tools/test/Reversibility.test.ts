import { assert, describe, it } from "@effect/vitest"
import { ToolSpec } from "@troupe/agent-spec"
import * as Reversibility from "../src/Reversibility.ts"

// Where this table and the spec catalogue's `irreversible` flag disagree, and why. When agent-spec changes, the
// test fails and this list shrinks: it never hides a new disagreement.
const knownDifferences: Record<string, string> = {
  // The catalogue marks `mcp` reversible, so an MCP tool runs under `approvals.default`; a server's tool can do
  // anything, so here it is irreversible unless approvals say otherwise (a catalogue change is proposed).
  mcp: "catalogue says reversible, tools say irreversible"
}

describe("Reversibility", () => {
  it("agrees with the spec catalogue for the default arguments, except the known differences", () => {
    const differences = ToolSpec.toolNames.filter(
      (name) => Reversibility.isIrreversible(name) !== ToolSpec.isIrreversible(name)
    )
    assert.deepStrictEqual(differences, Object.keys(knownDifferences))
    assert.deepStrictEqual(Object.keys(Reversibility.table).sort(), [...ToolSpec.toolNames].sort())
  })

  it("depends on the arguments where the effect does", () => {
    assert.strictEqual(Reversibility.of("http_fetch", { url: "https://x.test" }), "reversible")
    assert.strictEqual(Reversibility.of("http_fetch", { url: "https://x.test", method: "HEAD" }), "reversible")
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      assert.strictEqual(Reversibility.of("http_fetch", { url: "https://x.test", method }), "irreversible")
    }
    assert.strictEqual(Reversibility.of("fs_write", { path: "a", content: "" }), "compensable")
    assert.strictEqual(Reversibility.of("git_commit"), "compensable")
    assert.strictEqual(Reversibility.of("fs_delete"), "irreversible")
  })
})
