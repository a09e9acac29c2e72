/**
 * One audit trail per orchestration, linking its agents' runs by id.
 *
 * The orchestration's own events go to `$TROUPE_HOME/runs/<orchestrationId>/audit.jsonl` through the same hash-
 * chained `AuditLog` as every agent run (so `troupe audit ID --verify` reads it too). Each agent run the
 * orchestration started is linked by an `OrchestrationRunLinked` entry holding the run's id and the head of the
 * run's own trail once it ended: verifying the orchestration (`verify`) checks its trail, then every linked run's
 * trail against that head, so an agent trail edited, cut or rewritten from genesis after the fact is caught and
 * named.
 *
 * @example
 * ```ts
 * import { TeamTrail } from "@troupe/orchestrator"
 *
 * const verdict = yield* TeamTrail.verify(audit, report.orchestrationId)
 * verdict.intact // every trail of the orchestration verifies
 * ```
 */
import { AuditEntry, type AuditLog } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/** One linked run, as verified. */
export interface LinkedRun {
  readonly subtaskId: string
  readonly agent: string
  readonly runId: string
  readonly verification: AuditEntry.Verification | undefined
  /** Why the run could not be verified (no trail, or no head was recorded for it), when it could not. */
  readonly problem: string | undefined
  /**
   * The runner that made the run, when its trail is there and not here: verified on that runner against the head
   * linked here (`troupe audit RUN --verify`), not counted against the verdict.
   */
  readonly elsewhere?: string | undefined
}

/** The verdict on an orchestration: its own trail and every run it links. */
export interface Verdict {
  readonly orchestrationId: string
  readonly orchestration: AuditEntry.Verification
  readonly runs: ReadonlyArray<LinkedRun>
  /** Every trail intact, every linked run matching its recorded head. */
  readonly intact: boolean
}

const Link = Schema.Struct({
  subtaskId: Schema.String,
  agent: Schema.String,
  runId: Schema.String,
  runner: Schema.optionalKey(Schema.String),
  head: Schema.optionalKey(AuditEntry.Head),
  broken: Schema.optionalKey(Schema.String)
})

const decodeLink = Schema.decodeUnknownOption(Link)

/** The head of a run's trail as it is now, or why there is none. */
export const headOf = (
  audit: AuditLog.Service,
  runId: string
): Effect.Effect<{ readonly head: AuditEntry.Head } | { readonly broken: string }> =>
  audit.verify(runId).pipe(
    Effect.map((verification) =>
      verification._tag === "Intact" ? { head: verification.head } : { broken: AuditEntry.message(verification) }
    ),
    Effect.catch((error) => Effect.succeed({ broken: error.message }))
  )

/** Verifies an orchestration's trail and every run it links. */
export const verify = (
  audit: AuditLog.Service,
  orchestrationId: string
): Effect.Effect<
  Verdict,
  AuditEntry.AuditLogError | AuditEntry.AuditLogNotFound | AuditEntry.AuditRunIdInvalid | AuditEntry.AuditLogCorrupt
> =>
  Effect.gen(function* () {
    const orchestration = yield* audit.verify(orchestrationId)
    const entries = yield* Stream.runCollect(
      audit.read(orchestrationId).pipe(Stream.filter((entry) => entry.type === "OrchestrationRunLinked"))
    )
    const runs = yield* Effect.forEach(entries, (entry) => {
      const link = decodeLink(entry.data)
      if (link._tag === "None") {
        return Effect.succeed<LinkedRun>({
          subtaskId: "?",
          agent: entry.agent,
          runId: "?",
          verification: undefined,
          problem: `entry ${entry.seq} is not a run link`
        })
      }
      const { subtaskId, agent, runId, runner, head, broken } = link.value
      // A run made elsewhere and interrupted before it answered has no head its runner read: its trail, when it is
      // here, is verified without an anchor (a cut end cannot be told), and otherwise is to be verified there.
      if (head === undefined && runner !== undefined) {
        return audit.verify(runId).pipe(
          Effect.map((verification): LinkedRun => ({ subtaskId, agent, runId, verification, problem: undefined })),
          Effect.catch((error) =>
            Effect.succeed<LinkedRun>(
              error._tag === "AuditLogNotFound"
                ? { subtaskId, agent, runId, verification: undefined, problem: undefined, elsewhere: runner }
                : { subtaskId, agent, runId, verification: undefined, problem: error.message }
            )
          )
        )
      }
      if (head === undefined) {
        return Effect.succeed<LinkedRun>({
          subtaskId,
          agent,
          runId,
          verification: undefined,
          problem: `no head was recorded: ${broken ?? "unknown"}`
        })
      }
      return audit.verify(runId, { anchor: head }).pipe(
        Effect.map((verification): LinkedRun => ({ subtaskId, agent, runId, verification, problem: undefined })),
        Effect.catch((error) =>
          Effect.succeed<LinkedRun>(
            error._tag === "AuditLogNotFound" && runner !== undefined
              ? { subtaskId, agent, runId, verification: undefined, problem: undefined, elsewhere: runner }
              : { subtaskId, agent, runId, verification: undefined, problem: error.message }
          )
        )
      )
    })
    return {
      orchestrationId,
      orchestration,
      runs,
      intact:
        orchestration._tag === "Intact" &&
        runs.every(
          (run) => run.problem === undefined && (run.verification?._tag === "Intact" || run.elsewhere !== undefined)
        )
    }
  })

/** One line per trail for people: the orchestration's, then each linked run's. */
export const describe = (verdict: Verdict): ReadonlyArray<string> => [
  `orchestration ${verdict.orchestrationId}: ${AuditEntry.message(verdict.orchestration)}`,
  ...verdict.runs.map(
    (run) =>
      `  ${run.subtaskId} (${run.agent}) run ${run.runId}: ${run.verification === undefined ? (run.problem ?? (run.elsewhere === undefined ? "unverified" : `on runner ${run.elsewhere} (troupe audit ${run.runId} --verify there)`)) : AuditEntry.message(run.verification)}`
  )
]
