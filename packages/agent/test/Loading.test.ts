import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"

// The modules a fresh process loads to import `specifier`, as resolved URLs, read through a module hook.
const loadedBy = (specifier: string): ReadonlyArray<string> => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-loading-"))
  try {
    const hook = join(dir, "hook.mjs")
    writeFileSync(
      hook,
      [
        'import { registerHooks } from "node:module"',
        "const seen = []",
        "registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r } })",
        'import { writeFileSync } from "node:fs"',
        `process.on("exit", () => writeFileSync(${JSON.stringify(join(dir, "loaded.json"))}, JSON.stringify(seen)))`
      ].join("\n")
    )
    const run = spawnSync(
      process.execPath,
      ["--import", hook, "--input-type=module", "-e", `await import(${JSON.stringify(specifier)})`],
      { cwd: join(import.meta.dirname, ".."), encoding: "utf8", timeout: 60_000 }
    )
    assert.strictEqual(run.status, 0, run.stderr.slice(0, 500))
    return JSON.parse(readFileSync(join(dir, "loaded.json"), "utf8")) as ReadonlyArray<string>
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const matching = (urls: ReadonlyArray<string>, pattern: RegExp) => urls.filter((url) => pattern.test(url))

describe("importing @troupe/agent", () => {
  it("loads neither memory (LanceDB, Arrow), nor the built-in tools, nor the YAML loader: an agent loads them when its spec asks", () => {
    const heavy =
      /@lancedb|apache-arrow|packages\/memory\/src\/(index|Memory|KnowledgeBase)\.ts|packages\/tools\/src\/(index|Tools|McpTools|ShellTool|MailTool)\.ts|nodemailer|\/yaml\//
    const agent = loadedBy("@troupe/agent")
    assert.isAbove(matching(agent, /packages\/agent\/src\/Agent\.ts/).length, 0)
    assert.deepStrictEqual(matching(agent, heavy), [])
    // The hook sees them where they are loaded.
    assert.isAbove(matching(loadedBy("@troupe/tools"), heavy).length, 0)
  })
})
