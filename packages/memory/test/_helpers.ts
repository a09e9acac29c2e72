import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"

/** A temp directory removed when the test's scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "troupe-memory-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** A LanguageModel that always answers `text`, recording every prompt it was sent (as JSON). */
export const scriptedModel = (text: string, prompts: Ref.Ref<ReadonlyArray<string>>) =>
  LanguageModel.make({
    generateText: (options) =>
      Ref.update(prompts, (ps) => [...ps, JSON.stringify(options.prompt)]).pipe(
        Effect.as([
          { type: "text" as const, text },
          {
            type: "finish" as const,
            reason: "stop" as const,
            usage: { inputTokens: { total: 10 }, outputTokens: { total: 5 } }
          }
        ])
      ),
    streamText: () => Stream.empty
  })
