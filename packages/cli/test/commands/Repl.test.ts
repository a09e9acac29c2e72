import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAi, type FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "../recorder.ts"
import { type Run, root } from "../support.ts"

/** Runs `troupe ARGS` in `cwd` with only `env` (plus PATH), `stdin` piped in and closed. */
const troupe = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  options: { readonly cwd: string; readonly stdin: string }
) =>
  Effect.callback<Run>((resume) => {
    const child = spawn(`${root}node_modules/.bin/node`, [`${root}packages/cli/src/bin.ts`, ...args], {
      cwd: options.cwd,
      // TROUPE_BUNDLE=0 in the test's environment runs the sources rather than the bundled build.
      env: { PATH: process.env.PATH ?? "", TROUPE_BUNDLE: process.env.TROUPE_BUNDLE ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    // The CLI may leave before reading everything (after /exit).
    child.stdin.on("error", () => {})
    child.stdin.end(options.stdin)
    child.on("close", (code) => resume(Effect.succeed({ code: code ?? -1, stdout, stderr })))
    return Effect.sync(() => child.kill())
  })

/** What `troupe audit RUN` prints for the run whose trail opens with `genesis` (a line of /audit's output). */
const troupeAudit = (genesis: string, env: Record<string, string>, cwd: string) =>
  Effect.map(troupe(["audit", /of run (\S+),/.exec(genesis)![1]!], env, { cwd, stdin: "" }), (run) =>
    run.stdout.trimEnd()
  )

/** A temp dir with a workspace and a TROUPE_HOME. */
const setup = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-repl-"))
    const workspace = join(dir, "work")
    mkdirSync(workspace)
    return { dir, workspace, home: join(dir, "home") }
  }),
  ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

type Message = { readonly role: string; readonly content?: unknown }

const messagesOf = (request: FakeServer.Received): ReadonlyArray<Message> =>
  (request.body as { messages?: Array<Message> }).messages ?? []

const textOf = (request: FakeServer.Received) => JSON.stringify(messagesOf(request))

/** Every call billed 1,000 tokens in and 100 out: at gpt-5-mini's list price, $0.00045 a call. */
const usage = { input: 1_000, output: 100 }

/**
 * A model that answers by the prompt's content: it plans nothing (or `plan` when the task asks for one), makes
 * `calls[task]` one per turn, answers `answers[task]`, and reflects done with that answer.
 */
const scripted = (script: {
  readonly answer: (task: string) => string
  readonly calls?: (task: string) => ReadonlyArray<{ name: string; arguments: unknown }>
}) =>
  FakeOpenAi.make({
    turns: (request) => {
      const messages = messagesOf(request)
      const task = JSON.stringify(messages.find((m) => m.role === "user")?.content ?? "")
      const answer = script.answer(task)
      const name = schemaName(request)
      if (name === "plan") return { text: JSON.stringify({ goals: [] }), usage }
      if (name === "reflection") {
        return { text: JSON.stringify({ outcome: "done", reasoning: "answered", progress: [], answer }), usage }
      }
      const calls = script.calls?.(task) ?? []
      const step = messages.filter((m) => m.role === "tool").length
      return step < calls.length ? { toolCalls: [calls[step]!], usage } : { text: answer, usage }
    }
  })

const envOf = (t: { readonly dir: string; readonly home: string }, server: FakeServer.FakeServer) => ({
  OPENAI_API_KEY: "sk-test",
  OPENAI_BASE_URL: server.url,
  TROUPE_HOME: t.home,
  HOME: t.dir
})

describe("troupe (interactive mode, piped)", () => {
  it.live(
    "reads one prompt per line, keeps the conversation, answers slash commands, counts the cost and exits 0",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const server = yield* scripted({
          answer: (task) => (task.includes("times 3") ? "12" : task.includes("2+2") ? "4" : "?")
        })
        const run = yield* troupe([], envOf(t, server), {
          cwd: t.workspace,
          stdin: ["what is 2+2?", "/cost", "and that times 3?", "/cost", "/model", "/exit", "never sent"]
            .map((l) => `${l}\n`)
            .join("")
        })
        assert.strictEqual(run.code, 0, run.stderr)
        const out = run.stdout.split("\n")
        // Plain output: no escape sequence, no prompt.
        assert.notInclude(run.stdout, "\u001b")
        assert.deepStrictEqual(out.slice(0, 3), [
          "4",
          "(1 step, 3 model calls, 3,000 tokens in, 300 out, $0.001350)",
          "this session: 1 run, 1 step, 3 model calls, 3,000 tokens in, 300 out, $0.001350"
        ])
        assert.include(run.stdout, "\n12\n")
        assert.include(run.stdout, "this session: 2 runs, 2 steps, 6 model calls, 6,000 tokens in, 600 out, $0.002700")
        assert.include(run.stdout, "  openai: 6 calls, 6,000 in, 600 out, $0.002700")
        assert.include(run.stdout, "model: openai/gpt-5-mini")
        // The second turn carries the first exchange; nothing after /exit is sent.
        const second = server.requests.filter((r) => textOf(r).includes("times 3"))
        assert.isAbove(second.length, 0)
        assert.include(textOf(second[0]!), "what is 2+2?")
        assert.isFalse(server.requests.some((r) => textOf(r).includes("never sent")))
        // Without a terminal, no history is written.
        assert.isFalse(existsSync(join(t.home, "history")))
      }),
    90_000
  )

  it.live(
    "shows tool calls and approval requests as they happen; the next line answers them: y allows, anything else denies",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        writeFileSync(join(t.workspace, "old.txt"), "old")
        writeFileSync(join(t.workspace, "keep.txt"), "keep")
        const server = yield* scripted({
          // The second turn's task also quotes the first (the conversation): it is told apart by its own line.
          answer: (task) => (task.includes("delete keep.txt") ? "keep.txt stays" : "Deleted old.txt"),
          calls: (task) => [
            { name: "fs_list", arguments: { path: "." } },
            { name: "fs_delete", arguments: { path: task.includes("delete keep.txt") ? "keep.txt" : "old.txt" } }
          ]
        })
        const run = yield* troupe([], envOf(t, server), {
          cwd: t.workspace,
          stdin: ["delete old.txt", "y", "delete keep.txt", "no", "/approvals", "/audit", "/memory old.txt", ""].join(
            "\n"
          )
        })
        assert.strictEqual(run.code, 0, run.stderr)
        assert.isFalse(existsSync(join(t.workspace, "old.txt")))
        assert.strictEqual(readFileSync(join(t.workspace, "keep.txt"), "utf8"), "keep")
        const out = run.stdout.split("\n")
        const user = userInfo().username
        // In the order they happened: the reversible listing runs at once, the deletion waits for the answer.
        assert.deepStrictEqual(out.slice(0, 7), [
          '  fs_list {"path":"."}',
          'approval needed: fs_delete {"path":"old.txt"}',
          'Allow fs_delete {"path":"old.txt"}? [y/N] y',
          `  approved by ${user}`,
          '  fs_delete {"path":"old.txt"}',
          "Deleted old.txt",
          "(3 steps, 5 model calls, 5,000 tokens in, 500 out, $0.002250)"
        ])
        assert.deepStrictEqual(out.slice(7, 13), [
          '  fs_list {"path":"."}',
          'approval needed: fs_delete {"path":"keep.txt"}',
          'Allow fs_delete {"path":"keep.txt"}? [y/N] no',
          `  denied by ${user}: denied at the prompt`,
          "keep.txt stays",
          "(3 steps, 5 model calls, 5,000 tokens in, 500 out, $0.002250)"
        ])
        assert.strictEqual(out[13], "no approvals waiting")
        // /audit prints the last run's trail as troupe audit does; /memory recalls the agent's episodes.
        const audit = yield* troupeAudit(out.find((l) => l.includes("genesis"))!, envOf(t, server), t.workspace)
        assert.include(audit, "AgentRunEnded")
        assert.include(run.stdout, audit)
        assert.include(run.stdout, "AgentApprovalDecided    approval")
        assert.match(run.stdout, /\n\d\.\d{3} {2}episode {2}Run \S+, step \d towards "delete old\.txt"/)
      }),
    90_000
  )

  it.live(
    "slash commands switch the agent, the model and the mixture; misuse is said on stderr and is exit code 2",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const bad = join(t.dir, "bad.yaml")
        writeFileSync(bad, "name: Bad Name\n")
        const server = yield* scripted({ answer: () => "Hello \u001b]0;owned\u0007\u001b[31mred\u001b[0m there" })
        const run = yield* troupe(
          [],
          // A second provider, never called: enough for the mixture to be offered.
          { ...envOf(t, server), ANTHROPIC_API_KEY: "sk-ant-test", ANTHROPIC_BASE_URL: "http://127.0.0.1:9" },
          {
            cwd: t.workspace,
            stdin: [
              "/help",
              "/agent",
              "/agent tester",
              `/agent ${bad}`,
              "/agent generic",
              "/mixture on",
              "/mixture off",
              "/model openai/gpt-test",
              "/frobnicate",
              "say hello",
              ""
            ].join("\n")
          }
        )
        assert.strictEqual(run.code, 2, run.stderr)
        assert.include(run.stdout, "  /cost              tokens and money spent in this session")
        assert.include(run.stdout, "agent generic (openai/gpt-5-mini): A general assistant")
        assert.match(run.stdout, /built-in agents: .*generic.*tester/)
        assert.include(run.stdout, "agent tester (openai/gpt-5-mini)")
        // A broken spec is reported positioned; the running agent stays.
        assert.match(run.stderr, /bad\.yaml:1:7: /)
        assert.include(run.stdout, "agent generic (mixture of openai/gpt-5-mini, anthropic/claude-sonnet-4-5)")
        assert.include(run.stdout, "agent generic (openai/gpt-test)")
        assert.include(run.stderr, "unknown command /frobnicate")
        // The model's escape sequences never reach the terminal; the switched model is the one asked.
        assert.include(run.stdout, "Hello red there")
        assert.notInclude(run.stdout, "\u001b")
        assert.notInclude(run.stdout, "owned")
        assert.isTrue(server.requests.every((r) => (r.body as { model?: string }).model === "gpt-test"))
        assert.isAbove(server.requests.length, 0)
      }),
    90_000
  )

  it.live(
    "with no provider configured, says how to configure one and points at pnpm demo: exit 2, no stack trace",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const run = yield* troupe([], { TROUPE_HOME: t.home, HOME: t.dir }, { cwd: t.workspace, stdin: "hello\n" })
        assert.strictEqual(run.code, 2)
        for (const variable of [
          "OPENAI_API_KEY",
          "ANTHROPIC_API_KEY",
          "GEMINI_API_KEY",
          "OLLAMA_HOST",
          "OPENAI_BASE_URL"
        ]) {
          assert.include(run.stderr, variable)
        }
        assert.include(run.stderr, "pnpm demo")
        assert.notMatch(run.stderr, /\n\s+at /)
        assert.strictEqual(run.stdout, "")
      }),
    30_000
  )

  it.live(
    "cuts a line longer than 64 KiB and reads CRLF lines as lines",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const server = yield* scripted({ answer: (task) => (task.includes("second") ? "two" : "one") })
        const run = yield* troupe([], envOf(t, server), {
          cwd: t.workspace,
          stdin: `${"x".repeat(70_000)}TAIL\r\nthe second\r\n`
        })
        assert.strictEqual(run.code, 0, run.stderr)
        assert.deepStrictEqual(
          run.stdout.split("\n").filter((l) => !l.startsWith("(")),
          ["one", "two", ""]
        )
        const first = server.requests.find((r) => textOf(r).includes("xxxx"))!
        assert.include(textOf(first), "x".repeat(65_536))
        assert.notInclude(textOf(first), "x".repeat(65_537))
        assert.isFalse(server.requests.some((r) => textOf(r).includes("TAIL")))
      }),
    90_000
  )

  it.live(
    "uses a configured provider when the agent's own is not, and says so",
    () =>
      Effect.gen(function* () {
        const t = yield* setup
        const run = yield* troupe(
          [],
          {
            ANTHROPIC_API_KEY: "sk-ant-test",
            ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
            TROUPE_HOME: t.home,
            HOME: t.dir
          },
          { cwd: t.workspace, stdin: "/model\n" }
        )
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stdout, "model: anthropic/claude-sonnet-4-5\n")
        assert.include(
          run.stderr,
          "generic names openai/gpt-5-mini, whose provider is not configured: using anthropic/claude-sonnet-4-5"
        )
      }),
    30_000
  )
})
