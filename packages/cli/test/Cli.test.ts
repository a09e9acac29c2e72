import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { troupe } from "./support.ts"

describe("troupe", () => {
  it.live(
    "mounts `troupe validate FILE...`: exit 0 for a valid spec, 2 with file:line:col for a broken one",
    () =>
      Effect.gen(function* () {
        const ok = yield* troupe(["validate", "agents/backend.yaml"])
        assert.strictEqual(ok.code, 0, ok.stderr)
        assert.include(ok.stdout, "agents/backend.yaml: ok")
        const dir = mkdtempSync(join(tmpdir(), "troupe-cli-"))
        const broken = join(dir, "broken.yaml")
        writeFileSync(broken, "name: [unclosed\n")
        const bad = yield* troupe(["validate", broken]).pipe(
          Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        )
        assert.strictEqual(bad.code, 2)
        assert.match(`${bad.stdout}${bad.stderr}`, /broken\.yaml:\d+:\d+/)
      }),
    30_000
  )

  it.live(
    "without -p or a subcommand it says what to run, with exit code 2",
    () =>
      Effect.gen(function* () {
        const run = yield* troupe([])
        assert.strictEqual(run.code, 2)
        assert.include(run.stderr, 'troupe -p "PROMPT"')
      }),
    30_000
  )
})
