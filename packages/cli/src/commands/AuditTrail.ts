/**
 * `troupe audit RUN [--verify]`: a run's audit trail as a timeline (steps, tools, approvals, cost), or, with
 * `--verify`, whether its hash chain is intact: exit 0 when it is, 1 naming the first bad entry when anything was
 * edited, removed, inserted or reordered.
 */
import { AuditEntry, AuditLog } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { CliExit, ExitCode } from "../ExitCode.ts"
import * as TroupeHome from "../TroupeHome.ts"

const print = (text: string) => Effect.sync(() => void process.stdout.write(`${AuditLog.sanitize(text)}\n`))

/** Runs `troupe audit`. */
export const run = (input: { readonly runId: string; readonly verify: boolean }) =>
  Effect.gen(function* () {
    const audit = yield* AuditLog.AuditLog
    if (input.verify) {
      const verification = yield* audit.verify(input.runId)
      const message = AuditEntry.message(verification)
      if (verification._tag === "Broken") return yield* new CliExit({ code: ExitCode.failed, message })
      return yield* print(message)
    }
    const entries = yield* Stream.runCollect(audit.read(input.runId))
    for (const text of AuditLog.format([...entries])) yield* print(text)
  }).pipe(
    Effect.catchTags({
      AuditLogNotFound: () =>
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: `no audit trail for run ${input.runId}` })),
      AuditRunIdInvalid: () =>
        Effect.fail(new CliExit({ code: ExitCode.badInput, message: "a run id is letters, digits, dots, dashes" })),
      AuditLogCorrupt: (error) => Effect.fail(new CliExit({ code: ExitCode.failed, message: error.message })),
      AuditLogError: (error) => Effect.fail(new CliExit({ code: ExitCode.failed, message: error.message }))
    }),
    Effect.provide(TroupeHome.auditLayer)
  )
