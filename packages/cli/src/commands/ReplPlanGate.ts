/**
 * Holding a run between its plan and its first step, until the person at the terminal says to go ahead.
 *
 * A run publishes its plan and acts at once; it has no pause of its own. Publishing is part of the run, though
 * (the run waits for it), so the session's event hub holds the publication of a first plan of several goals until
 * the decision is made: nothing is acted on before it. A declined plan stays held while the session cancels the run.
 * Time held counts against the run's `limits.timeout`, as the planning it belongs to does.
 */
import { type AgentEvent, AgentEvents } from "@troupe/agent"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** The session's gate. */
export interface PlanGate {
  /** Whether plans wait for a decision (at a terminal); elsewhere they are shown and carried out. */
  readonly asks: boolean
  /** The decision the run that just made its plan waits for. */
  waiting: Deferred.Deferred<boolean> | undefined
}

/** A gate; `asks` at a terminal. */
export const make = (asks: boolean): PlanGate => ({ asks, waiting: undefined })

/** Whether an event is a first plan of several goals: a multi-step run about to start. */
export const holds = (event: AgentEvent.AgentEvent): boolean =>
  event._tag === "AgentPlanMade" && event.revision === 1 && event.plan.goals.length > 1

/** Decides the plan waiting, if one is. */
export const decide = (gate: PlanGate, approved: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    const waiting = gate.waiting
    gate.waiting = undefined
    return waiting === undefined ? Effect.void : Effect.asVoid(Deferred.succeed(waiting, approved))
  })

/** The session's event hub, holding first plans of several goals when the gate asks. */
export const layer = (gate: PlanGate): Layer.Layer<AgentEvents.AgentEvents> =>
  Layer.effect(
    AgentEvents.AgentEvents,
    Effect.map(
      AgentEvents.make,
      (hub): AgentEvents.Service => ({
        ...hub,
        publish: (event) => {
          if (!gate.asks || !holds(event)) return hub.publish(event)
          const decision = Deferred.makeUnsafe<boolean>()
          gate.waiting = decision
          return Effect.andThen(
            hub.publish(event),
            Effect.flatMap(Deferred.await(decision), (approved) => (approved ? Effect.void : Effect.never))
          )
        }
      })
    )
  )
