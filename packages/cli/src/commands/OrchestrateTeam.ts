/**
 * `troupe orchestrate --goal GOAL [--team FILE] [--workspace DIR] [--concurrency N] [--max-steps N] [--max-cost USD]
 * [--yes] [--wait] [--json]`: the orchestrated mode, a team pursuing one goal: its manager decomposes it, each subtask goes to a capable member,
 * independent subtasks run at once, and the answers come back as one report.
 *
 * The team (default `agents/team.yaml`) works in `--workspace` (default: the current directory) with one provider
 * pool, its memory in `$TROUPE_HOME/memory` (each agent its own namespace and the team's), and one audit trail per
 * orchestration in `$TROUPE_HOME/runs/<orchestrationId>/audit.jsonl` linking every agent run's own trail; the
 * orchestration's trail and every linked run are verified at the end. A tool call that needs an approval asks at the
 * terminal; `--yes` approves `ask` calls (never `deny` ones); without a terminal the orchestration stops with exit
 * code 3 and the request stays in `$TROUPE_HOME/approvals` (`troupe approvals`), unless `--wait` keeps it waiting for
 * a decision made there from another shell.
 *
 * With `--postgres URL` the members' subtasks run on the runners of that cluster (`ClusterMemberRuns`): each attempt
 * a task there, its trail on its runner and linked here by run id, runner and head. The approvals those tasks wait for
 * (runners started with `--wait`) are in the cluster's table (`ApprovalsRemote`): asked at a terminal, approved with
 * `--yes`, otherwise named on stderr while the orchestration waits for `troupe approvals ... --postgres URL`.
 * Stopped with SIGTERM or Ctrl-C, it leaves the tasks in flight running on their runners (`DetachedRuns`): `--resume`
 * waits for the same tasks instead of making their model and tool calls again.
 *
 * Every orchestration is durable: its journal (`$TROUPE_HOME/runs/<orchestrationId>/journal.jsonl`, see the
 * orchestrator's `durability.ts`) records the decomposition, each subtask's member order, each attempt's agent run id
 * and outcome, and `orchestration.json` beside it the team file, workspace, goal and budget. `troupe orchestrate
 * --resume ORCH_ID` (after a crash or an exit 3) replays it: the manager is not asked again, subtasks done are not
 * run again, a run in flight resumes from its own journal, the trail goes on and the spending so far is carried.
 * The team file must be unchanged; an unknown orchestration is bad input. One that has ended runs nothing again, as
 * `troupe run --resume` of a finished run: its end, read from its trail (`OrchestrateEnding`), is printed as it was
 * (the report or the error, the summary, the JSON line) and the command exits as it did, the trail left as it is.
 *
 * Output: one line per subtask event and agent step (sanitised for the terminal), then the report and a summary;
 * with `--json`, the last line is `{ orchestrationId, status, subtasks, steps, usage, costUsd, audit, error? }`.
 * Exit codes as `troupe run`: 0 done, 1 failed, 2 bad input, 3 waiting for an approval (or, without a terminal, for
 * the answer to a member's question: `--resume` at a terminal asks it again), 4 team budget exceeded.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { AgentEvents, type Approvals, AuditLog, Spend } from "@troupe/agent"
import type { SpecLoader, TeamSpec } from "@troupe/agent-spec"
import { KnowledgeBase, Memory } from "@troupe/memory"
import {
  DetachedRuns,
  MemberRuns,
  Orchestrator,
  type OrchestratorEvent,
  type Report,
  TeamTrail
} from "@troupe/orchestrator"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as AgentServices from "../AgentServices.ts"
import * as CommandIo from "../CommandIo.ts"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as RunLock from "../RunLock.ts"
import * as SpecFile from "../SpecFile.ts"
import * as TroupeHome from "../TroupeHome.ts"
import * as WaitingApprovals from "../WaitingApprovals.ts"
import * as ApprovalsRemote from "./ApprovalsRemote.ts"
import * as OrchestrateEnding from "./OrchestrateEnding.ts"
import * as OrchestrateRecord from "./OrchestrateRecord.ts"
import { describe as describeAgentEvent } from "./RunAgent.ts"

/** The options of `troupe orchestrate`. */
export interface Input {
  readonly goal: string | undefined
  /** The orchestration to resume. */
  readonly resume?: string | undefined
  /** The team file (default `agents/team.yaml`; a resumed orchestration's own). */
  readonly team: string | undefined
  readonly workspace: string | undefined
  readonly concurrency: number | undefined
  /** The team's budget across all its agents. */
  readonly maxSteps: number | undefined
  readonly maxCostUsd: number | undefined
  readonly yes: boolean
  /** Without a terminal, wait for approvals decided elsewhere instead of stopping with exit 3. */
  readonly wait?: boolean | undefined
  /** The cluster whose runners run the members' subtasks (`ClusterMemberRuns`); here by default. */
  readonly postgres?: string | undefined
  readonly json: boolean
}

