/**
 * The text of each step's answer as the model generates it, for whoever shows it live (a terminal, a web page).
 * One hub per program, provided as a layer beside `AgentEvents`; agents made while it is in context publish to it.
 *
 * This is not an event stream: deltas never reach the audit trail, the run journal or the metrics, whose record
 * of a step is its `AgentModelCalled` event with the whole text. A step streams only while somebody listens (a
 * subscription is open); otherwise it asks the model for the whole turn at once, the cheaper path. A step replayed
 * from a run's journal publishes no text (its text was shown when it ran), only its end.
 *
 * Every delta of a step is published before that step's `AgentModelCalled` event, a step's deltas put together are
 * its text, and the last one of a streamed step that completed is its `end` (with no text): a view that prints the
 * deltas as they come knows there when the step's text is complete. A step that fails midway may have published
 * deltas of an answer that never completed, and no end.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as Stream from "effect/Stream"
 * import { TextDeltas } from "@troupe/agent"
 *
 * const printLive = Effect.flatMap(TextDeltas.TextDeltas, (hub) =>
 *   hub.deltas.pipe(Stream.runForEach((d) => Effect.sync(() => process.stdout.write(d.delta))))
 * )
 * ```
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** A piece of the text of one step's answer. */
export interface TextDelta {
  readonly runId: string
  readonly agent: string
  readonly step: number
  readonly delta: string
  /** Set on the step's last delta (whose text is empty): its text is complete, its `AgentModelCalled` follows. */
  readonly end?: true | undefined
}

/** The hub's operations. */
export interface Service {
  /** Whether a subscription is open now: a step streams only then. */
  readonly listening: () => boolean
  /** Publishes one delta to every subscriber (none is kept when nobody listens). */
  readonly publish: (delta: TextDelta) => Effect.Effect<void>
  /** A subscription that starts now, and counts as listening until its scope closes. */
  readonly subscribe: Effect.Effect<PubSub.Subscription<TextDelta>, never, Scope.Scope>
  /** Every delta published while the stream runs (it counts as listening meanwhile). */
  readonly deltas: Stream.Stream<TextDelta>
}

/** The live text of every agent of the program. */
export class TextDeltas extends Context.Service<TextDeltas, Service>()("@troupe/agent/TextDeltas") {}

/** Builds a hub. */
export const make: Effect.Effect<Service> = Effect.map(PubSub.unbounded<TextDelta>(), (hub) => {
  let listeners = 0
  const subscribe = Effect.andThen(
    Effect.acquireRelease(
      Effect.sync(() => {
        listeners++
      }),
      () =>
        Effect.sync(() => {
          listeners--
        })
    ),
    PubSub.subscribe(hub)
  )
  return {
    listening: () => listeners > 0,
    publish: (delta) => (listeners === 0 ? Effect.void : Effect.asVoid(PubSub.publish(hub, delta))),
    subscribe,
    deltas: Stream.unwrap(Effect.map(subscribe, Stream.fromSubscription))
  }
})

/** A hub as a layer. */
export const layer: Layer.Layer<TextDeltas> = Layer.effect(TextDeltas, make)
