/**
 * Loads agent specs and team files from YAML, reporting every problem at once as `FILE:LINE:COL: message`.
 *
 * Files are read through effect's `FileSystem` (and `Path`), so the Node implementation, a test double or an
 * in-memory one all work. `${VAR}` references are read through the current `ConfigProvider` (the process
 * environment by default). Every failure is a {@link SpecError.SpecInvalid} holding the positioned problems;
 * nothing is thrown.
 *
 * Input is treated as hostile, since a team member or `instructionsFile` can name any path and a `${VAR}` any
 * variable:
 * - only regular files are read, and none larger than {@link maxFileBytes} (`/dev/zero`, a FIFO, a directory or a
 *   device is a `SpecFileError`, found with `stat` before anything is opened);
 * - problems never quote a file that is not a spec, quote values as short excerpts with control characters
 *   escaped, and show a value that came from `${VAR}` as `${VAR}`;
 * - loading is linear in the size of the input (one parse per file), and the error keeps at most
 *   {@link SpecError.maxReportedProblems} problems.
 *
 * @example
 * ```ts
 * import { SpecLoader } from "@troupe/agent-spec"
 * import { NodeServices } from "@effect/platform-node"
 * import * as Effect from "effect/Effect"
 *
 * const program = SpecLoader.loadAgent("agents/backend.yaml").pipe(
 *   Effect.map(({ spec }) => spec.limits.maxSteps),
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 */
import * as Effect from "effect/Effect"
import type * as AgentSpec from "./AgentSpec.ts"
import * as AgentDecoding from "./internal/agentDecoding.ts"
import * as Document from "./internal/document.ts"
import * as Excerpt from "./internal/excerpt.ts"
import * as Problems from "./internal/problems.ts"
import * as ReadFile from "./internal/readFile.ts"
import * as TeamLoading from "./internal/teamLoading.ts"
import type * as SpecError from "./SpecError.ts"
import * as TeamSpec from "./TeamSpec.ts"

/** An agent spec loaded from a file, with any notices about it. */
export interface LoadedAgent {
  readonly _tag: "Agent"
  readonly file: string
  readonly spec: AgentSpec.AgentSpec
  readonly notices: ReadonlyArray<SpecError.SpecNotice>
}

/** A team file loaded with every member resolved, and the notices of all its files. */
export interface LoadedTeam {
  readonly _tag: "Team"
  readonly file: string
  readonly team: TeamSpec.Team
  readonly notices: ReadonlyArray<SpecError.SpecNotice>
}

/** What the loader needs from the platform. */
export type Requirements = AgentDecoding.Requirements

/**
 * The largest file the loader reads by default, in bytes: spec, team member or `instructionsFile`. The nine
 * built-in agents are 1–2 KB each; 512 KB leaves room for long instructions while keeping a mistaken path (a log,
 * a disk image) from being read at all.
 */
export const maxFileBytes = 512 * 1024

/** Options of every load. */
export interface Options {
  /** The largest file read, in bytes; {@link maxFileBytes} when absent. */
  readonly maxFileBytes?: number | undefined
}

const session = (options: Options | undefined): Problems.Session => ({
  maxFileBytes: options?.maxFileBytes ?? maxFileBytes,
  substitutions: [],
  reads: new Map()
})

/** Reads the file being loaded; failing to is its one problem, at 1:1. */
const readSpec = (file: string, state: Problems.Session): Effect.Effect<string, SpecError.SpecInvalid, Requirements> =>
  ReadFile.read(file, state.maxFileBytes).pipe(
    Effect.mapError((failure) =>
      Problems.invalid(
        file,
        [
          {
            _tag: "SpecFileError",
            file,
            line: 1,
            col: 1,
            reason: failure.reason,
            message: `Cannot read ${Excerpt.path(file)}: ${failure.detail}`
          }
        ],
        state
      )
    )
  )

const agentFrom = (prepared: AgentDecoding.Prepared, state: Problems.Session) =>
  Effect.flatMap(AgentDecoding.decodeAgent(prepared, state), (outcome) =>
    Problems.finish(
      prepared.file,
      outcome,
      state,
      (spec): LoadedAgent => ({
        _tag: "Agent",
        file: prepared.file,
        spec,
        notices: Problems.notices(outcome.notices, state)
      })
    )
  )

const teamFrom = (prepared: AgentDecoding.Prepared, state: Problems.Session) =>
  Effect.flatMap(TeamLoading.decodeTeam(prepared, state), (outcome) =>
    Problems.finish(
      prepared.file,
      outcome,
      state,
      (team): LoadedTeam => ({
        _tag: "Team",
        file: prepared.file,
        team,
        notices: Problems.notices(outcome.notices, state)
      })
    )
  )

/**
 * Decodes an agent spec from YAML text; `file` names it in problems and anchors `instructionsFile`.
 * Accepts the legacy six-field format too (with a notice).
 */
export const parseAgent = (
  source: string,
  file: string,
  options?: Options
): Effect.Effect<LoadedAgent, SpecError.SpecInvalid, Requirements> =>
  Effect.suspend(() => {
    const state = session(options)
    return Effect.flatMap(AgentDecoding.prepare(source, file, state), (prepared) => agentFrom(prepared, state))
  })

/** Reads and decodes an agent spec file. */
export const loadAgent = (
  file: string,
  options?: Options
): Effect.Effect<LoadedAgent, SpecError.SpecInvalid, Requirements> =>
  Effect.suspend(() => {
    const state = session(options)
    return readSpec(file, state).pipe(
      Effect.flatMap((source) => AgentDecoding.prepare(source, file, state)),
      Effect.flatMap((prepared) => agentFrom(prepared, state))
    )
  })

/** Decodes a team file from YAML text, loading member spec files relative to `file`. */
export const parseTeam = (
  source: string,
  file: string,
  options?: Options
): Effect.Effect<LoadedTeam, SpecError.SpecInvalid, Requirements> =>
  Effect.suspend(() => {
    const state = session(options)
    return Effect.flatMap(AgentDecoding.prepare(source, file, state), (prepared) => teamFrom(prepared, state))
  })

/** Reads and decodes a team file and its members. */
export const loadTeam = (
  file: string,
  options?: Options
): Effect.Effect<LoadedTeam, SpecError.SpecInvalid, Requirements> =>
  Effect.suspend(() => {
    const state = session(options)
    return readSpec(file, state).pipe(
      Effect.flatMap((source) => AgentDecoding.prepare(source, file, state)),
      Effect.flatMap((prepared) => teamFrom(prepared, state))
    )
  })

/**
 * Reads a file and decodes it as a team (when it has an `agents` key) or as an agent spec, parsing it once.
 */
export const load = (
  file: string,
  options?: Options
): Effect.Effect<LoadedAgent | LoadedTeam, SpecError.SpecInvalid, Requirements> =>
  Effect.suspend(() => {
    const state = session(options)
    return readSpec(file, state).pipe(
      Effect.flatMap((source) => AgentDecoding.prepare(source, file, state)),
      Effect.flatMap(
        (prepared): Effect.Effect<LoadedAgent | LoadedTeam, SpecError.SpecInvalid, Requirements> =>
          prepared.data !== undefined && TeamSpec.isTeam(Document.rootKeys(prepared.parsed))
            ? teamFrom(prepared, state)
            : agentFrom(prepared, state)
      )
    )
  })