/** The JSON line printed with `--json`. */
export interface JsonResult {
  readonly orchestrationId: string
  readonly status: OrchestratorEvent.Status | "awaiting-approval" | "awaiting-answer"
  readonly subtasks: ReadonlyArray<{
    readonly id: string
    readonly agent: string
    readonly attempts: number
    readonly runIds: ReadonlyArray<string>
    readonly answer: string
  }>
  readonly steps: number
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number }
  readonly costUsd: number
  readonly audit: "intact" | "broken" | "none"
  readonly error?: { readonly tag: string; readonly message: string }
}

const { line } = CommandIo

// What an orchestration waits for that this process cannot give: an approval (troupe approvals) or an answer.
interface Waiting {
  readonly _tag: "approval" | "question"
  readonly agent: string
  readonly id: string
}

const approval = (agent: string, id: string): Waiting => ({ _tag: "approval", agent, id })
const question = (agent: string, id: string): Waiting => ({ _tag: "question", agent, id })

/**
 * With `--postgres`, the members' subtasks go to the cluster's runners (`ClusterMemberRuns`), its client living as
 * long as the orchestration; the cluster is loaded only then. The URL is checked, never printed. Each run is
 * `DetachedRuns`: once `stopping.now` is set, a task in flight is left to go on on its runner, for `--resume`.
 */
const memberRunsOf = (postgres: string | undefined, stopping: DetachedRuns.Stopping) =>
  Effect.gen(function* () {
    if (postgres === undefined) return Context.empty()
    const url = URL.canParse(postgres) ? new URL(postgres) : undefined
    if (url === undefined || (url.protocol !== "postgres:" && url.protocol !== "postgresql:")) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: "--postgres must be a PostgreSQL URL: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
      })
    }
    const { ClusterMemberRuns } = yield* Effect.promise(() => import("@troupe/cluster"))
    const built = yield* Layer.build(ClusterMemberRuns.layer({ postgres: Redacted.make(postgres) })).pipe(
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.interrupt
          : Effect.fail(
              new CliExit({ code: ExitCode.failed, message: "--postgres: cannot reach the cluster's storage" })
            )
      )
    )
    return Context.add(
      built,
      MemberRuns.MemberRuns,
      DetachedRuns.make(Context.get(built, MemberRuns.MemberRuns), stopping)
    )
  })

