/**
 * Direct prompt mode: `troupe -p "PROMPT" [--json] [--mixture] [--model M] [--verbose]`.
 *
 * One provider (the first configured one, see `ProviderSelection`) streams its answer to stdout. `--mixture`
 * asks every configured provider at once and prints the winner followed by the score table. `--json` prints one
 * JSON object `{ text, provider, model, usage, scores? }` as the last line instead of the streamed text.
 *
 * Exit codes: 0 answered, 1 the providers failed (one line on stderr says what to check), 2 bad input or no
 * provider configured. `--verbose` adds the full failure on stderr.
 */
import {
  Mixture,
  type MixtureError,
  ProviderCatalog,
  ProviderConfig,
  ProviderPool,
  Retry,
  TerminalText
} from "@troupe/providers"
import type * as AiError from "effect/ai/AiError"
import type * as LanguageModel from "effect/ai/LanguageModel"
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as ProviderSelection from "../ProviderSelection.ts"
import * as TerminalStream from "../TerminalStream.ts"

/** The parsed options of `troupe -p`. */
export interface Input {
  readonly prompt: string
  readonly json: boolean
  readonly mixture: boolean
  /** How `--mixture` picks its answer. Default: `weighted-score`. */
  readonly strategy?: Mixture.StrategyName | undefined
  readonly verbose: boolean
  /** `--model`, else `TROUPE_MODEL`: a model id, or `provider/model`. */
  readonly model: string | undefined
  /** `--timeout`: the whole call's time limit, retries included (`TROUPE_TIMEOUT` bounds it too). */
  readonly timeout?: Duration.Duration | undefined
}

/** The JSON line printed with `--json`. */
export interface JsonResult {
  readonly text: string
  readonly provider: string
  readonly model: string
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number }
  readonly scores?: ReadonlyArray<{ readonly provider: string; readonly score: number; readonly rejectedBy?: string }>
}

// Everything printed passes through here: what a model or a server says may carry escape sequences meant for the
// reader's terminal, so it is sanitised first. A reader that went away (`troupe -p … | head -c 10`) ends the
// output quietly rather than as a failure.
const write = (text: string, to: "stdout" | "stderr" = "stdout") =>
  Effect.gen(function* () {
    const stdio = yield* Stdio.Stdio
    yield* Stream.make(TerminalText.sanitize(text)).pipe(Stream.run(stdio[to]({ endOnDone: false })), Effect.ignore)
  })

const writeJson = (result: JsonResult) => write(`${JSON.stringify(result)}\n`)

const deadlineOf = (input: Input) => (input.timeout === undefined ? {} : { deadline: input.timeout })

const usageOf = (response: LanguageModel.GenerateTextResponse<any, any>) => ({
  inputTokens: response.usage.inputTokens.total ?? 0,
  outputTokens: response.usage.outputTokens.total ?? 0
})

// Every provider failure becomes exit code 1 with one actionable line; the full cause only with --verbose.
const failWith = (input: Input, line: string, cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    if (input.verbose) yield* write(`${Cause.pretty(cause)}\n`, "stderr")
    return yield* new CliExit({ code: ExitCode.failed, message: line })
  })

const single = (input: Input, selected: ProviderSelection.Selected) =>
  Effect.gen(function* () {
    const model = yield* ProviderConfig.languageModel(selected.provider, selected.model, deadlineOf(input))
    if (input.json) {
      const response = yield* model.generateText({ prompt: input.prompt })
      return yield* writeJson({
        text: response.text,
        provider: selected.provider,
        model: selected.model,
        usage: usageOf(response)
      })
    }
    let endsWithNewline = true
    const safe = TerminalStream.make()
    const print = (text: string) => {
      if (text === "") return Effect.void
      endsWithNewline = text.endsWith("\n")
      return write(text)
    }
    yield* model
      .streamText({ prompt: input.prompt })
      .pipe(Stream.runForEach((part) => (part.type !== "text-delta" ? Effect.void : print(safe.push(part.delta)))))
    yield* print(safe.end())
    if (!endsWithNewline) yield* write("\n")
  }).pipe(
    Effect.catchTag("AiError", (error: AiError.AiError) =>
      failWith(input, ProviderSelection.explain(selected.provider, selected.model, error.reason), Cause.fail(error))
    )
  )

