/**
 * `troupe run SPEC --goal GOAL [--workspace DIR] [--yes] [--wait] [--json]`: the standalone agentic mode, one agent
 * pursuing one goal to its end. `troupe run --resume RUN_ID` resumes a run after a crash or an exit 3.
 *
 * The agent works in `--workspace` (default: the current directory), with its tools confined to it, its memory in
 * `$TROUPE_HOME/memory` and every event of the run in `$TROUPE_HOME/runs/<runId>/audit.jsonl`. A tool call that
 * needs an approval asks at the terminal; `--yes` approves `ask` calls (never `deny` ones); without a terminal the
 * run stops with exit code 3, the request stays in `$TROUPE_HOME/approvals` (`troupe approvals`), unless `--wait`
 * keeps it waiting for a decision made there from another shell.
 *
 * Output: one line per step, tool call and approval (sanitised for the terminal), each step's text streamed as the
 * model generates it (`StepText`), and on a terminal a status line redrawn below them (step, tokens, cost, goals,
 * approvals waiting); then the answer (unless it was just streamed as the last step's text) and a summary;
 * with `--json`, the last line is `{ runId, status, steps, usage, costUsd, error? }`. Exit codes: 0 done, 1 failed,
 * 2 bad input (spec errors are printed positioned), 3 waiting for an approval, 4 budget exceeded.
 *
 * Every run is durable: its journal (`$TROUPE_HOME/runs/<runId>/journal.jsonl`, see `RunJournal`) records each model
 * call, tool call and approval decision before the run goes on, and `invocation.json` beside it the spec, workspace
 * and goal. `--resume RUN_ID` replays the run from its journal (nothing completed is asked or done again) and goes
 * on; the spec must be unchanged since the run started. An approval decided with `troupe approvals` while the run was
 * stopped is taken as decided. One process at a time runs a run (`RunLock`): a second `--resume` while it runs is
 * refused (exit 2), a lock left by a killed process is taken over.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Agent, type AgentEvent, type Approvals, AuditLog, Run, type Spend, TextDeltas } from "@troupe/agent"
import type { AgentSpec, SpecLoader } from "@troupe/agent-spec"
import { KnowledgeBase, Memory } from "@troupe/memory"
import { TerminalText } from "@troupe/providers"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as AgentServices from "../AgentServices.ts"
import * as CommandIo from "../CommandIo.ts"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as LiveView from "../LiveView.ts"
import * as RunLock from "../RunLock.ts"
import * as SpecFile from "../SpecFile.ts"
import * as StepText from "../StepText.ts"
import * as TroupeHome from "../TroupeHome.ts"
import * as WaitingApprovals from "../WaitingApprovals.ts"

/** The options of `troupe run`. */
export interface Input {
  readonly spec: string | undefined
  readonly goal: string | undefined
  /** The run to resume. */
  readonly resume?: string | undefined
  readonly workspace: string | undefined
  readonly yes: boolean
  readonly wait: boolean
  readonly json: boolean
}

/** The JSON line printed with `--json`. */
export interface JsonResult {
  readonly runId: string
  readonly status: "done" | "failed" | "budget-exceeded" | "cancelled" | "awaiting-approval" | "awaiting-answer"
  readonly steps: number
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number }
  readonly costUsd: number
  readonly error?: { readonly tag: string; readonly message: string }
}

const { line, short } = CommandIo

/** One line for an event worth showing, or nothing. */
export const describe = (event: AgentEvent.AgentEvent): string | undefined => {
  switch (event._tag) {
    case "AgentRunStarted":
      return `run ${event.runId}: ${short(event.goal)}`
    case "AgentPlanMade":
      return `plan${event.revision > 1 ? ` (revision ${event.revision})` : ""}: ${event.plan.goals.map((g) => g.title).join("; ")}`
    case "AgentStepStarted":
      return `step ${event.step}`
    case "AgentToolCalled":
      return `  ${event.tool} ${short(event.params)}`
    case "AgentToolResult":
      return event.isFailure ? `  ${event.tool} failed: ${short(event.result)}` : undefined
    case "AgentApprovalRequested":
      return `approval needed for ${event.tool} ${short(event.params)} (id ${event.approvalId})`
    case "AgentApprovalDecided":
      return `  ${event.approved ? "approved" : "denied"} by ${event.by}${event.reason === undefined ? "" : `: ${event.reason}`}`
    case "AgentReflected":
      return `reflection: ${event.outcome} (${short(event.reasoning)})`
    case "AgentBudgetWarning":
      return `budget: ${event.limit} at ${event.used} of ${event.max}`
    case "AgentAlertRaised":
      return `alert: ${event.description}`
    default:
      return undefined
  }
}

