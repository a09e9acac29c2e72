/**
 * What an orchestration was started with, kept beside its journal and trail
 * (`$TROUPE_HOME/runs/<orchestrationId>/orchestration.json`), so that `troupe orchestrate --resume ORCH_ID` needs
 * nothing else: the team file (and a digest of it: a resumed orchestration replays the same team), the workspace,
 * the goal and the team's budget.
 */
import { createHash } from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { CliExit, ExitCode } from "../ExitCode.ts"

/** The team file used when `--team` is not given. */
export const defaultTeam = "agents/team.yaml"

/** The record of one orchestration. */
export const Record = Schema.Struct({
  team: Schema.String,
  teamDigest: Schema.String,
  workspace: Schema.String,
  goal: Schema.String,
  concurrency: Schema.optionalKey(Schema.Int),
  maxSteps: Schema.optionalKey(Schema.Int),
  maxCostUsd: Schema.optionalKey(Schema.Finite),
  /** Its members ran on a cluster's runners (`--postgres`; the URL itself, which may hold a password, is not kept). */
  cluster: Schema.optionalKey(Schema.Boolean)
})

/** The record of one orchestration. */
export type Record = typeof Record.Type

const idPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

// Team files are small; a larger one is not read whole to be digested.
const maxTeamBytes = 4 * 1024 * 1024

const pathOf = (runsDir: string, orchestrationId: string) =>
  NodePath.join(runsDir, orchestrationId, "orchestration.json")

// The first `max` bytes of a file.
const readBounded = (path: string, max: number): Buffer => {
  const fd = NodeFs.openSync(path, "r")
  const buffer = Buffer.alloc(max)
  const read = NodeFs.readSync(fd, buffer, 0, max, 0)
  NodeFs.closeSync(fd)
  return buffer.subarray(0, read)
}

/** The digest of the team file as it is now. */
export const digestOf = (teamFile: string): Effect.Effect<string, CliExit> =>
  Effect.try({
    try: () => createHash("sha256").update(readBounded(teamFile, maxTeamBytes)).digest("hex"),
    catch: () => new CliExit({ code: ExitCode.badInput, message: `cannot read the team file ${teamFile}` })
  })

/** Reads the record of `orchestrationId`; an id that is not one, or has no record, is bad input. */
export const read = (runsDir: string, orchestrationId: string): Effect.Effect<Record, CliExit> => {
  if (!idPattern.test(orchestrationId)) {
    return Effect.fail(new CliExit({ code: ExitCode.badInput, message: "--resume: that is not an orchestration id" }))
  }
  const missing = new CliExit({
    code: ExitCode.badInput,
    message: `--resume: no orchestration ${orchestrationId} in ${runsDir}`
  })
  // A record is a few hundred bytes: what is read of a file is bounded, and anything past it does not decode.
  return Effect.try({
    try: () => readBounded(pathOf(runsDir, orchestrationId), 64 * 1024),
    catch: () => missing
  }).pipe(
    Effect.flatMap((text) =>
      Schema.decodeUnknownEffect(Schema.fromJsonString(Record))(text.toString("utf8")).pipe(
        Effect.mapError(
          () =>
            new CliExit({
              code: ExitCode.badInput,
              message: `--resume: orchestration ${orchestrationId} has an unreadable record`
            })
        )
      )
    )
  )
}

/** Writes the record of `orchestrationId` before it starts. */
export const write = (runsDir: string, orchestrationId: string, record: Record): Effect.Effect<void, CliExit> =>
  Effect.try({
    try: () => {
      NodeFs.mkdirSync(NodePath.join(runsDir, orchestrationId), { recursive: true, mode: 0o700 })
      NodeFs.writeFileSync(pathOf(runsDir, orchestrationId), `${JSON.stringify(record)}\n`, { mode: 0o600 })
    },
    catch: (error) =>
      new CliExit({
        code: ExitCode.failed,
        message: `cannot record the orchestration in ${runsDir}: ${(error as NodeJS.ErrnoException).code ?? "error"}`
      })
  })
