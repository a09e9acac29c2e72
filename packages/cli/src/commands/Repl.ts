/**
 * Interactive mode: `troupe` with no arguments talks with the `generic` agent, one line at a time.
 *
 * Each line is a turn: a run of the agent in the current directory (its tools confined to it), with the last
 * exchanges as context, shown as it happens (`ReplTurn`). Slash commands switch the agent, the model or the mixture,
 * look into the agent's memory, the approvals waiting, the last run's audit trail and what the session has spent
 * (`ReplCommands.help`). Runs, approvals and memory live in `$TROUPE_HOME` as with `troupe run`, and the prompts
 * typed at a terminal are kept in `$TROUPE_HOME/history`.
 *
 * At a terminal: answers stream as the model generates them; a prompt with line editing and history; approvals and
 * multi-step plans are asked about; Ctrl-C cancels the step in progress, and at the prompt, twice in a row, leaves
 * with exit code 130. Otherwise (a pipe, a file): one prompt per line, plain output with each step's text as one line
 * when the step returns, an approval answered by the next line (`y` allows, anything else denies), plans shown and
 * carried out; the exit code is 0 when every turn succeeded, else that of the last one
 * that did not (1 failed, 2 bad input, 4 budget exceeded). With no provider configured, it says how to configure
 * one and exits with 2.
 */
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { AuditLog, TextDeltas } from "@troupe/agent"
import { AgentSpec } from "@troupe/agent-spec"
import { KnowledgeBase, Memory } from "@troupe/memory"
import { TerminalText } from "@troupe/providers"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as AgentServices from "../AgentServices.ts"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as ProviderSelection from "../ProviderSelection.ts"
import * as TroupeHome from "../TroupeHome.ts"
import * as ApprovalsInbox from "./ApprovalsInbox.ts"
import * as ReplAgent from "./ReplAgent.ts"
import * as ReplCommands from "./ReplCommands.ts"
import * as ReplConversation from "./ReplConversation.ts"
import * as ReplCost from "./ReplCost.ts"
import * as ReplHistory from "./ReplHistory.ts"
import * as ReplInput from "./ReplInput.ts"
import * as ReplPlanGate from "./ReplPlanGate.ts"
import * as ReplTurn from "./ReplTurn.ts"

/** The options of interactive mode, from the root command's flags. */
export interface Input {
  /** `--model` or `TROUPE_MODEL`. */
  readonly model: string | undefined
  /** `--mixture`: start with the mixture on. */
  readonly mixture: boolean
  readonly verbose: boolean
}

/** What to tell a person who has configured no provider. */
export const noProvider = [
  ProviderSelection.howToConfigure,
  "Ollama also serves the OpenAI protocol: OPENAI_BASE_URL=http://127.0.0.1:11434/v1 TROUPE_MODEL=llama3.2",
  'Then run troupe again to talk with an agent, or troupe -p "PROMPT" for one answer.',
  "To see Troupe work with no provider at all (a scripted model, offline): pnpm demo"
].join("\n")

/** The prompt shown at a terminal. */
export const prompt = "troupe> "

const say = (text: string) => Effect.sync(() => void process.stdout.write(`${TerminalText.sanitize(text)}\n`))
const write = (text: string) => void process.stdout.write(text)
const complain = (text: string) => Effect.sync(() => void process.stderr.write(`${TerminalText.sanitize(text)}\n`))

const codeOf = (status: ReplTurn.Outcome["status"]): number =>
  status === "done"
    ? ExitCode.succeeded
    : status === "budget-exceeded"
      ? ExitCode.budgetExceeded
      : status === "cancelled"
        ? ExitCode.interrupted
        : ExitCode.failed