const statusOf = (tag: string): JsonResult["status"] =>
  tag === "BudgetExceeded" ? "budget-exceeded" : tag === "RunCancelled" ? "cancelled" : "failed"

const jsonOf = (
  runId: string,
  status: JsonResult["status"],
  spend: Spend.Spend | undefined,
  error?: { tag: string; message: string }
): JsonResult => ({
  runId,
  status,
  steps: spend?.steps ?? 0,
  usage: { inputTokens: spend?.inputTokens ?? 0, outputTokens: spend?.outputTokens ?? 0 },
  costUsd: spend?.costUsd ?? 0,
  ...(error === undefined ? {} : { error })
})

const summaryOf = (result: JsonResult): string =>
  `run ${result.runId}: ${result.status} in ${result.steps} steps, ${result.usage.inputTokens + result.usage.outputTokens} tokens, $${result.costUsd.toFixed(4)}`

/** Loads the spec: an agent, not a team; its problems are printed positioned and are bad input. */
const loadAgent = (file: string): Effect.Effect<AgentSpec.AgentSpec, CliExit, SpecLoader.Requirements> =>
  SpecFile.load(file).pipe(
    Effect.flatMap((loaded) =>
      loaded._tag === "Agent"
        ? Effect.succeed(loaded.spec)
        : Effect.fail(
            new CliExit({
              code: ExitCode.badInput,
              message: `${file} is a team: run it with troupe orchestrate --team ${file}`
            })
          )
    )
  )

/** What a run was started with, kept beside its journal so that `--resume RUN_ID` needs nothing else. */
const Invocation = Schema.Struct({
  spec: Schema.String,
  workspace: Schema.String,
  goal: Schema.String,
  specDigest: Schema.String
})

type Invocation = typeof Invocation.Type

const runIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

const invocationPath = (runsDir: string, runId: string) => NodePath.join(runsDir, runId, "invocation.json")

const readInvocation = (runsDir: string, runId: string): Effect.Effect<Invocation, CliExit> => {
  if (!runIdPattern.test(runId)) {
    return Effect.fail(new CliExit({ code: ExitCode.badInput, message: "--resume: that is not a run id" }))
  }
  const missing = new CliExit({ code: ExitCode.badInput, message: `--resume: no run ${runId} in ${runsDir}` })
  return Effect.try({
    try: () => NodeFs.readFileSync(invocationPath(runsDir, runId), "utf8"),
    catch: () => missing
  }).pipe(
    Effect.flatMap((text) =>
      Schema.decodeUnknownEffect(Schema.fromJsonString(Invocation))(text).pipe(
        Effect.mapError(
          () => new CliExit({ code: ExitCode.badInput, message: `--resume: run ${runId} has an unreadable record` })
        )
      )
    )
  )
}

const writeInvocation = (runsDir: string, runId: string, invocation: Invocation): Effect.Effect<void, CliExit> =>
  Effect.try({
    try: () => {
      NodeFs.mkdirSync(NodePath.join(runsDir, runId), { recursive: true, mode: 0o700 })
      NodeFs.writeFileSync(invocationPath(runsDir, runId), `${JSON.stringify(invocation)}\n`, { mode: 0o600 })
    },
    catch: (error) =>
      new CliExit({
        code: ExitCode.failed,
        message: `cannot record the run in ${runsDir}: ${(error as NodeJS.ErrnoException).code ?? "error"}`
      })
  })

