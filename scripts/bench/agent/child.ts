/**
 * One framework in a process of its own, so that its memory and module loading mix with no other's.
 *
 * `node child.ts cold RUNNER BASE_URL TAG`: imports the runner and runs the task once (the parent times the
 * spawn to the fake server's first request of TAG).
 *
 * `node child.ts measure RUNNER BASE_URL NAME` (with an IPC channel): imports the runner, warms it up, says
 * `ready`, then obeys the parent: `seq` runs the task sequentially and reports each run's wall time; `conc` starts
 * that many runs at once and reports the RSS before them and its peak while they ran; `exit` ends the process.
 */
import { pathToFileURL } from "node:url"
import { ANSWER, type MakeRunner, type Runner } from "./task.ts"

/** Parent to child. */
export type Command =
  | { readonly type: "seq"; readonly round: number; readonly count: number }
  | { readonly type: "conc"; readonly count: number }
  | { readonly type: "exit" }

/** One sequential run as the child timed it. */
export interface TimedRun {
  readonly tag: string
  readonly wallUs: number
}

/** Child to parent. */
export type Report =
  | { readonly type: "ready"; readonly loadMs: number; readonly warmupMs: number }
  | { readonly type: "error"; readonly message: string }
  | { readonly type: "seq"; readonly runs: ReadonlyArray<TimedRun>; readonly wrongAnswers: number }
  | {
      readonly type: "conc"
      readonly rssBeforeMb: number
      readonly rssPeakMb: number
      readonly ms: number
      readonly cpuMs: number
      readonly failed: number
      readonly wrongAnswers: number
      readonly firstError: string | undefined
    }

const [mode, runnerPath, baseUrl, name] = process.argv.slice(2)
if (mode === undefined || runnerPath === undefined || baseUrl === undefined || name === undefined) {
  console.error("usage: node child.ts cold|measure RUNNER BASE_URL TAG|NAME")
  process.exit(2)
}

const load = async (): Promise<Runner> => {
  const module = (await import(pathToFileURL(runnerPath).href)) as { readonly make: MakeRunner }
  return module.make(baseUrl)
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error).slice(0, 500)

const send = (report: Report): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) resolve()
    else process.send(report, undefined, {}, () => resolve())
  })

const WARMUP = Number(process.env.BENCH_WARMUP ?? 20)
const MB = 1024 * 1024

const measure = async () => {
  const loadStart = performance.now()
  const runner = await load()
  const loadMs = performance.now() - loadStart
  const warmupStart = performance.now()
  for (let i = 0; i < WARMUP; i++) {
    const answer = await runner.run(`${name}.w${i}`)
    if (answer.trim() !== ANSWER) throw new Error(`unexpected answer: ${JSON.stringify(answer).slice(0, 200)}`)
  }
  await send({ type: "ready", loadMs, warmupMs: performance.now() - warmupStart })
  // The benchmark ended (or died) without saying `exit`.
  process.on("disconnect", () => process.exit(0))

  process.on("message", async (command: Command) => {
    switch (command.type) {
      case "seq": {
        const runs: Array<TimedRun> = []
        let wrongAnswers = 0
        for (let i = 0; i < command.count; i++) {
          const tag = `${name}.s${command.round}.${i}`
          const start = performance.now()
          const answer = await runner.run(tag)
          runs.push({ tag, wallUs: (performance.now() - start) * 1000 })
          if (answer.trim() !== ANSWER) wrongAnswers++
        }
        await send({ type: "seq", runs, wrongAnswers })
        return
      }
      case "conc": {
        globalThis.gc?.()
        const before = process.memoryUsage().rss
        let peak = before
        const sample = () => {
          const rss = process.memoryUsage.rss()
          if (rss > peak) peak = rss
        }
        const sampler = setInterval(sample, 5)
        const start = performance.now()
        const cpu = process.cpuUsage()
        const settled = await Promise.allSettled(
          Array.from({ length: command.count }, (_, i) => runner.run(`${name}.c${i}`))
        )
        const ms = performance.now() - start
        const { user, system } = process.cpuUsage(cpu)
        sample()
        clearInterval(sampler)
        const failures = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected")
        const wrongAnswers = settled.filter((s) => s.status === "fulfilled" && s.value.trim() !== ANSWER).length
        await send({
          type: "conc",
          rssBeforeMb: before / MB,
          rssPeakMb: peak / MB,
          ms,
          cpuMs: (user + system) / 1000,
          failed: failures.length,
          wrongAnswers,
          firstError: failures[0] === undefined ? undefined : describe(failures[0].reason)
        })
        return
      }
      case "exit":
        // Some frameworks keep timers or sockets open; the measurement is over.
        process.exit(0)
    }
  })
}

if (mode === "cold") {
  load()
    .then((runner) => runner.run(name))
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(describe(error))
        process.exit(1)
      }
    )
} else {
  measure().catch(async (error: unknown) => {
    await send({ type: "error", message: describe(error) })
    process.exit(1)
  })
}