const short = (value: unknown, max = 120): string => {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "")
  const flat = text.replace(/\s+/g, " ")
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`
}

/** One line for an orchestrator event worth showing, or nothing. */
export const describe = (event: OrchestratorEvent.OrchestratorEvent): string | undefined => {
  switch (event._tag) {
    case "OrchestrationStarted":
      return `orchestration ${event.orchestrationId}: team ${event.team} (${event.members.join(", ")}), ${short(event.goal)}`
    case "OrchestrationPlanned":
      return `plan by ${event.by}: ${event.subtasks
        .map((s) => `${s.id}${s.dependsOn.length > 0 ? ` (after ${s.dependsOn.join(", ")})` : ""}`)
        .join("; ")}`
    case "OrchestrationSubtaskAssigned":
      return `${event.subtaskId} → ${event.agent}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`
    case "OrchestrationSubtaskSucceeded":
      return `${event.subtaskId} done by ${event.agent}: ${short(event.answer)}`
    case "OrchestrationSubtaskFailed":
      return `${event.subtaskId} failed on ${event.agent} (${event.error.tag}: ${short(event.error.message)}); ${
        event.next === "retry" ? "retrying" : event.next === "reassign" ? "reassigning" : "giving up"
      }`
    case "OrchestrationBudgetWarning":
      return `team budget: ${event.limit} at ${Number(event.used.toFixed(6))} of ${event.max}`
    default:
      return undefined
  }
}

/** Loads the team file; its problems are printed positioned and are bad input; an agent spec is bad input. */
const loadTeam = (file: string): Effect.Effect<TeamSpec.Team, CliExit, SpecLoader.Requirements> =>
  SpecFile.load(file).pipe(
    Effect.flatMap((loaded) =>
      loaded._tag === "Team"
        ? Effect.succeed(loaded.team)
        : Effect.fail(
            new CliExit({
              code: ExitCode.badInput,
              message: `${file} is one agent, not a team: run it with troupe run ${file} --goal ...`
            })
          )
    )
  )

const jsonOf = (
  orchestrationId: string,
  status: JsonResult["status"],
  spend: Spend.Spend,
  report: Report.Report | undefined,
  audit: JsonResult["audit"],
  error?: { tag: string; message: string }
): JsonResult => ({
  orchestrationId,
  status,
  subtasks: (report?.subtasks ?? []).map((s) => ({
    id: s.id,
    agent: s.agent,
    attempts: s.attempts,
    runIds: s.runIds,
    answer: s.answer
  })),
  steps: spend.steps,
  usage: { inputTokens: spend.inputTokens, outputTokens: spend.outputTokens },
  costUsd: spend.costUsd,
  audit,
  ...(error === undefined ? {} : { error })
})

const summaryOf = (result: JsonResult): string =>
  `orchestration ${result.orchestrationId}: ${result.status}, ${result.subtasks.length} subtasks, ${result.steps} steps, ${result.usage.inputTokens + result.usage.outputTokens} tokens, $${result.costUsd.toFixed(4)}; audit trail ${result.audit}`

/** Runs `troupe orchestrate`. */
export const run = (given: Input) =>
  Effect.gen(function* () {
    const runsDir = NodePath.resolve(yield* TroupeHome.home, "runs")
    const resumed = given.resume === undefined ? undefined : yield* OrchestrateRecord.read(runsDir, given.resume)
    // A resumed orchestration goes on with what it was started with, unless told otherwise.
    const input: Input = {
      ...given,
      team: given.team ?? resumed?.team,
      workspace: given.workspace ?? resumed?.workspace,
      concurrency: given.concurrency ?? resumed?.concurrency,
      maxSteps: given.maxSteps ?? resumed?.maxSteps,
      maxCostUsd: given.maxCostUsd ?? resumed?.maxCostUsd
    }
    const goal = resumed?.goal ?? input.goal
    if (goal === undefined) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: "troupe orchestrate needs --goal (or --resume ORCH_ID)"
      })
    }
    const teamFile = input.team ?? OrchestrateRecord.defaultTeam
    const team = yield* loadTeam(teamFile)
    const teamDigest = yield* OrchestrateRecord.digestOf(teamFile)
    if (resumed !== undefined && resumed.teamDigest !== teamDigest) {
      return yield* new CliExit({
        code: ExitCode.badInput,
        message: `--resume: the team file ${teamFile} changed since orchestration ${given.resume} started; a resumed orchestration replays the same team`
      })
    }
    const workspaceDir = NodePath.resolve(input.workspace ?? ".")
    if (!NodeFs.existsSync(workspaceDir) || !NodeFs.statSync(workspaceDir).isDirectory()) {
      return yield* new CliExit({ code: ExitCode.badInput, message: `--workspace ${workspaceDir} is not a directory` })
    }
    if (input.concurrency !== undefined && input.concurrency < 1) {
      return yield* new CliExit({ code: ExitCode.badInput, message: "--concurrency must be at least 1" })
    }
    if (
      (input.maxSteps !== undefined && input.maxSteps < 1) ||
      (input.maxCostUsd !== undefined && !(input.maxCostUsd > 0))
    ) {
      return yield* new CliExit({ code: ExitCode.badInput, message: "--max-steps and --max-cost must be positive" })
    }
    const memoryDir = yield* TroupeHome.memoryDirectory
    const withMemory = [team.manager, ...team.agents].some((spec) => spec?.memory.enabled === true)
    const interactive = process.stdin.isTTY === true && !input.yes
    const person = NodeOs.userInfo().username
    const orchestrationId = given.resume ?? (yield* Orchestrator.newOrchestrationId)

    const stopping = { now: false }
    const program = Effect.gen(function* () {
      const memory = withMemory ? Option.some(yield* Memory.Memory) : Option.none()
      const knowledgeBase = withMemory ? Option.some(yield* KnowledgeBase.KnowledgeBase) : Option.none()
      const audit = yield* AuditLog.AuditLog
      const verdictOf = (id: string) =>
        id === ""
          ? Effect.succeed<JsonResult["audit"]>("none")
          : TeamTrail.verify(audit, id).pipe(
              Effect.tap((verdict) =>
                input.json ? Effect.void : Effect.forEach(TeamTrail.describe(verdict), line, { discard: true })
              ),
              Effect.map((verdict): JsonResult["audit"] => (verdict.intact ? "intact" : "broken")),
              Effect.orElseSucceed((): JsonResult["audit"] => "broken")
            )
      // The report or the error, the trail's verdict and the summary, and the exit code: the same whether the
      // orchestration ends now or ended before and is resumed.
      const report = (ending: OrchestrateEnding.Ending) =>
        Effect.gen(function* () {
          const id = ending.orchestrationId
          if (ending._tag === "Done") {
            if (ending.report === undefined) {
              yield* CommandIo.errorLine(`orchestration ${id}: its audit trail does not hold its whole report`)
            } else if (!input.json) yield* line(ending.report.summary)
            const verdict = yield* verdictOf(id)
            const result = jsonOf(id, "done", ending.spend, ending.report, verdict)
            yield* line(input.json ? JSON.stringify(result) : summaryOf(result))
            if (verdict === "broken") {
              return yield* new CliExit({ code: ExitCode.failed, message: "the audit trail does not verify" })
            }
            return
          }
          const result = jsonOf(id, ending.status, ending.spend, undefined, yield* verdictOf(id), ending.error)
          yield* line(input.json ? JSON.stringify(result) : summaryOf(result))
          return yield* new CliExit({
            code: ending.status === "budget-exceeded" ? ExitCode.budgetExceeded : ExitCode.failed,
            message: ending.error?.message ?? `orchestration ${id} ended ${ending.status}`
          })
        })
      yield* RunLock.hold(runsDir, orchestrationId, "orchestration")
      if (resumed !== undefined) {
        const ended = yield* OrchestrateEnding.recorded(audit, orchestrationId, goal)
        if (!input.json) yield* line(`resuming orchestration ${orchestrationId}`)
        // Ended: nothing is run, asked or written again; its end is told as it was.
        if (ended !== undefined) return yield* report(ended)
        if (resumed.cluster === true && input.postgres === undefined) {
          return yield* new CliExit({
            code: ExitCode.badInput,
            message: `--resume: orchestration ${orchestrationId} ran its members on a cluster: resume it with --postgres URL`
          })
        }
      } else {
        yield* OrchestrateRecord.write(runsDir, orchestrationId, {
          team: NodePath.resolve(teamFile),
          teamDigest,
          workspace: workspaceDir,
          goal,
          ...(input.concurrency === undefined ? {} : { concurrency: input.concurrency }),
          ...(input.maxSteps === undefined ? {} : { maxSteps: input.maxSteps }),
          ...(input.maxCostUsd === undefined ? {} : { maxCostUsd: input.maxCostUsd }),
          ...(input.postgres === undefined ? {} : { cluster: true })
        })
      }
      const hub = yield* AgentEvents.AgentEvents
      const store = yield* TroupeHome.approvals
      const waiting = Deferred.makeUnsafe<Waiting>()
      // Which member made a run: a request names its run, a person wants to know the agent.
      const agentOfRun = new Map<string, string>()
      const { approvals, toAsk } = yield* WaitingApprovals.route(store, {
        interactive,
        wait: input.wait === true,
        stop: (request) =>
          Effect.asVoid(
            Deferred.succeed(
              waiting,
              approval(agentOfRun.get(request.runId) ?? `run ${request.runId}`, request.approvalId)
            )
          )
      })
      const orchestrator = yield* Orchestrator.make(team, {
        concurrency: input.concurrency,
        budget: { maxSteps: input.maxSteps, maxCostUsd: input.maxCostUsd },
        approveAsk: input.yes,
        approvals,
        audit,
        memory: Option.getOrUndefined(memory),
        knowledgeBase: Option.getOrUndefined(knowledgeBase)
      }).pipe(Effect.provide(yield* memberRunsOf(input.postgres, stopping)))
      // Stopped by SIGTERM or Ctrl-C, the orchestration is left for --resume: this runs before the orchestrator's
      // finalizers interrupt it (and before the cluster client closes, which is older still), so the members' tasks
      // in flight go on on their runners and a resume waits for the same tasks. Any other end stops them as before.
      yield* Effect.addFinalizer((exit) =>
        Effect.sync(() => {
          if (Exit.hasInterrupts(exit)) stopping.now = true
        })
      )
      const members = new Set(orchestrator.members.map((m) => m.name))
      // A request waiting for a person, asked at the terminal and decided in the approvals store (the gate reads it).
      const ask = (request: Approvals.Request) =>
        Effect.gen(function* () {
          const agent = agentOfRun.get(request.runId) ?? `run ${request.runId}`
          const approved = yield* CommandIo.askYesNo(`Approve ${agent}: ${request.tool} ${short(request.params, 400)}?`)
          yield* store
            .decide(
              request.approvalId,
              approved ? { approved, by: person } : { approved, by: person, reason: "denied at the terminal" }
            )
            .pipe(Effect.ignore)
        })
      const watchTeam = Stream.runForEach(orchestrator.events, (event) =>
        Effect.gen(function* () {
          const text = describe(event)
          if (text !== undefined && !input.json) yield* line(text)
        })
      )
      // One fiber prints the members' events and asks the person, so a prompt is never drawn over.
      const watchAgents = Stream.runForEach(
        Stream.merge(
          Stream.filter(hub.events, (event) => members.has(event.agent)),
          Stream.fromQueue(toAsk)
        ),
        (item) =>
          Effect.gen(function* () {
            if (!("_tag" in item)) return yield* ask(item)
            const event = item
            agentOfRun.set(event.runId, event.agent)
            const text = describeAgentEvent(event)
            // A member's task runs over several lines (the subtask and its inputs): one line each here.
            if (text !== undefined && !input.json) yield* line(`  [${event.agent}] ${short(text, 160)}`)
            if (event._tag === "AgentQuestionAsked") {
              // A question needs a person whatever --yes says; without a terminal the orchestration stops, resumable.
              const asked = orchestrator.members.find((m) => m.name === event.agent)!
              if (process.stdin.isTTY === true) {
                yield* asked.answer(
                  event.questionId,
                  yield* CommandIo.askLine(`${event.agent} asks: ${event.question}`)
                )
              } else {
                yield* Deferred.succeed(waiting, question(event.agent, event.questionId))
              }
              return
            }
          })
      )
      // Members on a cluster's runners publish nothing here: their approvals are watched in its table.
      const watchRemote =
        input.postgres === undefined
          ? Effect.void
          : ApprovalsRemote.watch({
              postgres: input.postgres,
              orchestrationId,
              answer: input.yes ? "approve" : interactive ? "ask" : "tell",
              person
            })
      const watchers = yield* Effect.forkChild(Effect.all([watchTeam, watchAgents, watchRemote], { concurrency: 3 }))
      yield* Effect.sleep("1 millis")
      const outcome = yield* Effect.raceFirst(
        Effect.map(Effect.result(orchestrator.orchestrate(goal, { orchestrationId })), (result) => ({
          _tag: "Ended" as const,
          result
        })),
        Effect.map(Deferred.await(waiting), (pending) => ({ _tag: "Waiting" as const, pending }))
      )
      yield* Fiber.interrupt(watchers)
      if (outcome._tag === "Waiting") {
        const status = yield* orchestrator.status
        const id = status.orchestrationId ?? orchestrationId
        const pending = outcome.pending
        const awaiting = pending._tag === "approval" ? "awaiting-approval" : "awaiting-answer"
        if (input.json) yield* line(JSON.stringify(jsonOf(id, awaiting, status.spend, undefined, "none")))
        return yield* new CliExit({
          code: ExitCode.waitingForApproval,
          message:
            pending._tag === "approval"
              ? `orchestration ${id}: ${pending.agent} waits for approval ${pending.id}: troupe approvals approve ${pending.id} (or deny), then troupe orchestrate --resume ${id}`
              : `orchestration ${id}: ${pending.agent} waits for an answer to its question: troupe orchestrate --resume ${id} at a terminal asks it again`
        })
      }
      if (outcome.result._tag === "Success") return yield* report(OrchestrateEnding.done(outcome.result.success))
      const error = outcome.result.failure
      return yield* report(
        "partial" in error
          ? OrchestrateEnding.notDone(error.partial.orchestrationId, error, error.partial.spend)
          : OrchestrateEnding.notDone(orchestrationId, error, Spend.zero)
      )
    })

    return yield* program.pipe(
      Effect.scoped,
      Effect.provide(
        AgentServices.layer({ workspace: workspaceDir, runs: runsDir, memory: withMemory ? memoryDir : undefined })
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
