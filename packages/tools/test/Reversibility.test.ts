import { assert, describe, it } from "@effect/vitest"
import { ToolSpec } from "@troupe/agent-spec"
import * as Reversibility from "../src/Reversibility.ts"

describe("Reversibility", () => {
  it("agrees with the spec catalogue for the default arguments", () => {
    const differences = ToolSpec.toolNames.filter(
      (name) => Reversibility.isIrreversible(name) !== ToolSpec.isIrreversible(name)
    )
    assert.deepStrictEqual(differences, [])
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
