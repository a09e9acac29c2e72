/**
 * The records of the jobs a server started, `<directory>/<id>/job.json` beside the journal and trail of the agent run
 * or orchestration, so that a server started again resumes those it had not finished (their journals answer what was
 * done).
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ServerFailure } from "../ServerApi.ts"

/**
 * What a job was started with: the spec or team file as the request named it (under the spec directory; empty for the
 * server's own team), the goal, who asked. A team's job (`kind: "team"`, absent in the records of agent jobs) names
 * its team and a digest of it too: a team changed since is not resumed (its journal replays the team it started with).
 */
export const JobRecord = Schema.Struct({
  kind: Schema.optionalKey(Schema.Literals(["agent", "team"])),
  team: Schema.optionalKey(Schema.String),
  teamDigest: Schema.optionalKey(Schema.String),
  spec: Schema.String,
  goal: Schema.String,
  submittedBy: Schema.String,
  ended: Schema.Boolean
})

/** What a job was started with. */
export type JobRecord = typeof JobRecord.Type

const decode = Schema.decodeUnknownOption(Schema.fromJsonString(JobRecord))

// A record is small; anything larger was not written by a server.
const maxRecordBytes = 64 * 1024

const runIdPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

const pathOf = (directory: string, runId: string) => NodePath.join(directory, runId, "job.json")

/** Writes a job's record atomically (a temporary file renamed over it). */
export const write = (directory: string, runId: string, record: JobRecord): Effect.Effect<void, ServerFailure> =>
  Effect.try({
    try: () => {
      NodeFs.mkdirSync(NodePath.join(directory, runId), { recursive: true, mode: 0o700 })
      const path = pathOf(directory, runId)
      const temporary = `${path}.${process.pid}.tmp`
      NodeFs.writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600 })
      NodeFs.renameSync(temporary, path)
    },
    catch: () => new ServerFailure({ message: "the job cannot be recorded in the state directory" })
  })

/**
 * Records a job as started in `directory` and returns what records its end (a failure to record it is ignored: the job
 * has ended either way); nothing is recorded without a directory.
 */
export const open = (
  directory: string | undefined,
  runId: string,
  record: Omit<JobRecord, "ended">
): Effect.Effect<Effect.Effect<void> | undefined, ServerFailure> =>
  directory === undefined
    ? Effect.succeed(undefined)
    : Effect.as(
        write(directory, runId, { ...record, ended: false }),
        write(directory, runId, { ...record, ended: true }).pipe(Effect.ignore)
      )

/** The records of jobs that did not end, by run or orchestration id; unreadable or oversized records are skipped. */
export const unfinished = (
  directory: string
): Effect.Effect<ReadonlyArray<{ readonly runId: string; readonly record: JobRecord }>> =>
  Effect.try({
    try: () => {
      const found: Array<{ readonly runId: string; readonly record: JobRecord }> = []
      const names = NodeFs.existsSync(directory) ? NodeFs.readdirSync(directory) : []
      for (const runId of names.sort()) {
        if (!runIdPattern.test(runId)) continue
        const path = pathOf(directory, runId)
        const stat = NodeFs.statSync(path, { throwIfNoEntry: false })
        if (stat === undefined || !stat.isFile() || stat.size > maxRecordBytes) continue
        const record = decode(NodeFs.readFileSync(path, "utf8"))
        if (record._tag === "Some" && !record.value.ended) found.push({ runId, record: record.value })
      }
      return found
    },
    catch: () => "unreadable"
  }).pipe(Effect.orElseSucceed(() => []))
