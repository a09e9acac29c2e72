/**
 * From a prepared team document to a team with every member resolved: file members read (bounded, regular files
 * only) and decoded, inline members decoded in place, names checked unique and delegation kept inside the team.
 */
import * as Effect from "effect/Effect"
import * as Path from "effect/Path"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as AgentSpec from "../AgentSpec.ts"
import * as TeamSpec from "../TeamSpec.ts"
import * as ToolSpec from "../ToolSpec.ts"
import * as AgentDecoding from "./agentDecoding.ts"
import * as Document from "./document.ts"
import * as Excerpt from "./excerpt.ts"
import * as Issues from "./issues.ts"
import * as Problems from "./problems.ts"
import * as Suggest from "./suggest.ts"

interface Entry {
  readonly at: ReadonlyArray<PropertyKey>
  readonly entry: unknown
}

/** The member a document path is in: `manager`, `agents.I`, or `undefined` outside any member. */
const memberKey = (path: ReadonlyArray<PropertyKey>): string | undefined =>
  path[0] === "manager" ? "manager" : path[0] === "agents" && path.length >= 2 ? `agents.${String(path[1])}` : undefined

/** Decodes a prepared team document and loads its members. */
export const decodeTeam = (
  prepared: AgentDecoding.Prepared,
  session: Problems.Session
): Effect.Effect<Problems.Outcome<TeamSpec.Team>, never, AgentDecoding.Requirements> =>
  Effect.gen(function* () {
    if (prepared.data === undefined && prepared.problems.length > 0) return Problems.failed(prepared.problems)
    const { parsed, file, data } = prepared
    if (!Predicate.isObject(data)) {
      const message = `Expected a team file (a map with name and agents), but ${AgentDecoding.describe(data)}`
      return Problems.failed([...prepared.problems, Problems.schemaError(parsed, file, [], false, message)])
    }
    const foreign = AgentDecoding.notASpec(data, Object.keys(TeamSpec.TeamSpec.fields), "a team file")
    if (foreign !== undefined) {
      return Problems.failed([...prepared.problems, Problems.schemaError(parsed, file, [], false, foreign)])
    }
    const path = yield* Path.Path
    // Members are resolved from the raw document whether or not the team itself decodes, so that one problem of
    // the team file never hides those of its members.
    const entries: Array<Entry> = [
      ...(data.manager === undefined ? [] : [{ at: ["manager"], entry: data.manager }]),
      ...(Array.isArray(data.agents) ? data.agents.map((entry, i) => ({ at: ["agents", i], entry })) : [])
    ]
    const inline = new Set(entries.filter(({ entry }) => Predicate.isObject(entry)).map(({ at }) => memberKey(at)))
    const inInline = (path: ReadonlyArray<PropertyKey>) => {
      const key = memberKey(path)
      return key !== undefined && inline.has(key)
    }
    const quote = Problems.quoter(parsed, [])
    const decoded = Schema.decodeUnknownExit(TeamSpec.TeamSpec, AgentSpec.parseOptions)(data)
    // Problems inside an inline member come from decoding that member on its own below.
    const teamProblems =
      decoded._tag === "Failure"
        ? decoded.cause.reasons.flatMap((r) =>
            r._tag === "Fail"
              ? Issues.flatten(r.error.issue, quote)
                  .filter((found) => !inInline(found.path))
                  .map((found) => Problems.schemaError(parsed, file, found.path, found.atKey, found.message))
              : []
          )
        : []
    const problems: Array<Problems.Problem> = [...prepared.problems, ...teamProblems]
    const notices: Array<Problems.Notice> = []
    const members = new Map<string, AgentSpec.AgentSpec | undefined>()
    const resolve = (entry: unknown, at: ReadonlyArray<PropertyKey>) =>
      Effect.gen(function* () {
        if (Predicate.isObject(entry)) {
          const outcome = yield* AgentDecoding.decodeSpec(entry, prepared, at, session)
          problems.push(...outcome.problems)
          return outcome.value
        }
        // Anything else (an empty path, a number, a list) is already a problem of the team file.
        if (typeof entry !== "string" || entry === "") return undefined
        const target = path.isAbsolute(entry) ? entry : path.join(path.dirname(file), entry)
        const where = { file, ...Document.locate(parsed, at) }
        const read = yield* AgentDecoding.readReferenced(target, "agent spec", where, session)
        if (Result.isFailure(read)) {
          problems.push(read.failure)
          return undefined
        }
        // A file named twice is decoded once, and its problems and notices are reported once.
        const known = members.get(target)
        if (known !== undefined) return known
        const member = yield* AgentDecoding.prepare(read.success, target, session)
        const outcome = yield* AgentDecoding.decodeAgent(member, session)
        members.set(target, outcome.value)
        problems.push(...outcome.problems)
        notices.push(...outcome.notices)
        return outcome.value
      })
    let manager: AgentSpec.AgentSpec | undefined
    const agents: Array<AgentSpec.AgentSpec> = []
    const names = new Map<string, { readonly at: ReadonlyArray<PropertyKey>; readonly spec: AgentSpec.AgentSpec }>()
    for (const { at, entry } of entries) {
      const spec = yield* resolve(entry, at)
      if (spec === undefined) continue
      if (at[0] === "manager") {
        manager = spec
        names.set(spec.name, { at, spec })
        continue
      }
      const taken = names.get(spec.name)
      if (taken !== undefined) {
        problems.push(
          Problems.schemaError(
            parsed,
            file,
            at,
            false,
            `Agent name ${Excerpt.literal(spec.name)} is already used in this team (at ${taken.at.join(".")})`
          )
        )
        continue
      }
      names.set(spec.name, { at, spec })
      agents.push(spec)
    }
    // A delegate tool may only name agents of this team.
    const memberNames = [...names.keys()]
    for (const [name, { at, spec }] of names) {
      for (const target of ToolSpec.find(spec.tools, "delegate")?.agents ?? []) {
        if (!names.has(target)) {
          problems.push(
            Problems.schemaError(
              parsed,
              file,
              at,
              false,
              `Agent ${Excerpt.literal(name)} delegates to ${Excerpt.literal(target)}, which is not in this team${Suggest.didYouMean(target, memberNames)}`
            )
          )
        }
      }
    }
    if (decoded._tag === "Failure") return Problems.failed(problems, notices)
    const team = decoded.value
    const value: TeamSpec.Team = {
      name: team.name,
      description: team.description,
      manager,
      agents,
      supervision: team.supervision
    }
    return { value, problems, notices }
  })
