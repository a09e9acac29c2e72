/**
 * A team's goal as the server hands it over: under an id the server chose (a fresh one, or that of an orchestration a
 * previous server did not finish, which resumes from its journal), so the job has its id before the orchestration
 * emits anything (a resumed one does not publish again the events it replays).
 */
import { createHash } from "node:crypto"
import type { AuditLog } from "@troupe/agent"
import type { TeamSpec } from "@troupe/agent-spec"
import type { Orchestrator, OrchestratorError, Report } from "@troupe/orchestrator"
import { ReplyTo } from "@troupe/runtime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** How a goal handed over ends: its report, or the orchestration's failure (or a day passing without either). */
export type Ending = Effect.Effect<Report.Report, { readonly _tag: string; readonly message: string }>

/** Why a goal was not taken: the team pursues another goal, or its orchestrator does not answer (stopped). */
export type Refusal = "busy" | "unreachable"

/**
 * Hands `goal` to the orchestrator as the orchestration `orchestrationId`; its ending, or why it was not taken. The
 * goal goes straight to the orchestrator's mailbox, then a status request: the status is answered after the goal was
 * taken or refused, so a refusal is known on return.
 */
export const offer = (
  orchestrator: Orchestrator.Orchestrator,
  goal: string,
  orchestrationId: string
): Effect.Effect<Ending | Refusal> =>
  Effect.gen(function* () {
    const replyTo = yield* ReplyTo.make<Report.Report, OrchestratorError.OrchestrationError>()
    yield* orchestrator.ref.tell({ _tag: "Orchestrate", goal, orchestrationId, replyTo })
    const answers = yield* Effect.isSuccess(orchestrator.status)
    if (Deferred.isDoneUnsafe(replyTo.deferred)) {
      const refused = Exit.findErrorOption(yield* Effect.exit(Deferred.await(replyTo.deferred)))
      if (Option.isSome(refused) && refused.value._tag === "OrchestratorBusy") return "busy"
    } else if (!answers) {
      return "unreachable"
    }
    return Deferred.await(replyTo.deferred).pipe(
      Effect.timeoutOrElse({
        duration: Duration.days(1),
        orElse: () => Effect.fail({ _tag: "JobTimedOut", message: "the goal did not end within a day" })
      })
    )
  })

/** Whether the orchestration's trail records its end (a server may stop before its job's record says so). */
export const hasEnded = (audit: AuditLog.Service, orchestrationId: string): Effect.Effect<boolean> =>
  audit.read(orchestrationId).pipe(
    Stream.filter((entry) => entry.type === "OrchestrationEnded"),
    Stream.runHead,
    Effect.map(Option.isSome),
    Effect.orElseSucceed(() => false)
  )

/** A digest of a team as its file decoded (members, policies, tools, supervision). */
export const digestOf = (team: TeamSpec.Team): string => createHash("sha256").update(JSON.stringify(team)).digest("hex")
