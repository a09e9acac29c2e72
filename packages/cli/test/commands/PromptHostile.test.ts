import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { troupe } from "../support.ts"

const key = { OPENAI_API_KEY: "sk-test" }

describe("troupe -p against a hostile or broken world", () => {
  it.live(
    "--timeout and TROUPE_TIMEOUT bound the whole call, retries included, and the error says which limit passed",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ faults: () => FakeServer.hang })
        const env = { ...key, OPENAI_BASE_URL: server.url }
        const flag = yield* troupe(["-p", "hi", "--timeout", "1s"], env)
        assert.strictEqual(flag.code, 1)
        assert.strictEqual(
          flag.stderr,
          "openai: the call did not finish within 1s, retries included; raise --timeout or TROUPE_TIMEOUT if that is too short.\n"
        )
        const variable = yield* troupe(["-p", "hi", "--json"], { ...env, TROUPE_TIMEOUT: "1s" })
        assert.strictEqual(variable.code, 1)
        assert.include(variable.stderr, "did not finish within 1s")
        const bad = yield* troupe(["-p", "hi", "--timeout", "soon"], env)
        assert.strictEqual(bad.code, 2)
        assert.strictEqual(bad.stderr, "--timeout 'soon' is not a duration; write it like 90s, 2m or 1h.\n")
      }),
    30_000
  )

  it.live(
    "a stream that drips forever ends at the deadline",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ faults: () => FakeServer.drip(100) })
        const run = yield* troupe(["-p", "hi", "--timeout", "2s"], { ...key, OPENAI_BASE_URL: server.url })
        assert.strictEqual(run.code, 1)
        assert.include(run.stderr, "did not finish within 2s")
      }),
    30_000
  )

  it.live(
    "Ctrl-C ends with 130 and no stack trace",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ faults: () => FakeServer.hang })
        const waiting = Effect.runFork(server.waitFor((requests) => requests.length > 0))
        const run = yield* troupe(
          ["-p", "hi"],
          { ...key, OPENAI_BASE_URL: server.url },
          {
            onStart: (child) => {
              waiting.addObserver(() => child.kill("SIGINT"))
            }
          }
        )
        assert.strictEqual(run.code, 130)
        assert.strictEqual(run.stderr, "")
      }),
    30_000
  )

  it.live(
    "a reader that goes away ends the output quietly",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ turns: [{ text: "word ".repeat(200_000) }] })
        const run = yield* troupe(
          ["-p", "hi"],
          { ...key, OPENAI_BASE_URL: server.url },
          {
            onStdout: (child) => child.stdout?.destroy()
          }
        )
        assert.strictEqual(run.stderr, "")
        assert.strictEqual(run.code, 0)
      }),
    30_000
  )

  it.live(
    "escape sequences in an answer or an error never reach the terminal",
    () =>
      Effect.gen(function* () {
        const answer = yield* FakeOpenAi.make({
          turns: [{ text: "\u001b]0;pwned\u0007Hello \u001b[2Jthere\u001b]52;c;ZXZpbA==\u0007" }]
        })
        const ok = yield* troupe(["-p", "hi"], { ...key, OPENAI_BASE_URL: answer.url })
        assert.strictEqual(ok.stdout, "Hello there\n")
        const failing = yield* FakeOpenAi.make({
          faults: () =>
            FakeServer.status(400, { message: "bad \u001b[31mred\u001b[0m \u001b]8;;http://evil\u0007link" })
        })
        const error = yield* troupe(["-p", "hi"], { ...key, OPENAI_BASE_URL: failing.url })
        assert.strictEqual(error.code, 1)
        assert.notInclude(error.stderr, "\u001b")
        assert.notInclude(error.stderr, "\u0007")
      }),
    30_000
  )

  it.live(
    "a server that answers garbage is reported as a bad answer, not as unreachable",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAi.make({ faults: () => FakeServer.garbage() })
        const run = yield* troupe(["-p", "hi"], { ...key, OPENAI_BASE_URL: server.url })
        assert.strictEqual(run.code, 1)
        assert.notInclude(run.stderr, "cannot reach")
        assert.include(run.stderr, "the server answered, but not as the provider's API does")
      }),
    30_000
  )
})
