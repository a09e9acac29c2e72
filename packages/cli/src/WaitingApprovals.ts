/**
 * What `troupe run` and `troupe orchestrate` do with an approval request that waits for a person: ask it at the
 * terminal, stop the command on it (exit 3, decided later with `troupe approvals`), or, with `--wait`, leave it
 * waiting for a decision made from another shell.
 *
 * The gate tells which requests wait for a person, once stored: not a policy's denial, a call `--yes` approves, or one
 * decided while the command was stopped (each of which publishes a request too).
 */
import type { ApprovalStore, Approvals } from "@troupe/agent"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"

/** The approvals a command's runs use, and the requests to ask at the terminal (none unless `interactive`). */
export interface Routed {
  readonly approvals: ApprovalStore.FileStore
  readonly toAsk: Queue.Dequeue<Approvals.Request>
}

/**
 * Routes the requests that wait for a person: to `toAsk` when `interactive`, nowhere when `wait` (they stay in the
 * store), to `stop` otherwise.
 */
export const route = (
  store: ApprovalStore.FileStore,
  options: {
    readonly interactive: boolean
    readonly wait: boolean
    readonly stop: (request: Approvals.Request) => Effect.Effect<void>
  }
): Effect.Effect<Routed> =>
  Effect.map(Queue.unbounded<Approvals.Request>(), (toAsk) => {
    const onWait = options.interactive
      ? (request: Approvals.Request) => Effect.asVoid(Queue.offer(toAsk, request))
      : options.wait
        ? undefined
        : options.stop
    return {
      approvals: onWait === undefined ? store : { ...store, gate: (gate) => store.gate({ ...gate, onWait }) },
      toAsk
    }
  })
