/**
 * `troupe orchestrate --goal GOAL [--team FILE] [--workspace DIR] [--concurrency N] [--max-steps N] [--max-cost USD]
 * [--yes] [--json]`: the
 * orchestrated mode, a team pursuing one goal: its manager decomposes it, each subtask goes to a capable member,
 * independent subtasks run at once, and the answers come back as one report.
 *
 * The team (default `agents/team.yaml`) works in `--workspace` (default: the current directory) with one provider
 * pool, its memory in `$TROUPE_HOME/memory` (each agent its own namespace and the team's), and one audit trail per
 * orchestration in `$TROUPE_HOME/runs/<orchestrationId>/audit.jsonl` linking every agent run's own trail; the
 * orchestration's trail and every linked run are verified at the end. A tool call that needs an approval asks at the
 * terminal; `--yes` approves `ask` calls (never `deny` ones); without a terminal the orchestration stops with exit
 * code 3 and the request stays in `$TROUPE_HOME/approvals` (`troupe approvals`).
 *
 * Output: one line per subtask event and agent step (sanitised for the terminal), then the report and a summary;
 * with `--json`, the last line is `{ orchestrationId, status, subtasks, steps, usage, costUsd, audit, error? }`.
 * Exit codes as `troupe run`: 0 done, 1 failed, 2 bad input, 3 waiting for an approval, 4 team budget exceeded.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { AgentEvents, AuditLog, Spend } from "@troupe/agent"
import type { SpecLoader, TeamSpec } from "@troupe/agent-spec"
import { KnowledgeBase, Memory } from "@troupe/memory"
import { Orchestrator, type OrchestratorEvent, type Report, TeamTrail } from "@troupe/orchestrator"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as AgentServices from "../AgentServices.ts"
import * as CommandIo from "../CommandIo.ts"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as SpecFile from "../SpecFile.ts"
import * as TroupeHome from "../TroupeHome.ts"
import { describe as describeAgentEvent } from "./RunAgent.ts"

/** The options of `troupe orchestrate`. */
export interface Input {
  readonly goal: string
  readonly team: string
  readonly workspace: string | undefined
  readonly concurrency: number | undefined
  /** The team's budget across all its agents. */
  readonly maxSteps: number | undefined
  readonly maxCostUsd: number | undefined
  readonly yes: boolean
  readonly json: boolean
}

