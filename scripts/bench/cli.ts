/**
 * `pnpm bench cli [--json]`: how fast the `troupe` command starts, as a person types it (`node
 * packages/cli/bin/troupe.mjs ...`, what `pnpm troupe` runs, without pnpm's own start-up).
 *
 * Builds the bundled command before each round (`packages/cli/src/BundleBuild.ts`, at once when the build of the
 * current sources exists; the launcher starts from a build only while it is current, and a checkout being edited ends
 * that), then times, in rounds that alternate the cases so that drift on a shared machine hits them alike:
 * - `node -e 0`, the floor Node itself sets;
 * - `troupe --version`;
 * - `troupe validate agents/generic.yaml`;
 * - `troupe -p` against a fake OpenAI server on 127.0.0.1: the time from the spawn to the server receiving the request
 *   (first request), and to the process's exit (answer printed);
 * - `troupe --version` and the first request of `troupe -p` from the sources (`TROUPE_BUNDLE=0`), as before the build.
 *
 * Each figure is the median wall time over `BENCH_RUNS` rounds (default 15) after 2 warm-up rounds (which fill Node's
 * compile cache), with its ratio to `node -e 0` in the same run, and the fastest run (`best`). Targets: `--version`
 * ≤ 150 ms, first request ≤ 250 ms, `validate` ≤ 300 ms.
 */
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { FakeOpenAi } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { quantile, report } from "./_report.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const bin = "packages/cli/bin/troupe.mjs"
const runs = Number(process.env.BENCH_RUNS ?? 15)
const warmup = 2

interface Sample {
  readonly exitMs: number
  readonly requestMs?: number
}

// One process, timed from the spawn to its exit; with a server, also to the server's first request from it.
const time = (args: ReadonlyArray<string>, env: Record<string, string>, server?: FakeOpenAiServer) =>
  Effect.callback<Sample, string>((resume) => {
    const seen = server?.requests.length ?? 0
    const start = performance.now()
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: "ignore"
    })
    child.on("close", (code) => {
      const exitMs = performance.now() - start
      if (code !== 0) return resume(Effect.fail(`${args.join(" ")} exited with ${code}`))
      const request = server?.requests[seen]
      resume(Effect.succeed(request === undefined ? { exitMs } : { exitMs, requestMs: request.receivedAt - start }))
    })
  })

type FakeOpenAiServer = Effect.Success<ReturnType<typeof FakeOpenAi.make>>

const median = (values: ReadonlyArray<number>) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5
  )

const program = Effect.gen(function* () {
  // Built before every round: in a checkout being edited, each round then times the build of the sources as they are.
  const builds = new Set<string>()
  const build = () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const run = spawnSync(process.execPath, ["packages/cli/src/BundleBuild.ts"], { cwd: root, encoding: "utf8" })
      if (run.status === 0) return builds.add(run.stdout.trim())
      // A launcher started the same build in the background, or a source changed while it ran: try again.
      if (!/another build|sources changed/.test(run.stderr))
        return console.error(`no bundled build: ${run.stderr.trim()}`)
      spawnSync("sleep", ["1"])
    }
  }
  build()
  const bundled = builds.size > 0
  const server = yield* FakeOpenAi.make({ turns: [{ text: "Hello!", usage: { input: 5, output: 2 } }] })
  const promptEnv = { OPENAI_API_KEY: "sk-bench", OPENAI_BASE_URL: server.url }
  const sources = { TROUPE_BUNDLE: "0" }
  const cases = {
    node: () => time(["-e", "0"], {}),
    version: () => time([bin, "--version"], {}),
    validate: () => time([bin, "validate", "agents/generic.yaml"], {}),
    prompt: () => time([bin, "-p", "Say hello"], promptEnv, server),
    versionSources: () => time([bin, "--version"], sources),
    promptSources: () => time([bin, "-p", "Say hello"], { ...promptEnv, ...sources }, server)
  }
  const samples: Record<string, Array<Sample>> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
  for (let round = 0; round < warmup + runs; round++) {
    if (bundled) build()
    for (const [name, run] of Object.entries(cases)) {
      const sample = yield* run()
      if (round >= warmup) samples[name]!.push(sample)
    }
  }
  const exits = (name: string) => samples[name]!.map((s) => s.exitMs)
  const requests = (name: string) => samples[name]!.map((s) => s.requestMs ?? Number.NaN)
  const exit = (name: string) => median(exits(name))
  const request = (name: string) => median(requests(name))
  const node = exit("node")
  const figures = {
    bundled,
    builds: builds.size,
    runs,
    node_ms: node,
    version_ms: exit("version"),
    version_ratio: exit("version") / node,
    validate_ms: exit("validate"),
    validate_ratio: exit("validate") / node,
    prompt_first_request_ms: request("prompt"),
    prompt_first_request_ratio: request("prompt") / node,
    prompt_exit_ms: exit("prompt"),
    sources_version_ms: exit("versionSources"),
    sources_prompt_first_request_ms: request("promptSources"),
    // The fastest run of each: on a loaded machine, the nearest to what a quiet one does.
    best: {
      node_ms: Math.min(...exits("node")),
      version_ms: Math.min(...exits("version")),
      validate_ms: Math.min(...exits("validate")),
      prompt_first_request_ms: Math.min(...requests("prompt")),
      sources_version_ms: Math.min(...exits("versionSources"))
    }
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`
  const row = (label: string, value: number, best?: number, target?: number): [string, string] => [
    label,
    `${ms(value)} (${(value / node).toFixed(1)}× node -e 0)${best === undefined ? "" : `, best ${ms(best)}`}${target === undefined ? "" : `, target ≤ ${target} ms`}`
  ]
  report(`troupe start-up, median of ${runs} runs${bundled ? "" : " (no bundled build)"}`, figures, [
    ["node -e 0", `${ms(node)}, best ${ms(figures.best.node_ms)}`],
    row("troupe --version", figures.version_ms, figures.best.version_ms, 150),
    row("troupe validate (one spec)", figures.validate_ms, figures.best.validate_ms, 300),
    row("troupe -p: first request", figures.prompt_first_request_ms, figures.best.prompt_first_request_ms, 250),
    row("troupe -p: answered, exited", figures.prompt_exit_ms),
    row("sources: troupe --version", figures.sources_version_ms, figures.best.sources_version_ms),
    row("sources: troupe -p first request", figures.sources_prompt_first_request_ms)
  ])
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})