const session = (input: Input, terminal: boolean, historyFile: string, gate: ReplPlanGate.PlanGate) =>
  Effect.gen(function* () {
    const memory = yield* Memory.Memory
    const services: ReplAgent.Services = {
      approvals: yield* TroupeHome.approvals,
      audit: yield* AuditLog.AuditLog,
      memory,
      knowledgeBase: yield* KnowledgeBase.KnowledgeBase
    }
    const lines = yield* ReplInput.make({
      terminal,
      history: terminal ? yield* ReplHistory.load(historyFile) : []
    })
    const person = NodeOs.userInfo().username
    let choice: ReplAgent.Choice = { modelRef: input.model, mixture: input.mixture }
    let base = yield* ReplAgent.load(ReplAgent.specFile(ReplAgent.defaultAgent))
    let live = yield* ReplAgent.start(base, choice, services)
    let conversation = ReplConversation.empty
    let cost = ReplCost.empty
    let lastRunId: string | undefined
    let failure: number | undefined
    let interrupted = false

    if (terminal) {
      yield* say(`Troupe: ${ReplAgent.describe(live)}`)
      yield* say(`Working in ${process.cwd()}. /help lists commands; Ctrl-C cancels a step; /exit leaves.`)
    }
    if (live.note !== undefined) yield* complain(live.note)

    // Switches to another spec or choice of model; when the new one cannot start, the previous one starts again.
    const switchTo = (spec: AgentSpec.AgentSpec, next: ReplAgent.Choice) =>
      Effect.gen(function* () {
        yield* ReplAgent.stop(live)
        const started = yield* Effect.result(ReplAgent.start(spec, next, services))
        if (started._tag === "Failure") {
          live = yield* ReplAgent.start(base, choice, services)
          return yield* Effect.fail(started.failure)
        }
        live = started.success
        base = spec
        choice = next
        yield* say(ReplAgent.describe(live))
        if (live.note !== undefined) yield* complain(live.note)
      })

    const command = (parsed: ReplCommands.Input) =>
      Effect.gen(function* () {
        switch (parsed._tag) {
          case "Empty":
            return
          case "Exit":
            return "exit"
          case "Help":
            yield* Effect.forEach(ReplCommands.help, say, { discard: true })
            return
          case "Invalid":
            return yield* new CliExit({ code: ExitCode.badInput, message: parsed.message })
          case "Clear":
            conversation = ReplConversation.empty
            if (terminal) yield* Effect.sync(() => process.stdout.write("\u001b[2J\u001b[H"))
            yield* say("conversation cleared")
            return
          case "Agent":
            if (parsed.name === undefined) {
              yield* say(ReplAgent.describe(live))
              yield* say(
                `built-in agents: ${ReplAgent.builtinNames().join(", ")} (or a spec file: /agent path/to/agent.yaml)`
              )
              return
            }
            return yield* switchTo(yield* ReplAgent.load(ReplAgent.specFile(parsed.name)), choice)
          case "Model":
            if (parsed.ref === undefined) {
              yield* say(`model: ${live.label}`)
              return
            }
            return yield* switchTo(base, { ...choice, modelRef: parsed.ref })
          case "Mixture":
            if (parsed.on === undefined || parsed.on === choice.mixture) {
              yield* say(`mixture ${choice.mixture ? "on" : "off"}: ${live.label}`)
              return
            }
            return yield* switchTo(base, { ...choice, mixture: parsed.on })
          case "Memory": {
            if (!live.spec.memory.enabled) {
              yield* say(`${live.spec.name} has no long-term memory (memory.enabled is false in its spec)`)
              return
            }
            const found = yield* memory
              .recall(parsed.query, { namespace: AgentSpec.memoryNamespace(live.spec), k: 8 })
              .pipe(Effect.mapError((error) => new CliExit({ code: ExitCode.failed, message: error.message })))
            if (found.length === 0) yield* say("nothing remembered about that")
            for (const { record, scores } of found) {
              const text = record.text.length <= 300 ? record.text : `${record.text.slice(0, 300)}…`
              yield* say(`${scores.total.toFixed(3)}  ${record.kind}  ${text.replace(/\s+/g, " ")}`)
            }
            return
          }
          case "Approvals": {
            const stored = yield* services.approvals.list.pipe(
              Effect.mapError((error) => new CliExit({ code: ExitCode.failed, message: error.message }))
            )
            const pending = stored.filter((s) => s.decision === undefined)
            if (pending.length === 0) yield* say("no approvals waiting")
            for (const s of pending) yield* say(ApprovalsInbox.describe(s))
            return
          }
          case "Audit": {
            if (lastRunId === undefined) {
              yield* say("no run yet in this session")
              return
            }
            const entries = yield* Stream.runCollect(services.audit.read(lastRunId)).pipe(
              Effect.mapError((error) => new CliExit({ code: ExitCode.failed, message: error.message }))
            )
            for (const text of AuditLog.format([...entries])) yield* say(AuditLog.sanitize(text))
            return
          }
          case "Cost":
            yield* Effect.forEach(ReplCost.lines(cost), say, { discard: true })
            return
          case "Prompt": {
            const goal = ReplConversation.goalOf(conversation, parsed.text)
            const outcome = yield* ReplTurn.run(
              { agent: live.agent, input: lines, gate, person, say, ...(terminal ? { write } : {}) },
              goal
            )
            if (outcome.runId !== undefined) lastRunId = outcome.runId
            if (outcome.spend !== undefined) cost = ReplCost.add(cost, outcome.spend)
            if (outcome.status === "done") {
              conversation = ReplConversation.add(conversation, { prompt: parsed.text, answer: outcome.answer ?? "" })
            } else if (!terminal) failure = codeOf(outcome.status)
            return
          }
        }
      })

    while (true) {
      const event = yield* lines.next(prompt)
      if (event._tag === "End") break
      if (event._tag === "Interrupt") {
        if (event.hadText) {
          interrupted = false
          continue
        }
        if (interrupted) return yield* new CliExit({ code: ExitCode.interrupted, message: "" })
        interrupted = true
        yield* say("\n(Ctrl-C again to leave, or /exit)")
        continue
      }
      interrupted = false
      if (terminal) yield* ReplHistory.append(historyFile, event.text)
      const done = yield* command(ReplCommands.parse(event.text)).pipe(
        Effect.catchTag("CliExit", (error) =>
          Effect.andThen(
            Effect.sync(() => {
              if (!terminal) failure = error.code
            }),
            Effect.as(error.message === "" ? Effect.void : complain(error.message), undefined)
          )
        )
      )
      if (done === "exit") break
    }
    yield* ReplAgent.stop(live)
    if (failure !== undefined) return yield* new CliExit({ code: failure, message: "" })
  })