/** Runs `troupe run`. */
export const run = (input: Input) =>
  Effect.gen(function* () {
    const runsDir = NodePath.resolve(yield* TroupeHome.home, "runs")
    const resumed = input.resume === undefined ? undefined : yield* readInvocation(runsDir, input.resume)
    const specFile = input.spec ?? resumed?.spec
    if (specFile === undefined) {
      return yield* new CliExit({ code: ExitCode.badInput, message: "troupe run needs a SPEC (or --resume RUN_ID)" })
    }
    const goal = resumed?.goal ?? input.goal
    if (goal === undefined) {
      return yield* new CliExit({ code: ExitCode.badInput, message: "troupe run needs --goal (or --resume RUN_ID)" })
    }
    const spec = yield* loadAgent(specFile)
    const specDigest = yield* Run.digestOf(spec)
    if (resumed !== undefined && resumed.specDigest !== specDigest) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: `--resume: the spec ${specFile} changed since run ${input.resume} started; a resumed run replays the same agent`
      })
    }
    const memoryDir = yield* TroupeHome.memoryDirectory
    const workspaceDir = NodePath.resolve(input.workspace ?? resumed?.workspace ?? ".")
    if (!NodeFs.existsSync(workspaceDir) || !NodeFs.statSync(workspaceDir).isDirectory()) {
      return yield* new CliExit({ code: ExitCode.badInput, message: `--workspace ${workspaceDir} is not a directory` })
    }
    const terminal = process.stdin.isTTY === true
    const interactive = terminal && !input.yes
    const person = NodeOs.userInfo().username
    const runId = input.resume ?? (yield* Agent.newRunId)
    if (resumed === undefined) {
      yield* writeInvocation(runsDir, runId, {
        spec: NodePath.resolve(specFile),
        workspace: workspaceDir,
        goal,
        specDigest
      })
    }

    const program = Effect.gen(function* () {
      const memory = spec.memory.enabled ? Option.some(yield* Memory.Memory) : Option.none()
      const knowledgeBase = spec.memory.enabled ? Option.some(yield* KnowledgeBase.KnowledgeBase) : Option.none()
      const audit = yield* AuditLog.AuditLog
      yield* RunLock.hold(runsDir, runId, "run")
      // What a run that cannot ask here waits for: an approval (decided with troupe approvals) or an answer.
      const waiting = Deferred.makeUnsafe<
        | { readonly _tag: "approval"; readonly runId: string; readonly approvalId: string }
        | { readonly _tag: "question"; readonly runId: string; readonly questionId: string }
      >()
      const { approvals, toAsk } = yield* WaitingApprovals.route(yield* TroupeHome.approvals, {
        interactive,
        wait: input.wait,
        stop: (request) =>
          Effect.asVoid(
            Deferred.succeed(waiting, { _tag: "approval", runId: request.runId, approvalId: request.approvalId })
          )
      })
      const agent = yield* Agent.make(spec, {
        approveAsk: input.yes,
        approvals,
        audit,
        ...(Option.isSome(memory) ? { memory: memory.value } : {}),
        ...(Option.isSome(knowledgeBase) ? { knowledgeBase: knowledgeBase.value } : {})
      })
      // On a terminal, event lines scroll above a status line redrawn in place; elsewhere, plain lines.
      const live = process.stdout.isTTY === true && !input.json
      let stats = LiveView.empty
      const statusNow = () => LiveView.statusLine(stats, process.stdout.columns ?? 100)
      // Unless the output is JSON, the steps' text streams as it is generated: on a terminal above the status line,
      // which makes way for it while it comes; elsewhere between the event lines.
      const printer = input.json
        ? undefined
        : yield* StepText.make({
            agent: agent.name,
            write: (text) => void process.stdout.write(text),
            ...(live
              ? {
                  beforeText: () => void process.stdout.write(LiveView.clear),
                  afterStep: () => void process.stdout.write(statusNow())
                }
              : {})
          })
      const closeLine = printer === undefined ? Effect.void : printer.closeLine
      let lastStreamed: string | undefined
      if (resumed !== undefined && !input.json) yield* line(`resuming run ${runId}`)
      const ask = (request: Approvals.Request) =>
        Effect.gen(function* () {
          yield* closeLine
          const approved = yield* CommandIo.askYesNo(`Approve ${request.tool} ${short(request.params, 400)}?`)
          yield* approved
            ? agent.approve(request.approvalId, person)
            : agent.deny(request.approvalId, person, "denied at the terminal")
        })
      // One fiber prints the events and asks the questions, so a prompt is never drawn over.
      const watcher = yield* Effect.forkChild(
        Stream.runForEach(Stream.merge(agent.events, Stream.fromQueue(toAsk)), (item) =>
          Effect.gen(function* () {
            if (!("_tag" in item)) return yield* ask(item)
            const event = item
            const text = describe(event)
            if (printer !== undefined && event._tag === "AgentModelCalled" && event.purpose === "act") {
              const streamed = (yield* printer.ended(event.step))?.trim() ?? ""
              if (streamed !== "") lastStreamed = streamed
            }
            if (live) {
              stats = LiveView.update(stats, event)
              yield* closeLine
              yield* Effect.sync(() => {
                const status = statusNow()
                process.stdout.write(
                  `${LiveView.clear}${text === undefined ? "" : `${TerminalText.sanitize(text)}\n`}${status}`
                )
              })
            } else if (text !== undefined && !input.json) yield* Effect.andThen(closeLine, line(text))
            if (event._tag === "AgentQuestionAsked") {
              // A question needs a person whatever --yes says; without a terminal the run stops, resumable.
              if (terminal)
                yield* agent.answer(
                  event.questionId,
                  yield* Effect.andThen(closeLine, CommandIo.askLine(event.question))
                )
              else
                yield* Deferred.succeed(waiting, { _tag: "question", runId: event.runId, questionId: event.questionId })
            }
          })
        )
      )
      yield* Effect.sleep("1 millis")
      const outcome = yield* Effect.raceFirst(
        Effect.map(Effect.result(agent.run(goal, { runId })), (result) => ({ _tag: "Ended" as const, result })),
        Effect.map(Deferred.await(waiting), (pending) => ({ _tag: "Waiting" as const, pending }))
      )
      yield* Fiber.interrupt(watcher)
      yield* closeLine
      if (live) yield* Effect.sync(() => process.stdout.write(LiveView.clear))
      if (outcome._tag === "Waiting") {
        const status = yield* agent.status
        const pending = outcome.pending
        const result = jsonOf(
          pending.runId,
          pending._tag === "approval" ? "awaiting-approval" : "awaiting-answer",
          status.spend
        )
        if (input.json) yield* line(JSON.stringify(result))
        return yield* new CliExit({
          code: ExitCode.waitingForApproval,
          message:
            pending._tag === "approval"
              ? `run ${pending.runId} waits for approval ${pending.approvalId}: troupe approvals approve ${pending.approvalId} (or deny), then troupe run --resume ${pending.runId}`
              : `run ${pending.runId} waits for an answer to its question: troupe run --resume ${pending.runId} at a terminal asks it again`
        })
      }
      if (outcome.result._tag === "Success") {
        const success: Run.RunResult = outcome.result.success
        const result = jsonOf(success.runId, "done", success.spend)
        if (input.json) yield* line(JSON.stringify(result))
        else {
          if (success.answer.trim() !== lastStreamed) yield* line(success.answer)
          yield* line(summaryOf(result))
        }
        return
      }
      const error = outcome.result.failure
      const spend = "partial" in error ? error.partial.spend : undefined
      const result = jsonOf(runId, statusOf(error._tag), spend, { tag: error._tag, message: error.message })
      if (input.json) yield* line(JSON.stringify(result))
      else yield* line(summaryOf(result))
      return yield* new CliExit({
        code: error._tag === "BudgetExceeded" ? ExitCode.budgetExceeded : ExitCode.failed,
        message: error.message
      })
    })

    return yield* program.pipe(
      Effect.scoped,
      Effect.provide(
        Layer.merge(
          AgentServices.layer({
            workspace: workspaceDir,
            runs: runsDir,
            memory: spec.memory.enabled ? memoryDir : undefined
          }),
          TextDeltas.layer
        )
      )
    )
  }).pipe(
    Effect.catchTags({
      ProviderConfigError: (error: { readonly provider: string; readonly description: string }) =>
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: `${error.provider}: ${error.description}` })),
      ToolsetError: (error: { readonly tool: string; readonly reason: string }) =>
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: `tool ${error.tool}: ${error.reason}` }))
    })
  )
