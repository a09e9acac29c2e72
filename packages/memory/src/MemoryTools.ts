/**
 * The agent-facing tools over Memory and KnowledgeBase: `memory_recall`, `memory_remember`, `knowledge_query` and
 * `knowledge_assert`, as an `effect/ai` `Toolkit` with handlers.
 *
 * Handlers are bound to one agent: recall searches the agent's namespace and the shared team namespace, and
 * remember writes to the agent's own namespace unless `shared` is set. Failures are returned to the model as a
 * `{ error, message }` result (failure mode "return") so it can adapt, instead of ending the turn.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import { MemoryTools } from "@troupe/memory"
 *
 * const program = Effect.gen(function*() {
 *   const tools = yield* MemoryTools.toolkit
 *   return yield* tools.handle("memory_recall", { query: "flaky tests" })
 * }).pipe(Effect.provide(MemoryTools.layer({ agent: "backend" })))
 * ```
 */

import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as KnowledgeBase from "./KnowledgeBase.ts"
import * as Memory from "./Memory.ts"
import * as Records from "./MemoryRecord.ts"

/** What a failed memory tool call returns to the model. */
export const ToolFailure = Schema.Struct({ error: Schema.String, message: Schema.String })

/** What a failed memory tool call returns to the model. */
export type ToolFailure = typeof ToolFailure.Type

const toFailure = (e: { readonly _tag: string; readonly message: string }): ToolFailure => ({
  error: e._tag,
  message: e.message
})

const iso = (ms: number) => new Date(ms).toISOString()

// A model asking for more than a prompt can use gets the most that fits, rather than an error to recover from.
const maxToolK = 50

/** Searches the agent's memories and the team's by meaning and keywords. */
export const MemoryRecall = Tool.make("memory_recall", {
  description:
    "Search long-term memory (yours and your team's) for what is relevant to a query. Returns the best matches with a relevance score.",
  parameters: Schema.Struct({
    query: Schema.String,
    k: Schema.optionalKey(
      Schema.Int.annotate({ description: `number of results, default ${Memory.defaultRecallK}, at most ${maxToolK}` })
    ),
    kinds: Schema.optionalKey(Schema.Array(Records.Kind))
  }),
  success: Schema.Array(
    Schema.Struct({
      id: Schema.String,
      kind: Records.Kind,
      namespace: Schema.String,
      text: Schema.String,
      score: Schema.Finite,
      createdAt: Schema.String
    })
  ),
  failure: ToolFailure,
  failureMode: "return"
})

/** Stores a memory for later. */
export const MemoryRemember = Tool.make("memory_remember", {
  description:
    "Store something worth remembering later: an episode (what happened), a fact, a lesson (what to do or avoid next time) or a document.",
  parameters: Schema.Struct({
    text: Schema.String,
    kind: Schema.optionalKey(Records.Kind),
    importance: Schema.optionalKey(
      Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })).annotate({
        description: "0 (trivial) to 1 (critical), default 0.5"
      })
    ),
    shared: Schema.optionalKey(Schema.Boolean.annotate({ description: "store in the team's shared memory" }))
  }),
  success: Schema.Struct({ id: Schema.String, namespace: Schema.String }),
  failure: ToolFailure,
  failureMode: "return"
})

/** Looks up structured facts. */
export const KnowledgeQuery = Tool.make("knowledge_query", {
  description:
    "Look up structured facts (subject, predicate, object) by any of their parts; current facts by default, facts valid at `asOf` (ISO date), or the full history.",
  parameters: Schema.Struct({
    subject: Schema.optionalKey(Schema.String),
    predicate: Schema.optionalKey(Schema.String),
    object: Schema.optionalKey(Schema.String),
    asOf: Schema.optionalKey(Schema.String),
    history: Schema.optionalKey(Schema.Boolean)
  }),
  success: Schema.Struct({ count: Schema.Int, facts: Schema.String }),
  failure: ToolFailure,
  failureMode: "return"
})