/** The JSON line printed with `--json`. */
export interface JsonResult {
  readonly orchestrationId: string
  readonly status: OrchestratorEvent.Status | "awaiting-approval"
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
export const run = (input: Input) =>
  Effect.gen(function* () {
    const team = yield* loadTeam(input.team)
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

    const program = Effect.gen(function* () {
      const memory = withMemory ? Option.some(yield* Memory.Memory) : Option.none()
      const knowledgeBase = withMemory ? Option.some(yield* KnowledgeBase.KnowledgeBase) : Option.none()
      const audit = yield* AuditLog.AuditLog
      const hub = yield* AgentEvents.AgentEvents
      const orchestrator = yield* Orchestrator.make(team, {
        concurrency: input.concurrency,
        budget: { maxSteps: input.maxSteps, maxCostUsd: input.maxCostUsd },
        approveAsk: input.yes,
        approvals: yield* TroupeHome.approvals,
        audit,
        memory: Option.getOrUndefined(memory),
        knowledgeBase: Option.getOrUndefined(knowledgeBase)
      })
      const members = new Set(orchestrator.members.map((m) => m.name))
      let orchestrationId = ""
      const waiting = Deferred.makeUnsafe<{ readonly agent: string; readonly approvalId: string }>()
      const watchTeam = Stream.runForEach(orchestrator.events, (event) =>
        Effect.gen(function* () {
          if (event._tag === "OrchestrationStarted") orchestrationId = event.orchestrationId
          const text = describe(event)
          if (text !== undefined && !input.json) yield* line(text)
        })
      )
      const watchAgents = Stream.runForEach(
        Stream.filter(hub.events, (event) => members.has(event.agent)),
        (event) =>
          Effect.gen(function* () {
            const text = describeAgentEvent(event)
            // A member's task runs over several lines (the subtask and its inputs): one line each here.
            if (text !== undefined && !input.json) yield* line(`  [${event.agent}] ${short(text, 160)}`)
            // With --yes the policies' `ask` calls are approved as they are requested.
            if (event._tag !== "AgentApprovalRequested" || input.yes) return
            const agent = orchestrator.members.find((m) => m.name === event.agent)!
            if (interactive) {
              const approved = yield* CommandIo.askYesNo(
                `Approve ${event.agent}: ${event.tool} ${short(event.params, 400)}?`
              )
              yield* approved
                ? agent.approve(event.approvalId, person)
                : agent.deny(event.approvalId, person, "denied at the terminal")
            } else {
              yield* Deferred.succeed(waiting, { agent: event.agent, approvalId: event.approvalId })
            }
          })
      )
      const watchers = yield* Effect.forkChild(Effect.all([watchTeam, watchAgents], { concurrency: 2 }))
      yield* Effect.sleep("1 millis")
      const outcome = yield* Effect.raceFirst(
        Effect.map(Effect.result(orchestrator.orchestrate(input.goal)), (result) => ({
          _tag: "Ended" as const,
          result
        })),
        Effect.map(Deferred.await(waiting), (pending) => ({ _tag: "Waiting" as const, pending }))
      )
      yield* Fiber.interrupt(watchers)
      if (outcome._tag === "Waiting") {
        const status = yield* orchestrator.status
        const id = status.orchestrationId ?? orchestrationId
        if (input.json) yield* line(JSON.stringify(jsonOf(id, "awaiting-approval", status.spend, undefined, "none")))
        return yield* new CliExit({
          code: ExitCode.waitingForApproval,
          message: `orchestration ${id}: ${outcome.pending.agent} waits for approval ${outcome.pending.approvalId}: troupe approvals approve ${outcome.pending.approvalId} (or deny), then run again`
        })
      }
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
      if (outcome.result._tag === "Success") {
        const report = outcome.result.success
        if (!input.json) yield* line(report.summary)
        const verdict = yield* verdictOf(report.orchestrationId)
        const result = jsonOf(report.orchestrationId, "done", report.spend, report, verdict)
        yield* line(input.json ? JSON.stringify(result) : summaryOf(result))
        if (verdict === "broken") {
          return yield* new CliExit({ code: ExitCode.failed, message: "the audit trail does not verify" })
        }
        return
      }
      const error = outcome.result.failure
      const spend = "partial" in error ? error.partial.spend : Spend.zero
      const id = "partial" in error ? error.partial.orchestrationId : orchestrationId
      const status: JsonResult["status"] =
        error._tag === "TeamBudgetExceeded"
          ? "budget-exceeded"
          : error._tag === "OrchestrationCancelled"
            ? "cancelled"
            : "failed"
      const result = jsonOf(id, status, spend, undefined, yield* verdictOf(id), {
        tag: error._tag,
        message: error.message
      })
      yield* line(input.json ? JSON.stringify(result) : summaryOf(result))
      return yield* new CliExit({
        code: error._tag === "TeamBudgetExceeded" ? ExitCode.budgetExceeded : ExitCode.failed,
        message: error.message
      })
    })

    return yield* program.pipe(
      Effect.scoped,
      Effect.provide(AgentServices.layer({ workspace: workspaceDir, memory: withMemory ? memoryDir : undefined }))
    )
  }).pipe(
    Effect.catchTags({
      ProviderConfigError: (error: { readonly provider: string; readonly description: string }) =>
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: `${error.provider}: ${error.description}` })),
      ToolsetError: (error: { readonly tool: string; readonly reason: string }) =>
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: `tool ${error.tool}: ${error.reason}` }))
    })
  )
