import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { root, troupe } from "../support.ts"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-init-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const scaffold = ["agents/assistant.yaml", "agents/agent.schema.json", ".env.example", ".gitignore"]

describe("troupe init", () => {
  it.live(
    "scaffolds a spec that troupe validate accepts, with the JSON Schema beside it, and says what it wrote",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const project = join(dir, "new project")
        const init = yield* troupe(["init", project])
        assert.strictEqual(init.code, 0, init.stderr)
        for (const path of scaffold) assert.include(init.stdout, `wrote ${join(project, path)}\n`)
        assert.include(init.stdout, `next: troupe validate ${join(project, "agents/assistant.yaml")}`)
        const validate = yield* troupe(["validate", join(project, "agents/assistant.yaml")])
        assert.strictEqual(validate.code, 0, validate.stderr)
        assert.strictEqual(
          readFileSync(join(project, "agents/agent.schema.json"), "utf8"),
          readFileSync(join(root, "agents/agent.schema.json"), "utf8")
        )
        assert.include(readFileSync(join(project, ".env.example"), "utf8"), "OPENAI_API_KEY=")
        assert.include(readFileSync(join(project, ".gitignore"), "utf8"), ".env\n")
      }),
    60_000
  )

  it.live(
    "never replaces a file, a directory or a symbolic link that is there; --json lists what it wrote and kept",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        writeFileSync(join(dir, ".gitignore"), "mine\n")
        writeFileSync(join(dir, "elsewhere"), "untouched\n")
        symlinkSync(join(dir, "elsewhere"), join(dir, ".env.example"))
        const init = yield* troupe(["init", dir, "--json"])
        assert.strictEqual(init.code, 0, init.stderr)
        const result = JSON.parse(init.stdout.trimEnd().split("\n").at(-1)!)
        assert.deepStrictEqual(result, {
          directory: dir,
          written: ["agents/assistant.yaml", "agents/agent.schema.json"],
          kept: [".env.example", ".gitignore"]
        })
        assert.strictEqual(readFileSync(join(dir, ".gitignore"), "utf8"), "mine\n")
        assert.strictEqual(readFileSync(join(dir, "elsewhere"), "utf8"), "untouched\n")
        assert.isTrue(lstatSync(join(dir, ".env.example")).isSymbolicLink())
        writeFileSync(join(dir, "agents/assistant.yaml"), "name: edited\n")
        const again = yield* troupe(["init", dir])
        assert.strictEqual(again.code, 0, again.stderr)
        for (const path of scaffold) assert.include(again.stdout, `kept ${join(dir, path)} (it exists)\n`)
        assert.strictEqual(readFileSync(join(dir, "agents/assistant.yaml"), "utf8"), "name: edited\n")
      }),
    60_000
  )

  it.live(
    "a DIR that is a file is bad input; one that cannot be written is a failure, in one line",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const file = join(dir, "file")
        writeFileSync(file, "")
        const onFile = yield* troupe(["init", file])
        assert.strictEqual(onFile.code, 2)
        assert.strictEqual(onFile.stderr, `${file} is not a directory\n`)
        writeFileSync(join(dir, "agents"), "a file where the agents directory goes")
        const underFile = yield* troupe(["init", dir])
        assert.strictEqual(underFile.code, 1)
        assert.strictEqual(underFile.stderr, `cannot write ${join(dir, "agents")}: a file is in the way\n`)
        assert.notInclude(underFile.stderr, "    at ")
        assert.strictEqual(readFileSync(join(dir, "agents"), "utf8"), "a file where the agents directory goes")
      }),
    60_000
  )
})