const pad = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()
    )
    .join("\n")
}

const mixture = (input: Input, selected: ReadonlyArray<ProviderSelection.Selected>) =>
  Effect.gen(function* () {
    const members = yield* Effect.forEach(selected, (s) =>
      // Inside a mixture a failing provider is dropped rather than retried: the others are already asked.
      Effect.map(
        ProviderConfig.languageModel(s.provider, s.model, { retry: Retry.none, ...deadlineOf(input) }),
        (languageModel) => ({
          provider: s.provider,
          model: s.model,
          languageModel
        })
      )
    )
    const pool = yield* ProviderPool.ProviderPool
    const model = yield* Mixture.make({
      members,
      strategy: Mixture.strategyNamed(input.strategy ?? "weighted-score", { members: members.length })
    })
    const response = yield* model.generateText({ prompt: input.prompt })
    const decision = Mixture.decisionOf(response)
    const [event] = yield* pool.recent(1)
    const winner = decision ?? { provider: members[0]!.provider, model: members[0]!.model, scores: [] }
    if (input.json) {
      return yield* writeJson({
        text: response.text,
        provider: winner.provider,
        model: winner.model,
        usage: usageOf(response),
        scores: winner.scores
      })
    }
    const rows = [
      ["provider", "model", "outcome", "latency", "score", "tokens in/out", "cost"],
      ...(event?.attempts ?? []).map((a) => [
        a.provider,
        a.model,
        a.outcome,
        a.latencyMs === undefined ? "-" : `${a.latencyMs} ms`,
        a.score === undefined ? "-" : a.score.toFixed(3),
        a.inputTokens === undefined ? "-" : `${a.inputTokens}/${a.outputTokens ?? 0}`,
        a.costUsd === undefined ? "-" : `$${a.costUsd.toFixed(6)}`
      ])
    ]
    const text = response.text.endsWith("\n") ? response.text : `${response.text}\n`
    yield* write(`${text}\n${pad(rows)}\n`)
  }).pipe(
    Effect.provide(ProviderPool.layer()),
    Effect.catchTag("AiError", (error: AiError.AiError) => {
      const failed = Mixture.failureOf(error)
      const line =
        failed === undefined
          ? error.message
          : `every provider failed: ${failed.failures.map((f) => explainFailure(f)).join(" ")}`
      return failWith(input, line, Cause.fail(error))
    })
  )

const explainFailure = (f: MixtureError.ProviderFailure): string => {
  const builtin = ProviderCatalog.builtin(f.provider)
  if (f.reason === "AuthenticationError") {
    return `${f.provider}: the API key was rejected; check ${builtin?.keyVariable ?? "its API key"}.`
  }
  if (f.reason === "NetworkError")
    return `${f.provider}: cannot reach the server; check ${builtin?.baseUrlVariable ?? "its base URL"}.`
  return `${f.provider}: ${f.message}.`
}

/** Runs `troupe -p`. */
export const run = (input: Input): Effect.Effect<void, CliExit, Stdio.Stdio> =>
  Effect.gen(function* () {
    if (input.prompt.trim() === "") {
      return yield* new CliExit({ code: ExitCode.badInput, message: 'troupe -p needs a prompt: troupe -p "..."' })
    }
    const selected = yield* ProviderSelection.select({ modelRef: input.model, all: input.mixture })
    if (input.mixture) yield* mixture(input, selected)
    else yield* single(input, selected[0]!)
  }).pipe(
    Effect.catchTag("ProviderConfigError", (error) =>
      Effect.fail(new CliExit({ code: ExitCode.badInput, message: `${error.provider}: ${error.description}` }))
    ),
    // One request per process: Node's own fetch starts at once, where loading undici from disk costs more than the
    // per-request time it saves (`pnpm bench cli`, `pnpm bench providers`).
    Effect.provide(FetchHttpClient.layer)
  )
