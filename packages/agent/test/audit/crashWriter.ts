/**
 * A process that appends to a trail until it is killed, printing `ack <seq>` for every entry it may act on: each
 * one `append` returned (durable: fdatasynced; written: in the OS's page cache, which a killed process keeps).
 *
 * Usage: node crashWriter.ts HOME RUN_ID DURABILITY
 */
import * as Effect from "effect/Effect"
import * as AuditLog from "../../src/AuditLog.ts"

const [home, runId, durability] = process.argv.slice(2) as [string, string, AuditLog.Durability]

const ack = (seqs: ReadonlyArray<number>) =>
  Effect.sync(() => process.stdout.write(seqs.map((s) => `ack ${s}\n`).join("")))

// Four fibers append at once so that group commit batches them; entries vary in size.
const worker = (log: AuditLog.Writer, fiber: number) =>
  Effect.gen(function* () {
    for (let i = 0; ; i++) {
      const entry = yield* log.append("Step", { fiber, i, text: "x".repeat((i * 37) % 3000) })
      yield* ack([entry.seq])
    }
  })

const program = Effect.gen(function* () {
  const audit = yield* AuditLog.AuditLog
  const log = yield* audit.open(runId, "crash")
  process.stdout.write("ready\n")
  yield* Effect.all(
    [0, 1, 2, 3].map((fiber) => worker(log, fiber)),
    { concurrency: "unbounded" }
  )
}).pipe(Effect.scoped, Effect.provide(AuditLog.layer({ home, durability })))

Effect.runFork(program)