/** Runs interactive mode. */
export const run = (input: Input) =>
  Effect.gen(function* () {
    if (ReplAgent.builtinDirectory === undefined) {
      return yield* new CliExit({ code: ExitCode.failed, message: "the built-in agents (agents/) were not found" })
    }
    const available = yield* ProviderSelection.configured
    if (available.length === 0) return yield* new CliExit({ code: ExitCode.badInput, message: noProvider })
    const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true
    const home = yield* TroupeHome.home
    const memoryDir = NodePath.join(home, "memory")
    const gate = ReplPlanGate.make(terminal)
    return yield* session(input, terminal, ReplHistory.fileIn(home), gate).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.merge(
          AgentServices.layer({ workspace: process.cwd(), memory: memoryDir, events: ReplPlanGate.layer(gate) }),
          TextDeltas.layer
        )
      )
    )
  }).pipe(
    Effect.catchCause((cause) => {
      const error = Cause.findErrorOption(cause)
      if (error._tag === "Some" && (error.value as { readonly _tag?: string })._tag === "CliExit") {
        return Effect.failCause(cause as Cause.Cause<CliExit>)
      }
      if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const message =
        error._tag === "Some"
          ? ((error.value as { readonly message?: string }).message ?? String(error.value))
          : "unexpected failure"
      return Effect.fail(
        new CliExit({
          code: ExitCode.failed,
          message: input.verbose ? Cause.pretty(cause) : `troupe: ${message} (--verbose shows more)`
        })
      )
    })
  )