/** Records a structured fact, superseding a contradicting one. */
export const KnowledgeAssert = Tool.make("knowledge_assert", {
  description:
    "Record a fact (subject, predicate, object). A different object for the same subject and predicate replaces the current one; the old one stays in the history.",
  parameters: Schema.Struct({
    subject: Schema.String,
    predicate: Schema.String,
    object: Schema.String,
    confidence: Schema.optionalKey(Schema.Finite.annotate({ description: "0 to 1, default 1" })),
    source: Schema.optionalKey(Schema.String)
  }),
  success: Schema.Struct({ id: Schema.String, created: Schema.Boolean, superseded: Schema.Array(Schema.String) }),
  failure: ToolFailure,
  failureMode: "return"
})

/** The four memory tools. */
export const toolkit = Toolkit.make(MemoryRecall, MemoryRemember, KnowledgeQuery, KnowledgeAssert)

/** Whom the handlers act for. */
export interface Options {
  /** The agent's name; its namespace unless `namespace` is given. */
  readonly agent: string
  readonly namespace?: string
  /** The shared namespace (default `team`). */
  readonly teamNamespace?: string
  /** Results of `memory_recall` when `k` is not given (default `Memory.defaultRecallK`). */
  readonly defaultK?: number
}

/** Handlers of the memory tools for one agent, over the Memory and KnowledgeBase in context. */
export const layer = (options: Options) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      const memory = yield* Memory.Memory
      const kb = yield* KnowledgeBase.KnowledgeBase
      const own = options.namespace ?? Records.agentNamespace(options.agent)
      const team = options.teamNamespace ?? Records.teamNamespace
      return toolkit.of({
        memory_recall: ({ query, k, kinds }) =>
          memory
            .recall(query, {
              k: Math.max(1, Math.min(maxToolK, k ?? options.defaultK ?? Memory.defaultRecallK)),
              namespace: [own, team],
              ...(kinds === undefined ? {} : { kinds })
            })
            .pipe(
              Effect.map((hits) =>
                hits.map((h) => ({
                  id: h.record.id,
                  kind: h.record.kind,
                  namespace: h.record.namespace,
                  text: h.record.text,
                  score: Number(h.scores.total.toFixed(4)),
                  createdAt: iso(h.record.createdAt)
                }))
              ),
              Effect.mapError(toFailure)
            ),
        memory_remember: ({ text, kind, importance, shared }) =>
          memory
            .remember({
              agent: options.agent,
              namespace: shared === true ? team : own,
              kind: kind ?? "fact",
              text,
              ...(importance === undefined ? {} : { importance })
            })
            .pipe(
              Effect.map((r) => ({ id: r.id, namespace: r.namespace })),
              Effect.mapError(toFailure)
            ),
        knowledge_query: ({ subject, predicate, object, asOf, history }) =>
          Effect.gen(function* () {
            const at = asOf === undefined ? undefined : Date.parse(asOf)
            if (at !== undefined && Number.isNaN(at)) {
              return yield* Effect.fail<ToolFailure>({ error: "InvalidDate", message: `asOf is not a date: ${asOf}` })
            }
            const facts = yield* kb
              .query({
                ...(subject === undefined ? {} : { subject }),
                ...(predicate === undefined ? {} : { predicate }),
                ...(object === undefined ? {} : { object }),
                ...(at === undefined ? {} : { asOf: at }),
                ...(history === undefined ? {} : { history })
              })
              .pipe(Effect.mapError(toFailure))
            return { count: facts.length, facts: KnowledgeBase.render(facts) }
          }),
        knowledge_assert: ({ subject, predicate, object, confidence, source }) =>
          kb
            .assert({
              subject,
              predicate,
              object,
              source: source ?? `agent:${options.agent}`,
              ...(confidence === undefined ? {} : { confidence })
            })
            .pipe(
              Effect.map((a) => ({ id: a.fact.id, created: a.created, superseded: a.superseded.map((f) => f.id) })),
              Effect.mapError(toFailure)
            )
      })
    })
  )

/** Handlers with their Memory and KnowledgeBase built from the given layers. */
export const layerWith = <E, R>(
  options: Options,
  services: Layer.Layer<Memory.Memory | KnowledgeBase.KnowledgeBase, E, R>
) => layer(options).pipe(Layer.provide(services))
