/**
 * The stream of every agent's events in one program: agents publish to it, and the audit trail, metrics, a
 * terminal view or an application subscribe to it. One hub per program, provided as a layer.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as Stream from "effect/Stream"
 * import { AgentEvents } from "@troupe/agent"
 *
 * const printAll = Effect.flatMap(AgentEvents.AgentEvents, (hub) =>
 *   hub.events.pipe(Stream.runForEach((event) => Effect.log(event._tag)))
 * )
 * ```
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as AgentEvent from "./AgentEvent.ts"

/** The hub's operations. */
export interface Service {
  /** Publishes one event to every subscriber (none is kept when nobody listens). */
  readonly publish: (event: AgentEvent.AgentEvent) => Effect.Effect<void>
  /** Every event published from the moment the stream is run. */
  readonly events: Stream.Stream<AgentEvent.AgentEvent>
  /** A subscription that starts now: use it when no event may be missed between subscribing and reading. */
  readonly subscribe: Effect.Effect<PubSub.Subscription<AgentEvent.AgentEvent>, never, Scope.Scope>
}

/** The events of every agent of the program. */
export class AgentEvents extends Context.Service<AgentEvents, Service>()("@troupe/agent/AgentEvents") {}

/** Builds a hub. */
export const make: Effect.Effect<Service> = Effect.map(PubSub.unbounded<AgentEvent.AgentEvent>(), (hub) => ({
  // The hub is unbounded, so publishing never waits: done in place, without the effectful surplus path.
  publish: (event) =>
    Effect.sync(() => {
      PubSub.publishUnsafe(hub, event)
    }),
  events: Stream.fromPubSub(hub),
  subscribe: PubSub.subscribe(hub)
}))

/** A hub as a layer. */
export const layer: Layer.Layer<AgentEvents> = Layer.effect(AgentEvents, make)
